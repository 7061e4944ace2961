import Foundation
import Testing
@testable import Split
@testable import SplitBench

/// The teleoperation-paced arm, the path task passed through without stopping, and a control
/// loop that adopts the mode the edge chose (BENCHMARKS.md, "Robot control in VLASH's setup").
@Suite("Arm, path task and adopted control modes")
struct ArmPathTests {
    /// The bundled policies, and whether each is the arm policy (trained with a next waypoint).
    static let shippedPolicies = [("split-robot-policy.gguf", false), ("split-robot-policy-h32.gguf", false),
                                  ("split-robot-policy-arm.gguf", true)]

    @Test("the arm's velocity changes by at most its acceleration limit per period, and reaches the speed limit")
    func accelerationLimit() {
        let arm = PointMassRobot.arm
        var state = RobotState(position: Point2(-0.9, 0))
        var fastest = 0.0
        for _ in 0..<30 {
            let next = arm.step(state, command: Point2(0.9, 0))
            #expect(length(next.velocity - state.velocity) <= arm.maxAcceleration * arm.periodSeconds + 1e-12)
            fastest = max(fastest, length(next.velocity))
            state = next
        }
        #expect(abs(fastest - arm.maxSpeed) < 1e-9)
        // The first policies' robot follows the lag at once.
        let first = PointMassRobot().step(RobotState(position: .zero), command: Point2(0.5, 0))
        #expect(abs(length(first.velocity) - PointMassRobot().maxSpeed) < 1e-12)
    }

    @Test("the teleoperated expert passes through the target toward the next waypoint at a third of the speed limit")
    func expertPassesThrough() {
        let expert = ScriptedExpert.teleoperated(horizon: 32)
        let state = RobotState(position: .zero)
        let target = Point2(0.2, 0), next = Point2(0.2, 0.5)
        let chunk = expert.chunk(state: state, target: target, next: next)
        // 32 periods at 0.4 units/s plus the lead: 0.467 of path, 0.2 to the target, the rest up.
        #expect(abs(chunk[31].x - 0.2) < 1e-12)
        #expect(abs(chunk[31].y - (0.4 * 32 / 30 + 0.04 - 0.2)) < 1e-9)
        for (a, b) in zip(chunk, chunk.dropFirst()) { #expect(abs(length(b - a) - 0.4 / 30) < 1e-9) }
        // No next waypoint: it stops on the target, as the first policies' expert did.
        let stop = expert.chunk(state: state, target: target)
        #expect(stop.last == target)
        let old = ScriptedExpert(horizon: 16).chunk(state: state, target: Point2(0.5, 0.3))
        #expect(old == ScriptedExpert(horizon: 16).chunk(state: state, target: Point2(0.5, 0.3), next: Point2(0.5, 0.3)))
    }

    @Test("the target token carries the next waypoint's offset, and zeros without one (the first policies' layout)")
    func tokens() {
        let state = RobotState(position: Point2(0.1, 0.2))
        let with = PolicyInput.tokens(state: state, target: Point2(0.5, 0.5), next: Point2(0.7, 0.4))
        #expect(abs(with[10] - 0.2) < 1e-6 && abs(with[11] + 0.1) < 1e-6)
        let without = PolicyInput.tokens(state: state, target: Point2(0.5, 0.5))
        #expect(without[10] == 0 && without[11] == 0)
    }

    @Test("a path shows the waypoint after the current one and measures the error from the segment being followed")
    func pathScenario() {
        var path = TargetScenario.path(seed: 7, maxSteps: 500)
        var course = TargetScenario.course(seed: 7, maxSteps: 500)
        let first = path.advance(step: 0, robot: Point2(5, 5)).target
        #expect(course.advance(step: 0, robot: Point2(5, 5)).target == first)
        #expect(course.next == nil)
        guard let second = path.next else {
            Issue.record("a path shows no next waypoint")
            return
        }
        let reached = path.advance(step: 1, robot: first)
        #expect(reached.target == second && reached.jumped)
        let midpoint = (first + second) / 2
        #expect(path.trackingError(at: midpoint, target: second) < 1e-12)
        #expect(abs(path.trackingError(at: first, target: second) - 0) < 1e-12)
        let off = midpoint + Point2(-(second - first).y, (second - first).x) / length(second - first) * 0.1
        #expect(abs(path.trackingError(at: off, target: second) - 0.1) < 1e-9)
    }

    @Test("the arm policy imitates the teleoperated expert, through a next waypoint and from a moving state")
    func armPolicy() throws {
        let path = BundledModelTests.models.appendingPathComponent("split-robot-policy-arm.gguf").path
        let policy = try TransformerPolicy(model: try ModelFile(path: path).load())
        #expect(policy.horizon == 32)
        let expert = ScriptedExpert.teleoperated(horizon: 32)
        var worst = 0.0
        for (p, v, g, n) in [(Point2(0, 0), Point2(0, 0), Point2(0.5, 0.3), Point2(0.5, 0.3)),
                             (Point2(-0.6, 0.2), Point2(0.3, -0.2), Point2(-0.4, 0.1), Point2(0.2, 0.6)),
                             (Point2(0.3, 0.3), Point2(0.1, 0.3), Point2(0.5, 0.6), Point2(-0.2, 0.5))] {
            let state = RobotState(position: p, velocity: v)
            let learned = try policy.chunk(state: state, target: g, next: n)
            #expect(learned.count == 32)
            for (a, b) in zip(learned, expert.chunk(state: state, target: g, next: n)) { worst = max(worst, length(a - b)) }
        }
        #expect(worst < 0.05, "largest difference from the expert \(worst)")
    }

    @Test("act requests take a target of 2 numbers or 4 (with the next waypoint), and refuse 3")
    func actTargets() throws {
        let arm = PolicyTraining(robot: "point-mass amax=6.0 next-waypoint")
        let four = try ActRequest(state: [0, 0, 0, 0], target: [0.1, 0.2, 0.3, 0.4]).validated(policyHorizon: 32, training: arm)
        #expect(four.target == Point2(0.1, 0.2) && four.next == Point2(0.3, 0.4))
        let two = try ActRequest(state: [0, 0, 0, 0], target: [0.1, 0.2]).validated(policyHorizon: 32, training: arm)
        #expect(two.next == two.target)
        #expect(throws: ClientAPIError.self) {
            try ActRequest(state: [0, 0, 0, 0], target: [0, 0, 0]).validated(policyHorizon: 32, training: arm)
        }
    }

