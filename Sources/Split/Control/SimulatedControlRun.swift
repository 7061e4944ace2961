/// Runs the control loop on a simulated discrete-event clock: the robot steps at the control
/// rate, each chunk request is answered by `policy` and delivered after a delay drawn from
/// `latency` (in whole steps), so every run is exactly reproducible.
public enum SimulatedControlRun {
    /// Runs `scenario` under `settings` (with `pushes` injected) and returns what happened.
    /// - Parameter failAfterStep: requests made after this step fail (a cloud that died), to
    ///   show the loop keeps executing its buffer.
    /// - Throws: only programmer errors of the policy are turned into failed requests; nothing throws.
    public static func run(scenario: TargetScenario, settings: ControlSettings, policy: any ChunkPolicy,
                           latency: LatencyModel, robot: PointMassRobot = PointMassRobot(),
                           start: RobotState = RobotState(position: .zero), pushes: PushSchedule = .none,
                           failAfterStep: Int? = nil) -> ControlTrace {
        var latency = latency
        return run(scenario: scenario, settings: settings, robot: robot, start: start, pushes: pushes) { request, step in
            let delay = latency.next()
            let dead = failAfterStep.map { step > $0 } ?? false
            return (dead ? nil : try? policy.chunk(state: request.state, target: request.target, next: request.next ?? request.target), delay)
        }
    }

    /// Runs `scenario` under `settings`, each request answered by `answer` (called with the
    /// request and the step it is made at) with the chunk, or nil for a failure, and the steps
    /// until the loop sees it; e.g. a real policy service whose measured latency sets the delay.
    public static func run(scenario: TargetScenario, settings: ControlSettings, robot: PointMassRobot = PointMassRobot(),
                           start: RobotState = RobotState(position: .zero), pushes: PushSchedule = .none,
                           answer: (ChunkRequest, Int) -> (chunk: [Point2]?, delaySteps: Int)) -> ControlTrace {
        var scenario = scenario
        var session = ControlSession(settings: settings)
        var trace = ControlTrace()
        trace.isCourse = scenario.kind == .course
        var state = start
        // (arrival step, request id, chunk or nil for a failure, latency in steps)
        var pending: [(arrival: Int, id: Int, chunk: [Point2]?, latency: Int)] = []
        func deliverArrived(upTo step: Int) {
            pending.sort { ($0.arrival, $0.id) < ($1.arrival, $1.id) }
            while let first = pending.first, first.arrival <= step {
                pending.removeFirst()
                trace.deliver(first.chunk.map { .success($0) } ?? .failure(ControlError.badChunk("the cloud is dead")),
                              for: first.id, session: &session, step: step, latencySteps: Double(first.latency))
            }
        }
        for step in 0..<scenario.maxSteps {
            let pushed: Bool
            (state, pushed) = pushes.apply(step: step, to: state, robot: robot)
            let (target, jumped) = scenario.advance(step: step, robot: state.position)
            if scenario.finished {
                trace.completionStep = step
                break
            }
            // As the wall-clock loop does: take arrived answers, then plan; a zero-delay answer
            // arrives within the same step.
            deliverArrived(upTo: step)
            if let request = session.plan(step: step, state: state, target: target, next: scenario.next) {
                trace.requests += 1
                let (chunk, delay) = answer(request, step)
                pending.append((step + max(0, delay), request.id, chunk, max(0, delay)))
                deliverArrived(upTo: step)
            }
            state = trace.executeStep(step, session: &session, robot: robot, state: state, target: target, jumped: jumped,
                                      pushed: pushed, error: scenario.trackingError(at: state.position, target: target))
        }
        return trace
    }
}
