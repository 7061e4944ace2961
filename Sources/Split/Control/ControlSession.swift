/// One chunk request the control client wants sent: the observation it is conditioned on and the
/// step its first action is meant for.
public struct ChunkRequest: Sendable, Equatable {
    /// Client-side id, to match the reply.
    public var id: Int
    /// The step whose observation (target, and measured state) the request carries.
    public var observedAtStep: Int
    /// The step the chunk's first action is for (future-state mode: observation step + delay).
    public var startStep: Int
    /// The state the policy is conditioned on (rolled forward in future-state mode).
    public var state: RobotState
    /// The observed target.
    public var target: Point2
    /// A path's waypoint after the target (nil: none).
    public var next: Point2? = nil

    /// Makes a request (a session plans them; a client may send one of its own, as a probe).
    public init(id: Int, observedAtStep: Int, startStep: Int, state: RobotState, target: Point2, next: Point2? = nil) {
        self.id = id
        self.observedAtStep = observedAtStep
        self.startStep = startStep
        self.state = state
        self.target = target
        self.next = next
    }
}

/// What the robot executes during one step.
public struct ExecutedAction: Sendable, Equatable {
    /// The commanded position.
    public var command: Point2
    /// True when nothing was buffered for the step and the robot held its last command.
    public var idle: Bool
    /// The observation step of the chunk the action came from (nil when idle).
    public var observedAtStep: Int?
}

/// The control client's logic, independent of any clock or transport: each step it decides
/// whether to request a chunk (and for which state and step), splices replies into the action
/// buffer, estimates the delay, and hands out the action to execute. The simulated clock
/// (`SimulatedControlRun`) and the wall-clock loop (`RealTimeControlLoop`) both drive it.
public struct ControlSession: Sendable {
    /// The knobs (the mode changes when the session adopts the one its policy server chose).
    public private(set) var settings: ControlSettings
    /// The actions waiting to be executed.
    public private(set) var buffer: ActionChunkBuffer
    /// The online delay estimate.
    public private(set) var delay: DelayEstimator
    /// True after a request failed, until a chunk arrives again.
    public private(set) var degraded = false
    private var inFlight: [Int: (request: ChunkRequest, mode: ControlMode)] = [:]
    private var nextID = 1
    private var lastRequestStep: Int?
    private var lastCommand: Point2?
    private var newestObservation = Int.min

    /// A session with `settings`.
    public init(settings: ControlSettings) {
        self.settings = settings
        buffer = ActionChunkBuffer(aggregation: settings.aggregation)
        delay = DelayEstimator(quantile: settings.delayQuantile, initialSteps: settings.initialDelaySteps)
    }

    /// Requests sent and not yet answered.
    public var inFlightCount: Int { inFlight.count }

    /// Step 1 of a control period: whether to request a chunk now, given the measured state and
    /// observed target at `step`. The caller sends it and later calls `receive` or `fail`.
    public mutating func plan(step: Int, state: RobotState, target: Point2, next: Point2? = nil) -> ChunkRequest? {
        let remaining = buffer.remaining(from: step)
        let due: Bool
        switch settings.mode {
        case .sync:
            due = inFlight.isEmpty && remaining == 0
        case .naiveAsync, .futureStateAsync:
            if let overlap = settings.overlapSteps(delayEstimateSteps: delay.steps) {
                // VLASH: the next inference starts `overlap` actions before the chunk ends.
                due = inFlight.isEmpty && remaining <= overlap
            } else {
                let interval = lastRequestStep.map { step - $0 >= settings.executionHorizon } ?? true
                due = inFlight.count < settings.maxInFlight && (interval || remaining <= delay.steps)
            }
        }
        guard due else { return nil }
        var conditioned = state
        var startStep = step
        if startsAtBufferEnd(settings.mode) && settings.mode == .naiveAsync {
            startStep = step + remaining
        } else if settings.mode == .futureStateAsync {
            // The chunk cycle starts the next chunk where the buffer ends, or, when the delay
            // estimate is longer, on its arrival, the robot holding its last command meanwhile
            // (rolled through too; with nothing buffered it starts on arrival from the state
            // now); outside the cycle after the estimated delay.
            let d = settings.overlap == nil ? delay.steps : remaining == 0 ? 0 : max(remaining, delay.steps)
            let hold = lastCommand ?? state.position
            var commands: [Point2] = []
            commands.reserveCapacity(d)
            var previous = hold
            for s in step..<(step + d) {
                previous = buffer.action(at: s)?.command ?? previous
                commands.append(previous)
            }
            conditioned = settings.rollForward.roll(state, through: commands)
            startStep = step + d
        }
        let request = ChunkRequest(id: nextID, observedAtStep: step, startStep: startStep, state: conditioned, target: target,
                                   next: next)
        nextID += 1
        inFlight[request.id] = (request, settings.mode)
        lastRequestStep = step
        return request
    }

