import Foundation
import Testing
@testable import Split
@testable import SplitBench

/// VLASH's chunk cycle, the RTC-style blend, injected disturbances and the reaction-time
/// definition of the robot benchmark (BENCHMARKS.md, "Robot control").
@Suite("Chunk cycle and reaction time")
struct ChunkCycleTests {
    static let target = Point2(0.6, 0)

    /// A session in the cycle with H = 32 and `overlap`, its first chunk (the expert's, from the
    /// origin) received at step 0.
    static func cycleSession(_ mode: ControlMode, overlap: ChunkOverlap, aggregation: ActionChunkBuffer.Aggregation = .replace)
        -> (ControlSession, [Point2]) {
        var session = ControlSession(settings: ControlSettings(mode: mode, horizon: 32, aggregation: aggregation,
                                                               rollForward: DynamicsRollForward(), overlap: overlap))
        let chunk = ScriptedExpert(horizon: 32).chunk(state: RobotState(position: .zero), target: target)
        let first = session.plan(step: 0, state: RobotState(position: .zero), target: target)
        #expect(first?.startStep == 0)
        session.receive(chunk, for: first?.id ?? -1, atStep: 0, latencySteps: 0)
        return (session, chunk)
    }

    @Test("in VLASH's cycle the next chunk is asked for when `overlap` actions are left, and starts where they end")
    func cycleTrigger() {
        let (start, chunk) = Self.cycleSession(.futureStateAsync, overlap: 4)
        var session = start
        var state = RobotState(position: .zero)
        let robot = PointMassRobot()
        for step in 0..<28 {
            #expect(session.plan(step: step, state: state, target: Self.target) == nil, "asked early at step \(step)")
            state = robot.step(state, command: session.execute(step: step, state: state).command)
        }
        guard let next = session.plan(step: 28, state: state, target: Self.target) else {
            Issue.record("no request with 4 actions left")
            return
        }
        #expect(next.startStep == 32)
        // Future state: the measured state run through the 4 actions left (steps 28 … 31).
        let rolled = chunk[28...31].reduce(state) { robot.step($0, command: $1) }
        #expect(next.state == rolled)
        #expect(session.plan(step: 29, state: state, target: Self.target) == nil, "a second request while one is in flight")
    }

    @Test("naive async in the cycle conditions on the state measured now, future-state on the state where the buffer ends")
    func naiveConditionsOnNow() {
        var (naive, _) = Self.cycleSession(.naiveAsync, overlap: 8)
        var (future, _) = Self.cycleSession(.futureStateAsync, overlap: 8)
        let measured = RobotState(position: Point2(0.3, 0.1), velocity: Point2(1, 0))
        for step in 0..<24 {
            _ = naive.execute(step: step, state: measured)
            _ = future.execute(step: step, state: measured)
        }
        let a = naive.plan(step: 24, state: measured, target: Self.target)
        let b = future.plan(step: 24, state: measured, target: Self.target)
        #expect(a?.state == measured)
        #expect(a?.startStep == 32 && b?.startStep == 32)
        #expect(b?.state != measured)
    }

    @Test("a chunk that arrives after the buffer ran dry starts on arrival, and the robot held meanwhile")
    func lateChunkStartsOnArrival() {
        let (start, chunk) = Self.cycleSession(.futureStateAsync, overlap: 4)
        var session = start
        let state = RobotState(position: .zero)
        for step in 0..<28 { _ = session.execute(step: step, state: state) }
        guard let next = session.plan(step: 28, state: state, target: Self.target) else {
            Issue.record("no request")
            return
        }
        for step in 28..<35 { _ = session.execute(step: step, state: state) }
        let held = session.execute(step: 35, state: state)
        #expect(held.idle && held.command == chunk[31])
        let second = (0..<32).map { Point2(0.01 * Double($0), 1) }
        session.receive(second, for: next.id, atStep: 36, latencySteps: 8)
        let first = session.execute(step: 36, state: state)
        #expect(first.command == second[0] && first.observedAtStep == 28)
        #expect(session.buffer.remaining(from: 36) == 32)
    }

    @Test("with VLASH's action_quant_ratio 2 a chunk of 32 runs actions 1, 3, 5, … one per period, and the cycle is 16 periods")
    func quantizedExecution() {
        let state = RobotState(position: .zero)
        let chunk = (0..<32).map { Point2(0.01 * Double($0), 0) }
        guard var session = ControlSession.withFirstChunk(chunk, target: Self.target, settings: ControlSettings(
            mode: .futureStateAsync, horizon: 32, rollForward: DynamicsRollForward(), overlap: 4, actionQuantRatio: 2)) else {
            Issue.record("no request")
            return
        }
        #expect(session.buffer.remaining(from: 0) == 16)
        for step in 0..<12 {
            #expect(session.execute(step: step, state: state).command == chunk[2 * step + 1])
            #expect(session.plan(step: step, state: state, target: Self.target) == nil)
        }
        #expect(session.plan(step: 12, state: state, target: Self.target)?.startStep == 16)
    }

