import Foundation

/// Runs the control loop against the wall clock: every period it collects arrived chunks, plans
/// and sends a request without waiting for it, executes the buffered action on the (simulated)
/// robot and sleeps until the next period. The network never blocks the loop: a request that
/// takes longer than `requestTimeoutSeconds` is given up (degraded mode) and the loop goes on
/// with its buffer. Periods the loop starts late are counted as missed.
public final class RealTimeControlLoop {
    /// The knobs.
    public let settings: ControlSettings
    /// The robot stepped each period.
    public let robot: PointMassRobot
    /// Control period in seconds.
    public let periodSeconds: Double
    /// A request unanswered after this long counts as failed.
    public let requestTimeoutSeconds: Double
    /// A period started later than this fraction of a period counts as missed.
    public let missTolerance: Double
    /// Whether each next request runs in the mode the server named for the last answer (the
    /// edge's selector choosing the control strategy per `act` request).
    public var adoptsServedMode = false
    private let transport: any ChunkTransport

    /// A loop at `1 / periodSeconds` Hz using `transport`.
    public init(settings: ControlSettings, transport: any ChunkTransport, robot: PointMassRobot = PointMassRobot(),
                periodSeconds: Double = 1.0 / 30.0, requestTimeoutSeconds: Double = 1.0, missTolerance: Double = 0.5) {
        self.settings = settings
        self.transport = transport
        self.robot = robot
        self.periodSeconds = periodSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.missTolerance = missTolerance
    }

    /// Runs `scenario` (at most `maxSteps` periods, default the scenario's) with `pushes` injected and returns the trace.
    public func run(scenario: TargetScenario, maxSteps: Int? = nil, start: RobotState = RobotState(position: .zero),
                    pushes: PushSchedule = .none) -> ControlTrace {
        var scenario = scenario
        var session = ControlSession(settings: settings)
        var trace = ControlTrace()
        trace.isCourse = scenario.kind == .course
        var state = start
        var sentAt: [Int: UInt64] = [:]
        let period = UInt64(periodSeconds * 1e9)
        let begin = MonotonicClock.nanoseconds()
        for step in 0..<(maxSteps ?? scenario.maxSteps) {
            let deadline = begin + UInt64(step) * period
            var now = MonotonicClock.nanoseconds()
            if now < deadline {
                usleep(UInt32((deadline - now) / 1000))
                now = MonotonicClock.nanoseconds()
            }
            if now > deadline + UInt64(missTolerance * Double(period)) { trace.missedPeriods += 1 }
            for answer in transport.poll() {
                let served = transport.servedMode(of: answer.id)  // asked for every answer, so none is kept
                guard let sent = sentAt.removeValue(forKey: answer.id) else { continue }
                trace.deliver(answer.outcome, for: answer.id, session: &session, step: step,
                              latencySteps: Double(now - sent) / Double(period))
                if adoptsServedMode, let served { session.adopt(served) }
            }
            for (id, sent) in sentAt where Double(now - sent) / 1e9 > requestTimeoutSeconds {
                sentAt[id] = nil
                trace.failures += 1
                session.fail(id)
            }
            let pushed: Bool
            (state, pushed) = pushes.apply(step: step, to: state, robot: robot)
            let (target, jumped) = scenario.advance(step: step, robot: state.position)
            if scenario.finished {
                trace.completionStep = step
                break
            }
            if let request = session.plan(step: step, state: state, target: target, next: scenario.next) {
                trace.requests += 1
                trace.requestModes[session.settings.mode, default: 0] += 1
                do {
                    try transport.send(request, horizon: settings.horizon)
                    sentAt[request.id] = now
                } catch {
                    trace.failures += 1
                    session.fail(request.id)
                }
            }
            state = trace.executeStep(step, session: &session, robot: robot, state: state, target: target, jumped: jumped,
                                      pushed: pushed, error: scenario.trackingError(at: state.position, target: target))
        }
        return trace
    }
}