    /// A reply arrived during `step` (before the step's action is chosen). Returns false when it
    /// was dropped (unknown id, or older than a chunk already spliced).
    /// - Parameter latencySteps: how long the request took, in control steps.
    @discardableResult
    public mutating func receive(_ actions: [Point2], for id: Int, atStep step: Int, latencySteps: Double) -> Bool {
        guard let (request, mode) = inFlight.removeValue(forKey: id) else { return false }
        delay.record(steps: latencySteps)
        degraded = false
        guard request.observedAtStep > newestObservation, !actions.isEmpty else { return false }
        newestObservation = request.observedAtStep
        // VLASH: the first n_action_steps actions, of which the robot is sent r−1, 2r−1, … one
        // per period (quantized execution).
        let r = settings.actionQuantRatio
        let kept = settings.actionSteps == nil ? actions
            : Array(actions.prefix(settings.chunkActions(mode: mode, delayEstimateSteps: delay.steps)))
        let actions = r > 1 ? stride(from: r - 1, to: kept.count, by: r).map { kept[$0] } : kept
        switch mode {
        case .sync:
            // The robot held during inference: the chunk starts now.
            buffer.splice(Array(actions.prefix(settings.executionHorizon)), startStep: step,
                          observedAtStep: request.observedAtStep, notBefore: step)
        case .naiveAsync, .futureStateAsync:
            // A chunk meant to start where the buffer ended finds, when late, the robot holding
            // there: it starts on arrival rather than losing its first actions.
            let start = startsAtBufferEnd(mode) ? max(request.startStep, step) : request.startStep
            buffer.splice(actions, startStep: start, observedAtStep: request.observedAtStep, notBefore: step)
        }
        return true
    }

    /// In VLASH's chunk cycle a chunk starts where the buffered actions end (both async modes;
    /// they differ only in the state the policy sees), except when overlaps are blended (RTC),
    /// which needs the chunk aligned by its observation's step to blend into what is left.
    private func startsAtBufferEnd(_ mode: ControlMode) -> Bool {
        guard settings.overlap != nil else { return false }
        return mode == .futureStateAsync || settings.aggregation == .replace
    }

    /// Runs the next requests in `mode` (the strategy the edge's selector chose for the last
    /// answer); chunks already asked for are spliced as the mode they were asked in. The settings
    /// must suit every mode: whole chunks (`executionHorizon == horizon`) with VLASH's chunk cycle
    /// (`overlap`), as `split-bench robot-loop --adopt-edge-mode` builds them.
    public mutating func adopt(_ mode: ControlMode) {
        settings.mode = mode
    }

    /// The request `id` failed or timed out: the loop goes on with what is buffered, degraded.
    public mutating func fail(_ id: Int) {
        guard inFlight.removeValue(forKey: id) != nil else { return }
        degraded = true
    }

    /// Step 2 of a control period: the action to execute during `step`.
    public mutating func execute(step: Int, state: RobotState) -> ExecutedAction {
        defer { if step % 64 == 0 { buffer.discard(before: step) } }
        if let entry = buffer.action(at: step) {
            lastCommand = entry.command
            return ExecutedAction(command: entry.command, idle: false, observedAtStep: entry.observedAtStep)
        }
        let hold = lastCommand ?? state.position
        lastCommand = hold
        return ExecutedAction(command: hold, idle: true, observedAtStep: nil)
    }
}
