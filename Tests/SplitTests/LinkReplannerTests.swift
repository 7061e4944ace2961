import Foundation
import Testing
@testable import Split

@Suite("Re-planning from the edge's own round trips")
struct LinkReplannerTests {
    static let store = ProfileStoreTests.store

    /// A Pi in front of an A100: k = 0 on the LAN, local over a satellite link.
    static func replanner(network: String = "ethernet-lan", threshold: Double = 0.5) throws -> LinkReplanner {
        try LinkReplanner(shape: SplitPlannerTests.smolLM, configuration: .init(
            edge: try store.device("raspberry-pi-4"), cloud: try store.device("cloud-gpu-a100"),
            network: try store.network(network), threshold: threshold))
    }

    /// A decode step's round trip on `replanner`'s current link plus `extra` seconds.
    static func step(_ replanner: LinkReplanner, roundTripSeconds: Double) -> CloudRoundTrip {
        let k = replanner.choice.splitLayer
        let cloud = LayerTimeModel(shape: SplitPlannerTests.smolLM, device: replanner.configuration.cloud)
        let compute = cloud.decodeSeconds(layers: k..<30, context: CostModel.Workload().meanDecodeContext) + cloud.headSeconds
        return CloudRoundTrip(seconds: roundTripSeconds + compute, requestBytes: 700, replyBytes: 80, rows: 1)
    }

    @Test("the start plan is the planner's; round trips like the assumed link change nothing")
    func steadyLinkKeepsThePlan() throws {
        let replanner = try Self.replanner()
        let planned = try SplitPlannerTests.planner(edge: "raspberry-pi-4", cloud: "cloud-gpu-a100", network: "ethernet-lan").plan()
        #expect(replanner.choice == planned.choice)
        for _ in 0..<20 {
            #expect(replanner.observe(Self.step(replanner, roundTripSeconds: replanner.network.roundTripSeconds), splitLayer: 0) == nil)
        }
        #expect(replanner.replans == 0)
    }

    @Test("a sustained satellite-like round trip re-plans to what the planner picks for that link, once")
    func driftReplans() throws {
        let replanner = try Self.replanner()
        let before = replanner.choice.strategy
        var replans: [LinkReplanner.Replan] = []
        for _ in 0..<20 {
            if let replan = replanner.observe(Self.step(replanner, roundTripSeconds: 0.6), splitLayer: replanner.choice.splitLayer) {
                replans.append(replan)
            }
        }
        #expect(replans.count == 1)
        let replan = try #require(replans.first)
        #expect(replan.previousStrategy == before)
        #expect(abs(replan.roundTripSeconds - 0.6) < 0.01, "\(replan)")
        // The same choice the planner makes for a profile with the measured round trip.
        var measured = try Self.store.network("ethernet-lan")
        measured.roundTripMilliseconds = .init(replan.roundTripSeconds * 1e3, source: "test")
        let direct = try SplitPlanner(costModel: CostModel(shape: SplitPlannerTests.smolLM, edge: try Self.store.device("raspberry-pi-4"),
                                                           cloud: try Self.store.device("cloud-gpu-a100"), network: measured)).plan()
        #expect(replanner.choice.strategy == direct.choice.strategy)
        #expect(replanner.choice.strategy != before)
    }

    @Test("one slow round trip among normal ones is not a drift; failed requests are not samples")
    func outliersAndFailuresIgnored() throws {
        let replanner = try Self.replanner()
        let normal = replanner.network.roundTripSeconds
        for index in 0..<30 {
            let trip = Self.step(replanner, roundTripSeconds: index % 4 == 0 ? 0.5 : normal)
            #expect(replanner.observe(trip, splitLayer: 0) == nil)
            let failed = CloudRoundTrip(seconds: 2, requestBytes: 700, replyBytes: 0, rows: 1)
            #expect(replanner.observe(failed, splitLayer: 0) == nil)
        }
        #expect(replanner.replans == 0)
    }

    @Test("large requests measure the bandwidth: a link far slower than assumed re-plans with the measured rate")
    func bandwidthDrift() throws {
        let replanner = try Self.replanner()
        let roundTrip = replanner.network.roundTripSeconds
        // 1 MB prompts at 10 Mbit/s instead of the LAN's 940.
        var replan: LinkReplanner.Replan?
        for _ in 0..<9 where replan == nil {
            let bytes = 1_000_000
            let cloud = LayerTimeModel(shape: SplitPlannerTests.smolLM, device: replanner.configuration.cloud)
            let compute = cloud.prefillSeconds(layers: 0..<30, tokens: 400) + cloud.headSeconds
            let trip = CloudRoundTrip(seconds: roundTrip + compute + Double(bytes) * 8 / 10e6, requestBytes: bytes, replyBytes: 100, rows: 400)
            replan = replanner.observe(trip, splitLayer: 0)
        }
        let measured = try #require(replan)
        #expect(abs(measured.bitsPerSecond - 10e6) / 10e6 < 0.05, "\(measured)")
        #expect(replanner.network.uplinkBitsPerSecond == measured.bitsPerSecond)
    }

    @Test("heartbeat pings count as round trips as they are")
    func pingsCount() throws {
        let replanner = try Self.replanner()
        var replan: LinkReplanner.Replan?
        for _ in 0..<9 where replan == nil { replan = replanner.observe(pingSeconds: 0.6) }
        #expect(replan?.roundTripSeconds == 0.6)
    }

    @Test("a split layer below what the clouds serve is never chosen")
    func lowestSplitLayerHonoured() throws {
        let replanner = try LinkReplanner(shape: SplitPlannerTests.smolLM, configuration: .init(
            edge: try Self.store.device("raspberry-pi-4"), cloud: try Self.store.device("cloud-gpu-a100"),
            network: try Self.store.network("ethernet-lan"), lowestSplitLayer: 12))
        #expect(replanner.choice.splitLayer >= 12)
    }
}