    @Test("the shipped policies say what they were trained on: only the arm policy saw a next waypoint and an acceleration limit",
          arguments: shippedPolicies)
    func policyTraining(file: String, arm: Bool) throws {
        let training = PolicyTraining(try ModelFile(path: BundledModelTests.models.appendingPathComponent(file).path).configuration)
        #expect(training.robot?.hasPrefix("point-mass dt=") == true)
        #expect(training.sawNextWaypoint == arm)
        #expect(training.accelerationLimit == (arm ? PointMassRobot.arm.maxAcceleration : nil))
        #expect(!PolicyTraining(robot: nil).sawNextWaypoint, "a file without the key was not trained with a next waypoint")
    }

    @Test("the edge refuses a next waypoint for a policy trained without one, naming target and why; the arm policy takes it",
          arguments: shippedPolicies)
    func nextWaypointNeedsTraining(file: String, arm: Bool) async throws {
        let service = try PolicyService(configuration: .init(modelPath: BundledModelTests.models.appendingPathComponent(file).path,
                                                             splitLayer: nil, link: nil, workers: 1))
        defer { service.stop() }
        let two = try await service.act(ActRequest(state: [0, 0, 0, 0], target: [0.3, 0.2], horizon: 4))
        #expect(two.actions.count == 4)
        do {
            let four = try await service.act(ActRequest(state: [0, 0, 0, 0], target: [0.3, 0.2, 0.3, 0.6], horizon: 4))
            #expect(arm, "a policy trained without a next waypoint answered one: \(four.actions)")
            #expect(four.actions.count == 4 && four.actions != two.actions, "the next waypoint changes the arm policy's chunk")
        } catch let error as ClientAPIError {
            #expect(!arm, "the arm policy refused a next waypoint: \(error)")
            #expect(error.code == .invalidRequest && error.parameter == "target")
            #expect(error.message.contains("not trained with a next waypoint"), "\(error.message)")
        }
    }

    @Test("on a path at d = 8 the moving robot makes future-state async finish sooner and closer to the path than naive async")
    func futureStateMattersWhileMoving() {
        var benchmark = RobotBenchmark(delays: [8], seeds: [1, 2, 3], trackingSteps: 300, courseMaxSteps: 2400)
        benchmark.useArm()
        benchmark.pathTask = true
        benchmark.actionQuantRatio = 2
        let expert = ScriptedExpert.teleoperated(horizon: 32)
        let naive = benchmark.measure(.naiveAsync, delay: 8, overlap: 4, policy: expert)
        let future = benchmark.measure(.futureStateAsync, delay: 8, overlap: 4, policy: expert)
        #expect(future.unfinishedCourses == 0)
        #expect(future.completionSeconds < naive.completionSeconds)
        #expect((future.course?.meanTrackingError ?? 1) < (naive.course?.meanTrackingError ?? 0))
    }

    @Test("future-state async with a delay estimate beyond the actions left rolls through the hold and starts the chunk at its arrival")
    func futureStateThroughTheHold() {
        var session = ControlSession(settings: ControlSettings(mode: .futureStateAsync, horizon: 32, rollForward: DynamicsRollForward(),
                                                               overlap: 4))
        let state = RobotState(position: .zero)
        let chunk = ScriptedExpert(horizon: 32).chunk(state: state, target: Point2(0.6, 0))
        guard let first = session.plan(step: 0, state: state, target: Point2(0.6, 0)) else {
            Issue.record("no first request")
            return
        }
        session.receive(chunk, for: first.id, atStep: 10, latencySteps: 10)
        for step in 10..<38 { _ = session.execute(step: step, state: state) }
        guard let next = session.plan(step: 38, state: state, target: Point2(0.6, 0)) else {
            Issue.record("no request with 4 actions left")
            return
        }
        // Estimated delay 10: 4 buffered actions, then 6 periods holding the last one.
        #expect(next.startStep == 48)
        let robot = PointMassRobot()
        let held = Array(chunk[28...31]) + Array(repeating: chunk[31], count: 6)
        #expect(next.state == held.reduce(state) { robot.step($0, command: $1) })
    }