    @Test("the RTC soft mask hands over from the old chunk to the new over the actions left, and names the dominant chunk")
    func softMask() {
        var buffer = ActionChunkBuffer(aggregation: .softMask)
        buffer.splice(Array(repeating: Point2(0, 0), count: 10), startStep: 0, observedAtStep: 0, notBefore: 0)
        // A chunk observed at step 2 arrives at step 4: old actions left for steps 4 … 9.
        buffer.splice(Array(repeating: Point2(1, 1), count: 12), startStep: 2, observedAtStep: 2, notBefore: 4)
        #expect(buffer.action(at: 2)?.observedAtStep == 0, "executed steps are not rewritten")
        var previous = 0.0
        for step in 4..<10 {
            let c = Double(10 - step) / 7
            let oldWeight = c * (exp(c) - 1) / (M_E - 1)
            let entry = buffer.action(at: step)
            #expect(abs((entry?.command.x ?? -1) - (1 - oldWeight)) < 1e-12)
            #expect((entry?.command.x ?? -1) > previous, "the new chunk's share grows step by step")
            previous = entry?.command.x ?? previous
            #expect(entry?.observedAtStep == (oldWeight > 0.5 ? 0 : 2))
        }
        #expect(buffer.action(at: 4)?.observedAtStep == 0 && buffer.action(at: 9)?.observedAtStep == 2)
        #expect(buffer.action(at: 10)?.command == Point2(1, 1) && buffer.action(at: 13)?.command == Point2(1, 1))
    }

    /// A hand-made trace: every step commands the origin; `observed[i]` is step i's dominant observation.
    static func trace(observed: [Int?], jumps: Set<Int> = [], pushes: Set<Int> = []) -> ControlTrace {
        var trace = ControlTrace()
        trace.steps = observed.enumerated().map { i, o in
            .init(position: .zero, target: .zero, command: .zero, idle: o == nil, observedAtStep: o, jumped: jumps.contains(i),
                  pushed: pushes.contains(i), error: 0)
        }
        return trace
    }

    @Test("an action responds to a disturbance at step j when its dominant observation was taken at or after j")
    func reactionDefinition() {
        // Push at 3, jump at 6: actions observed at 0 until step 5, idle at 6 … 7, then from
        // an observation at 4 (after the push, before the jump), then one at 6.
        let observed: [Int?] = [0, 0, 0, 0, 0, 0, nil, nil, 4, 4, 4, 6, 6, 6]
        let metrics = ControlMetrics(trace: Self.trace(observed: observed, jumps: [6], pushes: [3]))
        #expect(metrics.reactionSteps == [5, 5])
        #expect(metrics.idleSteps == 2)
        // A disturbance nothing answered before the end is left out, not counted as 0.
        let unanswered = ControlMetrics(trace: Self.trace(observed: [0, 0, 0, 0, 0], pushes: [2]))
        #expect(unanswered.reactionSteps.isEmpty)
        // An action observed exactly at the disturbance's step responds with reaction 0.
        #expect(ControlMetrics(trace: Self.trace(observed: [0, 2, 2], pushes: [1])).reactionSteps == [0])
    }

    @Test("reaction quantiles are nearest-rank")
    func quantiles() {
        #expect(ControlMetrics.quantile([4, 1, 3, 2], 0.5) == 2)
        #expect(ControlMetrics.quantile([4, 1, 3, 2], 0.9) == 4)
        #expect(ControlMetrics.quantile(Array(1...10).map(Double.init), 0.9) == 9)
        #expect(ControlMetrics.quantile([], 0.5) == 0)
    }

    @Test("jerk is zero for commands at constant velocity and grows with a kink")
    func jerk() {
        var straight = Self.trace(observed: Array(repeating: 0, count: 8))
        for i in straight.steps.indices { straight.steps[i].command = Point2(0.01 * Double(i), 0) }
        #expect(ControlMetrics(trace: straight).rmsJerk < 1e-6)
        var kinked = straight
        kinked.steps[5].command.y = 0.05
        #expect(ControlMetrics(trace: kinked).rmsJerk > 100)
    }

