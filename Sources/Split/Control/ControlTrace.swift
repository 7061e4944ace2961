import Foundation

/// Everything that happened in one control run, step by step: what the metrics and the plots
/// are computed from.
public struct ControlTrace: Sendable {
    /// One control period.
    public struct Step: Sendable, Equatable {
        /// The robot's position at the start of the step (what the client measured).
        public var position: Point2
        /// The target at the step.
        public var target: Point2
        /// The command executed during the step.
        public var command: Point2
        /// True when no chunk had an action for this step and the robot held its last command.
        public var idle: Bool
        /// The step whose observation produced the executed action (nil when idle).
        public var observedAtStep: Int?
        /// The target appeared somewhere new at this step.
        public var jumped: Bool
        /// The robot was pushed at the start of this step (its measured position already moved).
        public var pushed = false
        /// How far the robot was off the task: from the target, or on a path from its segment
        /// (`TargetScenario.trackingError`).
        public var error: Double
    }

    /// The steps, in order.
    public var steps: [Step] = []
    /// Chunk requests sent, answered, and failed or timed out.
    public var requests = 0, replies = 0, failures = 0
    /// Steps during which the client knew the cloud was unreachable.
    public var degradedSteps = 0
    /// Control periods the loop started late (wall clock only; always 0 on the simulated clock).
    public var missedPeriods = 0
    /// Course runs: the step at which the last waypoint was reached (nil if never).
    public var completionStep: Int?
    /// True for a course run: a waypoint counts as reached when the next one appears.
    public var isCourse = false
    /// Requests planned in each mode (one mode unless the loop adopts the server's choices).
    public var requestModes: [ControlMode: Int] = [:]
    /// Latency of each answered request, in control steps (fractional on the wall clock).
    public var latencySteps: [Double] = []

    /// An empty trace.
    public init() {}
}

extension ControlTrace {
    /// Hands an answer (a chunk or a failure) to `session` and counts it.
    mutating func deliver(_ outcome: Result<[Point2], any Error>, for id: Int, session: inout ControlSession, step: Int,
                          latencySteps: Double) {
        switch outcome {
        case .success(let chunk):
            replies += 1
            self.latencySteps.append(latencySteps)
            session.receive(chunk, for: id, atStep: step, latencySteps: latencySteps)
        case .failure:
            failures += 1
            session.fail(id)
        }
    }

    /// Executes the session's action for `step` on `robot`, records the step, and returns the next state.
    mutating func executeStep(_ step: Int, session: inout ControlSession, robot: PointMassRobot, state: RobotState,
                              target: Point2, jumped: Bool, pushed: Bool = false, error: Double) -> RobotState {
        let action = session.execute(step: step, state: state)
        if session.degraded { degradedSteps += 1 }
        steps.append(.init(position: state.position, target: target, command: action.command, idle: action.idle,
                           observedAtStep: action.observedAtStep, jumped: jumped, pushed: pushed, error: error))
        return robot.step(state, command: action.command)
    }
}

/// The figures a control run is judged by (see BENCHMARKS.md, robot section).
public struct ControlMetrics: Sendable, Equatable, Codable {
    /// Fraction of jumps after which the robot came within `radius` of the target within `window` steps.
    public var successRate: Double
    /// Mean and 95th percentile of the distance between robot and target (on a path: between the
    /// robot and its segment), over all steps.
    public var meanTrackingError: Double
    public var p95TrackingError: Double
    /// Reaction of each disturbance (a target jump or a push, after the first placement): steps
    /// from the disturbance at step j to the first executed action that responds to it, i.e.
    /// whose dominant observation (`ActionChunkBuffer.Entry.observedAtStep`) was taken at or
    /// after j. A disturbance no action responded to before the run ended is left out.
    public var reactionSteps: [Double]
    /// Mean of `reactionSteps`.
    public var meanReactionSteps: Double
    /// Fraction of steps, and number of steps, the robot had no action and held.
    public var idleFraction: Double
    public var idleSteps: Int
    /// Largest distance between consecutive commanded positions (arena units).
    public var largestActionJump: Double
    /// Root mean square jerk of the commanded positions: third differences over the period
    /// cubed, in arena units per s³ (commands, not positions, so a push is not counted as jerk).
    public var rmsJerk: Double
    /// Course runs: seconds to reach every waypoint (nil for tracking runs or unfinished courses).
    public var completionSeconds: Double?
    /// Jumps counted.
    public var jumps: Int

    /// Computes the metrics of `trace`: success means within `radius` within `window` steps.
    public init(trace: ControlTrace, radius: Double = 0.1, window: Int = 60, periodSeconds: Double = 1.0 / 30.0) {
        let steps = trace.steps
        let errors = steps.map(\.error).sorted()
        meanTrackingError = errors.isEmpty ? 0 : errors.reduce(0, +) / Double(errors.count)
        p95TrackingError = errors.isEmpty ? 0 : errors[min(errors.count - 1, Int(0.95 * Double(errors.count)))]
        idleSteps = steps.filter(\.idle).count
        idleFraction = steps.isEmpty ? 0 : Double(idleSteps) / Double(steps.count)
        var largest = 0.0
        for i in steps.indices.dropFirst() { largest = max(largest, length(steps[i].command - steps[i - 1].command)) }
        largestActionJump = largest
        var jerkSquares = 0.0
        for i in steps.indices.dropFirst(3) {
            let third = steps[i].command - 3 * steps[i - 1].command + 3 * steps[i - 2].command - steps[i - 3].command
            jerkSquares += (third * third).sum()
        }
        rmsJerk = steps.count > 3 ? (jerkSquares / Double(steps.count - 3)).squareRoot() / pow(periodSeconds, 3) : 0
        reactionSteps = ControlMetrics.reactions(steps)
        meanReactionSteps = reactionSteps.isEmpty ? 0 : reactionSteps.reduce(0, +) / Double(reactionSteps.count)
        // Jumps after the first placement, with a full window left to judge them.
        let jumpSteps = steps.indices.filter { steps[$0].jumped && $0 > 0 }
        var successes = 0, judged = 0
        for (n, j) in jumpSteps.enumerated() {
            let end = min(steps.count, j + window + 1, n + 1 < jumpSteps.count ? jumpSteps[n + 1] : Int.max)
            guard j + window < steps.count || trace.completionStep != nil else { continue }
            judged += 1
            let reached: Bool
            if trace.isCourse {
                // Reaching a waypoint shows the next one on that same step.
                let reachedAt = n + 1 < jumpSteps.count ? jumpSteps[n + 1] : trace.completionStep
                reached = reachedAt.map { $0 <= j + window } ?? false
            } else {
                reached = (j..<end).contains { length(steps[$0].position - steps[$0].target) <= radius }
            }
            if reached { successes += 1 }
        }
        jumps = judged
        successRate = judged == 0 ? 1 : Double(successes) / Double(judged)
        completionSeconds = trace.completionStep.map { Double($0 + 1) * periodSeconds }
    }

    /// The reaction of every disturbance in `steps` (see `reactionSteps`).
    static func reactions(_ steps: [ControlTrace.Step]) -> [Double] {
        var reactions: [Double] = []
        for j in steps.indices where j > 0 && (steps[j].jumped || steps[j].pushed) {
            if let response = (j..<steps.count).first(where: { (steps[$0].observedAtStep ?? -1) >= j }) {
                reactions.append(Double(response - j))
            }
        }
        return reactions
    }

    /// The `q` quantile (0 … 1) of `values`, nearest rank; 0 for none.
    public static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }
}