    @Test("after adopting sync the session waits for its buffer to run out; a chunk asked for in async is still spliced as async")
    func adoptMode() {
        var session = ControlSession(settings: ControlSettings(mode: .futureStateAsync, horizon: 32, executionHorizon: 32,
                                                               rollForward: DynamicsRollForward(), overlap: 4))
        let expert = ScriptedExpert(horizon: 32)
        let state = RobotState(position: .zero)
        guard let first = session.plan(step: 0, state: state, target: Point2(0.5, 0)) else {
            Issue.record("no first request")
            return
        }
        session.receive(expert.chunk(state: state, target: Point2(0.5, 0)), for: first.id, atStep: 0, latencySteps: 0)
        for step in 0..<28 { _ = session.execute(step: step, state: state) }
        guard let asked = session.plan(step: 28, state: state, target: Point2(0.5, 0)) else {
            Issue.record("no request with 4 actions left")
            return
        }
        session.adopt(.sync)
        // The async request's chunk starts where the buffer ends (step 32), not on arrival (30).
        session.receive(expert.chunk(state: asked.state, target: Point2(0.5, 0)), for: asked.id, atStep: 30, latencySteps: 2)
        #expect(session.buffer.remaining(from: 32) == 32)
        for step in 28..<63 { #expect(session.plan(step: step, state: state, target: Point2(0.5, 0)) == nil, "step \(step)") }
        #expect(session.plan(step: 64, state: state, target: Point2(0.5, 0)) != nil, "sync asks when the buffer is empty")
    }

    @Test("adopting sync and then future-state async keeps the configured execution horizon: a request every 8 steps of 32-action chunks")
    func adoptKeepsExecutionHorizon() {
        var session = ControlSession(settings: ControlSettings(mode: .naiveAsync, horizon: 32, executionHorizon: 8,
                                                               initialDelaySteps: 0, rollForward: DynamicsRollForward()))
        let expert = ScriptedExpert(horizon: 32)
        let state = RobotState(position: .zero), target = Point2(0.5, 0)
        var asked: [ControlMode: [Int]] = [:]
        for step in 0..<64 {
            if step == 0 { session.adopt(.sync) }
            if step == 24 { session.adopt(.futureStateAsync) }
            // Answered at once: the buffer never runs short, so only the execution horizon paces requests.
            if let request = session.plan(step: step, state: state, target: target) {
                asked[session.settings.mode, default: []].append(step)
                session.receive(expert.chunk(state: request.state, target: target), for: request.id, atStep: step, latencySteps: 0)
            }
            _ = session.execute(step: step, state: state)
        }
        #expect(session.settings.executionHorizon == 8)
        #expect(asked[.sync] == [0, 8, 16], "sync executes 8 actions of each chunk")
        #expect(asked[.futureStateAsync] == Array(stride(from: 24, to: 64, by: 8)))
    }

    @Test("a wall-clock loop that adopts the served mode makes each next request in the mode the last answer named")
    func loopAdoptsServedMode() {
        let transport = NamingTransport(modes: [.sync, .futureStateAsync, .naiveAsync])
        let settings = ControlSettings(mode: .sync, horizon: 8, executionHorizon: 8, rollForward: DynamicsRollForward(), overlap: 2)
        let loop = RealTimeControlLoop(settings: settings, transport: transport, periodSeconds: 0.004)
        loop.adoptsServedMode = true
        let trace = loop.run(scenario: .tracking(seed: 3, steps: 120))
        #expect(trace.requests >= 6)
        // One request in flight at a time: request k + 1 runs in the mode answer k named, the
        // first in the loop's own (sync).
        var expected: [ControlMode: Int] = [.sync: 1]
        for k in 1..<trace.requests { expected[transport.modes[(k - 1) % transport.modes.count], default: 0] += 1 }
        #expect(trace.requestModes == expected)
    }
}

/// Answers every request at once (seen at the loop's next poll) with the expert's chunk, naming
/// the modes of `modes` in turn, as the edge names the strategy its selector chose.
final class NamingTransport: ChunkTransport {
    let modes: [ControlMode]
    private let expert = ScriptedExpert(horizon: 8)
    private var answers: [(id: Int, outcome: Result<[Point2], any Error>)] = []
    private var named: [Int: ControlMode] = [:]

    init(modes: [ControlMode]) { self.modes = modes }

    func send(_ request: ChunkRequest, horizon: Int) throws {
        named[request.id] = modes[(request.id - 1) % modes.count]
        answers.append((request.id, .success(expert.chunk(state: request.state, target: request.target))))
    }

    func poll() -> [(id: Int, outcome: Result<[Point2], any Error>)] {
        defer { answers.removeAll() }
        return answers
    }

    func servedMode(of id: Int) -> ControlMode? { named.removeValue(forKey: id) }
}
