import Foundation
import Testing
@testable import Split
@testable import SplitBench

/// VLASH's `n_action_steps` in the chunk cycle: how much of each chunk the robot runs before the
/// next takes over, fixed or adaptive (BENCHMARKS.md, "Robot control in VLASH's setup").
@Suite("Chunk action steps")
struct ChunkActionStepsTests {
    static let target = Point2(0.6, 0)
    /// A 32-action chunk of distinct commands.
    static let chunk = (0..<32).map { Point2(0.01 * Double($0), 0) }

    @Test("adaptive runs half the chunk, or as many periods as the measured delay when longer, counted before r's thinning")
    func adaptiveCount() {
        func adaptive(r: Int, d: Int, blend: Bool = false) -> Int {
            ChunkActionSteps.adaptive.actions(horizon: 32, quantRatio: r, mode: .futureStateAsync, alignedByObservation: blend,
                                              delayEstimateSteps: d)
        }
        #expect(adaptive(r: 1, d: 4) == 16)
        #expect(adaptive(r: 1, d: 8) == 16)
        #expect(adaptive(r: 1, d: 20) == 20)
        #expect(adaptive(r: 2, d: 8) == 16, "8 periods of actions 1, 3, …, 15")
        #expect(adaptive(r: 2, d: 12) == 24)
        #expect(adaptive(r: 2, d: 20) == 32, "never more than the chunk")
        #expect(adaptive(r: 1, d: 8, blend: true) == 24, "a blend's chunk also covers the periods it spent in flight")
        #expect(ChunkActionSteps.fixed(40).actions(horizon: 32, quantRatio: 1, mode: .naiveAsync, alignedByObservation: false,
                                                   delayEstimateSteps: 0) == 32)
        #expect(ChunkActionSteps.fixed(1).actions(horizon: 32, quantRatio: 2, mode: .naiveAsync, alignedByObservation: false,
                                                  delayEstimateSteps: 0) == 2, "at least one period")
        #expect(ChunkActionSteps.adaptive.actions(horizon: 32, quantRatio: 1, mode: .sync, alignedByObservation: false,
                                                  delayEstimateSteps: 20) == 32, "sync runs whole chunks")
    }

    @Test("with n_action_steps 16 the cycle runs 16 actions of a 32-action chunk and starts the next where they end")
    func runsTheFirstActions() {
        let state = RobotState(position: .zero)
        guard var session = ControlSession.withFirstChunk(Self.chunk, target: Self.target, settings: ControlSettings(
            mode: .futureStateAsync, horizon: 32, rollForward: DynamicsRollForward(), overlap: 4, actionSteps: .fixed(16))) else {
            Issue.record("no request")
            return
        }
        #expect(session.buffer.remaining(from: 0) == 16)
        for step in 0..<12 {
            #expect(session.execute(step: step, state: state).command == Self.chunk[step])
            #expect(session.plan(step: step, state: state, target: Self.target) == nil)
        }
        #expect(session.plan(step: 12, state: state, target: Self.target)?.startStep == 16)
        for step in 12..<16 { _ = session.execute(step: step, state: state) }
        #expect(session.execute(step: 16, state: state).idle, "the chunk's actions 16 … 31 are not run")
    }

    @Test("n_action_steps counts the chunk's own actions: 16 at action_quant_ratio 2 are 8 periods, in sync too")
    func countedBeforeThinning() {
        let state = RobotState(position: .zero)
        for mode in [ControlMode.futureStateAsync, .sync] {
            guard var session = ControlSession.withFirstChunk(Self.chunk, target: Self.target, settings: ControlSettings(
                mode: mode, horizon: 32, overlap: mode == .sync ? nil : 4, actionQuantRatio: 2, actionSteps: .fixed(16))) else {
                Issue.record("no request in \(mode)")
                continue
            }
            #expect(session.buffer.remaining(from: 0) == 8, "\(mode)")
            #expect((0..<8).map { session.execute(step: $0, state: state).command } == (0..<8).map { Self.chunk[2 * $0 + 1] }, "\(mode)")
        }
    }

    @Test("adaptive n follows the latency the session measured: 20 actions after a 20-step answer, 16 after a 4-step one")
    func adaptiveFollowsTheMeasuredDelay() {
        for (latency, buffered) in [(20, 20), (4, 16)] {
            let settings = ControlSettings(mode: .futureStateAsync, horizon: 32, rollForward: DynamicsRollForward(),
                                           overlap: .adaptive(minimum: 4), actionSteps: .adaptive)
            guard let session = ControlSession.withFirstChunk(Self.chunk, target: Self.target, settings: settings,
                                                              arrival: latency) else {
                Issue.record("no request")
                continue
            }
            #expect(session.buffer.remaining(from: latency) == buffered, "latency \(latency)")
        }
        // Sync at the adaptive n runs the whole chunk whatever the latency.
        let sync = ControlSession.withFirstChunk(Self.chunk, target: Self.target, settings: ControlSettings(
            mode: .sync, horizon: 32, actionSteps: .adaptive), arrival: 20)
        #expect(sync?.buffer.remaining(from: 20) == 32)
    }

    @Test("a blend's chunk, aligned by its observation, keeps the periods it spent in flight: 24 actions after an 8-step answer")
    func blendAddsTheDelay() {
        for (steps, left) in [(ChunkActionSteps?.none, 24), (.adaptive, 16), (.fixed(16), 8)] {
            let settings = ControlSettings(mode: .naiveAsync, horizon: 32, aggregation: .softMask, overlap: .adaptive(minimum: 4),
                                           actionSteps: steps)
            guard let session = ControlSession.withFirstChunk(Self.chunk, target: Self.target, settings: settings, arrival: 8) else {
                Issue.record("no request")
                continue
            }
            #expect(session.buffer.remaining(from: 8) == left, "\(String(describing: steps))")
        }
    }

    @Test("the overlap is at most the periods a chunk runs for, and adaptive n grows with the measured delay")
    func overlapCappedByTheRun() {
        let half = ControlSettings(mode: .futureStateAsync, horizon: 32, overlap: .adaptive(minimum: 4), actionSteps: .fixed(16))
        #expect(half.overlapSteps(delayEstimateSteps: 20) == 16)
        let adaptive = ControlSettings(mode: .futureStateAsync, horizon: 32, overlap: .adaptive(minimum: 4), actionSteps: .adaptive)
        #expect(adaptive.overlapSteps(delayEstimateSteps: 20) == 20, "n grew to 20 periods, so the overlap can be the delay")
        #expect(adaptive.chunkActions(delayEstimateSteps: 20) == 20)
        #expect(adaptive.chunkActions(delayEstimateSteps: 3) == 16)
        #expect(ControlSettings(mode: .futureStateAsync, horizon: 32).chunkActions(delayEstimateSteps: 20) == 32, "nil: whole chunks")
    }

    @Test("at r = 1, d = 20 future-state async loses to naive on tracking error with whole chunks and wins with adaptive n")
    func adaptiveStepsWinAtLongDelays() {
        var benchmark = RobotBenchmark(delays: [20], seeds: Array(1...8), trackingSteps: 900)
        benchmark.useArm()
        benchmark.runsCourse = false
        let expert = ScriptedExpert.teleoperated(horizon: 32)
        func naiveMinusFuture(_ steps: ChunkActionSteps?) -> [Double] {
            benchmark.actionSteps = steps
            let naive = benchmark.measure(.naiveAsync, delay: 20, overlap: .adaptive(minimum: 4), policy: expert)
            let future = benchmark.measure(.futureStateAsync, delay: 20, overlap: .adaptive(minimum: 4), policy: expert)
            #expect(future.actionSteps == steps)
            return zip(naive.trackingErrorPerSeed, future.trackingErrorPerSeed).map { $0 - $1 }
        }
        let whole = naiveMinusFuture(nil)
        let adaptive = naiveMinusFuture(.adaptive)
        #expect(whole.reduce(0, +) < 0, "whole chunks: future-state carries the arm on to a target that jumped")
        #expect(adaptive.allSatisfy { $0 > 0 }, "adaptive n: future-state lower in every seed \(adaptive)")
    }

    @Test("n_action_steps is written and read as a number of actions or 'adaptive'; anything else is refused by name")
    func parsing() throws {
        #expect(try ChunkActionSteps(parsing: "16") == .fixed(16))
        #expect(try ChunkActionSteps(parsing: " adaptive ") == .adaptive)
        for bad in ["0", "-3", "half", ""] {
            #expect(throws: ControlError.invalidActionSteps(bad)) { try ChunkActionSteps(parsing: bad) }
        }
        let encoded = try JSONEncoder().encode([ChunkActionSteps.fixed(16), .adaptive])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["16","adaptive"]"#)
        #expect(try JSONDecoder().decode([ChunkActionSteps].self, from: encoded) == [.fixed(16), .adaptive])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ChunkActionSteps].self, from: Data(#"["x"]"#.utf8)) }
    }
}

extension ControlSession {
    /// A session with `settings` whose first request (at step 0, from rest) was answered with
    /// `chunk` at step `arrival`, measured as taking that many steps; nil when no request was due.
    static func withFirstChunk(_ chunk: [Point2], target: Point2, settings: ControlSettings, arrival: Int = 0) -> ControlSession? {
        var session = ControlSession(settings: settings)
        guard let first = session.plan(step: 0, state: RobotState(position: .zero), target: target) else { return nil }
        session.receive(chunk, for: first.id, atStep: arrival, latencySteps: Double(arrival))
        return session
    }
}