    @Test("pushes come at seeded random times within the gap and strength asked for, and move the measured robot")
    func pushes() {
        let schedule = PushSchedule.random(seed: 5, steps: 900)
        #expect(schedule == PushSchedule.random(seed: 5, steps: 900))
        #expect(schedule != PushSchedule.random(seed: 6, steps: 900))
        let steps = schedule.pushes.keys.sorted()
        #expect(steps.count >= 5)
        #expect(zip(steps, steps.dropFirst()).allSatisfy { (60...150).contains($1 - $0) })
        #expect(schedule.pushes.values.allSatisfy { (0.15 - 1e-12...0.3 + 1e-12).contains(length($0)) })
        let trace = SimulatedControlRun.run(scenario: .tracking(seed: 1, steps: 300), settings: ControlSettings(mode: .sync),
                                            policy: ScriptedExpert(), latency: LatencyModel(.constant(steps: 0)), pushes: schedule)
        let pushed = trace.steps.indices.filter { trace.steps[$0].pushed }
        #expect(pushed == steps.filter { $0 < 300 })
        for i in pushed {
            let free = PointMassRobot().step(RobotState(position: trace.steps[i - 1].position), command: trace.steps[i - 1].command)
            #expect(length(trace.steps[i].position - free.position) > 0.1, "step \(i) not displaced")
        }
    }

    @Test("a course with relocations moves the current waypoint at seeded random times and marks the jump")
    func courseRelocation() {
        var plain = TargetScenario.course(seed: 9, maxSteps: 600)
        var moved = TargetScenario.course(seed: 9, maxSteps: 600, relocationSeed: 3)
        var changes = 0
        for step in 0..<600 {
            let a = plain.advance(step: step, robot: Point2(5, 5))
            let b = moved.advance(step: step, robot: Point2(5, 5))
            if step > 0 && b.jumped {
                changes += 1
                #expect(!a.jumped)
            }
        }
        #expect(changes >= 4 && changes <= 10)
    }

    @Test("the H = 32 policy loads with 32 actions per chunk and imitates the expert, also from a moving state")
    func policyH32() throws {
        let path = BundledModelTests.models.appendingPathComponent("split-robot-policy-h32.gguf").path
        let policy = try TransformerPolicy(model: try ModelFile(path: path).load())
        #expect(policy.horizon == 32)
        let expert = ScriptedExpert(horizon: 32)
        var worst = 0.0
        for (p, v, g) in [(Point2(0, 0), Point2(0, 0), Point2(0.5, 0.3)), (Point2(-0.6, 0.2), Point2(0.8, -0.5), Point2(0.4, -0.7)),
                          (Point2(0.3, 0.3), Point2(0, 0), Point2(0.32, 0.29))] {
            let state = RobotState(position: p, velocity: v)
            let learned = try policy.chunk(state: state, target: g)
            #expect(learned.count == 32)
            for (a, b) in zip(learned, expert.chunk(state: state, target: g)) { worst = max(worst, length(a - b)) }
        }
        #expect(worst < 0.05, "largest difference from the expert \(worst)")
    }

    @Test("the orbiting target circles at the speed asked for and never jumps after it appears")
    func orbit() {
        var scenario = TargetScenario.orbit(seed: 4, steps: 300, speed: 0.6)
        var previous = scenario.advance(step: 0, robot: .zero)
        #expect(previous.jumped)
        for step in 1..<300 {
            let now = scenario.advance(step: step, robot: .zero)
            #expect(!now.jumped)
            #expect(abs(length(now.target) - 0.5) < 1e-9)
            #expect(abs(length(now.target - previous.target) * 30 - 0.6) < 0.01, "step \(step)")
            previous = now
        }
    }

    @Test("in the cycle with overlap ≥ d the async modes stall only while the first chunk is inferred; sync stalls d per chunk")
    func idleSteps() {
        let benchmark = RobotBenchmark(delays: [8], overlaps: [8], seeds: [1, 2], trackingSteps: 600, courseMaxSteps: 1200)
        let expert = ScriptedExpert(horizon: 32)
        for mode in RobotBenchmark.Mode.allCases {
            let row = benchmark.measure(mode, delay: 8, overlap: 8, policy: expert)
            if mode == .sync {
                #expect(row.meanIdleSteps > 8 * 10, "\(mode)")
            } else if mode.usesOverlap {
                #expect(row.meanIdleSteps == 8, "\(mode)")
            }
            #expect(row.reactionSteps.allSatisfy { $0 >= 8 }, "\(mode): a reaction faster than the inference delay")
        }
    }
}
