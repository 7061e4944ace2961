import Foundation
import Testing
@testable import Split
@testable import SplitBench

/// The adaptive overlap of VLASH's chunk cycle (the next chunk asked for as many actions before
/// the end as the delay the client measured) and the paired comparison of the overlap sweep
/// (BENCHMARKS.md, "Robot control in VLASH's setup").
@Suite("Adaptive overlap")
struct AdaptiveOverlapTests {
    static let target = Point2(0.6, 0)

    /// A future-state session in the cycle with H = 32 and `overlap`, whose first chunk (asked
    /// for at step 0) arrives at `arrival`, measured as taking that many steps.
    static func session(_ overlap: ChunkOverlap, firstArrival arrival: Int) -> ControlSession {
        var session = ControlSession(settings: ControlSettings(mode: .futureStateAsync, horizon: 32, rollForward: DynamicsRollForward(),
                                                               overlap: overlap))
        let state = RobotState(position: .zero)
        if let first = session.plan(step: 0, state: state, target: target) {
            session.receive(ScriptedExpert(horizon: 32).chunk(state: state, target: target), for: first.id, atStep: arrival,
                            latencySteps: Double(arrival))
        }
        return session
    }

    /// The first step from `from` on at which `session` asks for a chunk (executing meanwhile).
    static func nextRequest(_ session: inout ControlSession, from: Int) -> (step: Int, request: ChunkRequest)? {
        let state = RobotState(position: .zero)
        for step in from..<(from + 64) {
            if let request = session.plan(step: step, state: state, target: target) { return (step, request) }
            _ = session.execute(step: step, state: state)
        }
        return nil
    }

    @Test("the adaptive overlap asks for the next chunk as many actions before the buffer ends as the last chunk took")
    func asksAsEarlyAsTheMeasuredDelay() {
        // The first chunk took 12 steps: it runs over steps 12 … 43, the next is asked for with 12 left.
        var adaptive = Self.session(.adaptive(minimum: 4), firstArrival: 12)
        let asked = Self.nextRequest(&adaptive, from: 12)
        #expect(asked?.step == 32)
        #expect(asked?.request.startStep == 44, "the chunk starts where the buffer ends")
        // A fixed 4 waits until 4 are left, and the chunk lands 8 steps after the buffer ran dry.
        var fixed = Self.session(4, firstArrival: 12)
        #expect(Self.nextRequest(&fixed, from: 12)?.step == 40)
    }

    @Test("the adaptive overlap follows the delays measured on earlier chunks and is never below its minimum")
    func followsTheMeasuredDelay() {
        // Nothing measured yet: the estimator's initial guess (4).
        let fresh = ControlSession(settings: ControlSettings(mode: .naiveAsync, horizon: 32, overlap: .adaptive(minimum: 4)))
        #expect(fresh.settings.overlapSteps(delayEstimateSteps: fresh.delay.steps) == 4)
        // A 2-step delay measured: still 4, VLASH's overlap.
        var short = Self.session(.adaptive(minimum: 4), firstArrival: 2)
        #expect(Self.nextRequest(&short, from: 2)?.step == 30)
        #expect(ChunkOverlap.adaptive(minimum: 6).steps(delayEstimateSteps: 3) == 6)
        #expect(ChunkOverlap.adaptive(minimum: 4).steps(delayEstimateSteps: 17) == 17)
        #expect(ChunkOverlap.fixed(4).steps(delayEstimateSteps: 17) == 4)
    }

    @Test("an overlap is at most the actions executed from one chunk: 16 of a 32-action chunk at action_quant_ratio 2")
    func cappedAtAChunk() {
        let settings = ControlSettings(mode: .futureStateAsync, horizon: 32, overlap: .adaptive(minimum: 4), actionQuantRatio: 2)
        #expect(settings.overlapSteps(delayEstimateSteps: 20) == 16)
        #expect(settings.overlapSteps(delayEstimateSteps: 9) == 9)
        let fixed = ControlSettings(mode: .naiveAsync, horizon: 32, overlap: 20, actionQuantRatio: 1)
        #expect(fixed.overlapSteps(delayEstimateSteps: 0) == 20)
        #expect(ControlSettings(mode: .naiveAsync, horizon: 32).overlapSteps(delayEstimateSteps: 8) == nil, "outside the cycle")
    }

    @Test("at d = 12 the adaptive overlap stalls the cycle's modes only while the first chunk is inferred; a fixed 4 stalls every cycle")
    func noStallsAtLongDelays() {
        var benchmark = RobotBenchmark(delays: [12], seeds: [1, 2], trackingSteps: 600, courseMaxSteps: 1200)
        benchmark.useArm()
        let expert = ScriptedExpert.teleoperated(horizon: 32)
        for mode in RobotBenchmark.Mode.allCases where mode.usesOverlap {
            let adaptive = benchmark.measure(mode, delay: 12, overlap: .adaptive(minimum: 4), policy: expert)
            let fixed = benchmark.measure(mode, delay: 12, overlap: 4, policy: expert)
            #expect(adaptive.meanIdleSteps == 12, "\(mode)")
            #expect(fixed.meanIdleSteps > 12 * 5, "\(mode)")
            #expect(adaptive.overlap == .adaptive(minimum: 4) && fixed.overlap == .fixed(4))
        }
    }

    @Test("the live client runs the adaptive overlap unless told otherwise, never below VLASH's 4")
    func liveDefault() {
        #expect(ChunkOverlap.liveDefault == .adaptive(minimum: 4))
        #expect(ChunkOverlap.liveDefault.steps(delayEstimateSteps: 2) == 4)
        #expect(ChunkOverlap.liveDefault.steps(delayEstimateSteps: 12) == 12)
    }

    @Test("an overlap is written and read as a number of steps, 'adaptive' or 'adaptive>=N'; anything else is refused by name")
    func parsing() throws {
        #expect(try ChunkOverlap(parsing: "8") == .fixed(8))
        #expect(try ChunkOverlap(parsing: "adaptive") == .adaptive(minimum: 4))
        #expect(try ChunkOverlap(parsing: "adaptive>=6") == .adaptive(minimum: 6))
        for bad in ["-1", "soon", "adaptive>=", "adaptive>=-2", ""] {
            #expect(throws: ControlError.invalidOverlap(bad)) { try ChunkOverlap(parsing: bad) }
        }
        #expect(ControlError.invalidOverlap("soon").description.contains("'adaptive'"))
        for overlap: ChunkOverlap in [.fixed(4), .adaptive(minimum: 4), .adaptive(minimum: 6)] {
            #expect(try ChunkOverlap(parsing: overlap.description) == overlap)
            let json = try JSONEncoder().encode([overlap])
            #expect(try JSONDecoder().decode([ChunkOverlap].self, from: json) == [overlap])
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ChunkOverlap].self, from: Data(#"["soon"]"#.utf8)) }
    }

    @Test("a paired difference is the mean of the seed-by-seed differences with its standard error")
    func pairedDifference() throws {
        let p = try #require(PairedDifference([3, 5, 7], [1, 2, 3]))
        #expect(p.mean == 3 && p.larger == 3 && p.count == 3)
        #expect(abs(p.standardError - 1 / 3.0.squareRoot()) < 1e-12)
        #expect(abs(p.standardErrors - 3 * 3.0.squareRoot()) < 1e-9)
        let mixed = try #require(PairedDifference([1, 2], [2, 1]))
        #expect(mixed.mean == 0 && mixed.larger == 1)
        #expect(PairedDifference([1, 2], [1]) == nil, "not paired")
        #expect(PairedDifference([], []) == nil)
    }
}
