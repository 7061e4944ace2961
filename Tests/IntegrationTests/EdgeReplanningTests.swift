import Foundation
import Testing
@testable import Split
@testable import SplitBench

/// An edge service planning its split from profiles, in front of an in-process cloud behind the
/// link emulator whose round trip is changed under it (the relay is restarted on the same port
/// with another delay; that cuts the edge's kept connection, and its next request goes over a
/// new one through the new relay).
@Suite("Edge re-plans the split when its link drifts", .serialized)
struct EdgeReplanningTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    static let prompt = "Hello, Split! the edge"

    /// An edge whose every layer costs 15 ms and a cloud that costs next to nothing: on a 30 ms
    /// link the split wins (≈ 30 ms a token against ≈ 75 ms local), on a 300 ms link local does.
    static let edge = DeviceProfile(
        name: "slow-edge", description: "test", cores: .init(1, source: "test"), memoryGiB: .init(8, source: "test"),
        gemmGFLOPPerSecond: .init(1000, source: "test"), memoryBandwidthGBPerSecond: .init(1000, source: "test"),
        layerOverheadMicroseconds: .init(15_000, source: "test"))
    static let cloud = DeviceProfile(
        name: "fast-cloud", description: "test", cores: .init(64, source: "test"), memoryGiB: .init(64, source: "test"),
        gemmGFLOPPerSecond: .init(1e6, source: "test"), memoryBandwidthGBPerSecond: .init(1e6, source: "test"))
    static func network(roundTripMilliseconds: Double) -> NetworkProfile {
        NetworkProfile(name: "assumed", description: "test", roundTripMilliseconds: .init(roundTripMilliseconds, source: "test"),
                       jitterMilliseconds: .init(0, source: "test"), uplinkMegabitsPerSecond: .init(1000, source: "test"),
                       downlinkMegabitsPerSecond: .init(1000, source: "test"))
    }

    func relay(to port: UInt16, listenPort: UInt16 = 0, oneWayDelaySeconds: Double) throws -> (LinkEmulator, UInt16) {
        var configuration = LinkEmulatorConfiguration(targetPort: port, oneWayDelaySeconds: oneWayDelaySeconds)
        configuration.listenPort = listenPort
        let relay = LinkEmulator(configuration: configuration)
        return (relay, try relay.start())
    }

    @Test("the round trip grows tenfold: the edge re-plans to local for new sessions, and splits again when it recovers")
    func replansWhenTheRoundTripDrifts() async throws {
        let edgeKeys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [edgeKeys.publicKey])
        defer { cloud.stop() }
        let cloudPort = try #require(UInt16(cloud.endpoint.address.split(separator: ":").last ?? ""))
        var (relay, relayPort) = try relay(to: cloudPort, oneWayDelaySeconds: 0.015)
        defer { relay.stop() }
        let link = EdgeLinkConfiguration(
            endpoints: [CloudEndpoint(address: "tcp://127.0.0.1:\(relayPort)", serverKey: cloud.endpoint.serverKey)],
            clientKeys: edgeKeys, deadAfterSeconds: 5)
        let settings = LinkReplanner.Configuration(edge: Self.edge, cloud: Self.cloud, network: Self.network(roundTripMilliseconds: 30),
                                                   encodings: [.f32], threshold: 0.5, probeIntervalSeconds: 0.2)
        let service = try EdgeService(configuration: .init(modelPath: Self.modelPath, splitLayer: nil, encoding: .f32, link: link,
                                                           workers: 1, replanning: settings))
        let layers = service.file.configuration.layerCount
        #expect(service.defaultStrategy == "split(k=0,f32)")
        let request = CompletionRequest(prompt: Self.prompt, maxTokens: 12)
        let expected = try LocalGenerator(model: try service.file.load(), tokenizer: service.file.tokenizer!).generate(request).text

        // 30 ms as assumed: no re-plan.
        let first = try await service.complete(request) { _ in }
        #expect(first.strategy == "split(k=0,f32)")
        #expect(first.text == expected)
        #expect(service.statistics.replans == 0)

        // 300 ms: the session under way keeps its split, and re-plans once its round trips show it.
        relay.stop()
        (relay, _) = try self.relay(to: cloudPort, listenPort: relayPort, oneWayDelaySeconds: 0.15)
        let second = try await service.complete(request) { _ in }
        #expect(second.strategy == "split(k=0,f32)")
        #expect(second.text == expected)
        let replan = try #require(service.statistics.lastReplan)
        #expect(service.statistics.replans == 1)
        #expect(replan.strategy == "local" && replan.previousStrategy == "split(k=0,f32)")
        #expect(replan.roundTripSeconds > 0.2 && replan.roundTripSeconds < 1, "\(replan)")
        #expect(service.defaultStrategy == "local")
        let metrics = service.metrics.registry.emitToString()
        #expect(MetricsExposition.value(of: "split_edge_replans_total", in: metrics) == 1)
        #expect(MetricsExposition.value(of: "split_edge_plan_split_layer", in: metrics) == Double(layers))

        // The next session runs locally.
        let third = try await service.complete(request) { _ in }
        #expect(third.strategy == "local")
        #expect(third.text == expected)

        // Back to 30 ms: the edge's pings (no forward round trips while local) show it, and it splits again.
        relay.stop()
        (relay, _) = try self.relay(to: cloudPort, listenPort: relayPort, oneWayDelaySeconds: 0.015)
        let deadline = Date().addingTimeInterval(30)
        while service.defaultStrategy == "local" && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(service.defaultStrategy == "split(k=0,f32)")
        #expect(service.statistics.replans == 2)
        let fourth = try await service.complete(request) { _ in }
        #expect(fourth.strategy == "split(k=0,f32)")
        #expect(fourth.text == expected)
        #expect(MetricsExposition.value(of: "split_edge_plan_split_layer", in: service.metrics.registry.emitToString()) == 0)
    }
}
