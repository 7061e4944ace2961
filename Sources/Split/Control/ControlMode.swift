/// How the control client overlaps inference with execution.
public enum ControlMode: String, Sendable, CaseIterable, Codable {
    /// The robot holds while each chunk is inferred, then executes it.
    case sync
    /// Chunks are requested while the robot moves, conditioned on the state at request time
    /// (stale by the delay), and aligned by their observation's step (LeRobot-style).
    case naiveAsync = "naive-async"
    /// Chunks are requested while the robot moves, conditioned on the state the robot will be in
    /// when the chunk starts (rolled forward through the buffered actions), and spliced at that
    /// step (VLASH).
    case futureStateAsync = "future-state-async"
}

/// The control client's knobs.
public struct ControlSettings: Sendable {
    /// Sync, naive async or future-state async.
    public var mode: ControlMode
    /// Actions per chunk the policy returns.
    public var horizon: Int
    /// Sync: actions executed from each chunk before the next request. Async: steps between
    /// requests (a request is also made at once when the buffer would run dry within the delay).
    public var executionHorizon: Int
    /// Async: requests allowed in flight at once. 1 by default: a future state is only known
    /// when no other chunk will land in the buffer before it (one in flight, as VLASH runs).
    public var maxInFlight: Int
    /// How overlapping chunks combine.
    public var aggregation: ActionChunkBuffer.Aggregation
    /// Delay estimation: quantile of recent latencies, and the estimate before the first.
    public var delayQuantile: Double
    public var initialDelaySteps: Int
    /// How the future state is predicted (future-state mode).
    public var rollForward: any StateRollForward
    /// Async: VLASH's chunk cycle (`inference_overlap_steps`) when set: the next chunk is asked
    /// for when this many buffered actions are left (one request in flight; fixed, or grown to
    /// the measured delay) and starts where they end (or on arrival, if the buffer ran dry
    /// first); future-state mode conditions it on the state rolled forward to there, naive async
    /// on the state now. A blending aggregation (RTC) keeps chunks aligned by their
    /// observation's step instead. Nil: a request every `executionHorizon` steps.
    public var overlap: ChunkOverlap?
    /// VLASH's `action_quant_ratio`: only every r-th action of a chunk is executed, one per
    /// period (actions r−1, 2r−1, …), so a chunk is run r times faster. 1: every action.
    public var actionQuantRatio: Int
    /// VLASH's `n_action_steps`: the actions of each chunk the robot runs, counted in the
    /// chunk's own actions before `actionQuantRatio`'s thinning, as VLASH counts them (16 at
    /// r = 2: 8 periods); the rest are dropped and the next chunk starts after them. Fixed, or
    /// adaptive (async: half the chunk, longer when the measured delay needs it; sync: whole
    /// chunks). Nil: the whole chunk.
    public var actionSteps: ChunkActionSteps?

    /// Settings with the defaults used by the benchmarks: H = 16; sync executes whole chunks;
    /// async asks every 4 steps (or when the reply comes, if later), one request in flight; overlaps are replaced.
    public init(mode: ControlMode, horizon: Int = 16, executionHorizon: Int? = nil, maxInFlight: Int = 1,
                aggregation: ActionChunkBuffer.Aggregation = .replace, delayQuantile: Double = 0.9,
                initialDelaySteps: Int = 4, rollForward: any StateRollForward = CommandedTargetRollForward(),
                overlap: ChunkOverlap? = nil, actionQuantRatio: Int = 1, actionSteps: ChunkActionSteps? = nil) {
        self.mode = mode
        self.horizon = max(1, horizon)
        self.executionHorizon = max(1, min(executionHorizon ?? (mode == .sync ? horizon : 4), max(1, horizon)))
        self.maxInFlight = max(1, maxInFlight)
        self.aggregation = aggregation
        self.delayQuantile = delayQuantile
        self.initialDelaySteps = initialDelaySteps
        self.rollForward = rollForward
        self.actionQuantRatio = min(max(1, actionQuantRatio), max(1, horizon))
        self.overlap = overlap
        self.actionSteps = actionSteps
    }

    /// The actions of each chunk asked for in `mode` (the settings' own by default) the robot
    /// runs (before r's thinning) when the delay estimate is `delayEstimateSteps`:
    /// `actionSteps`, or the whole chunk.
    public func chunkActions(mode: ControlMode? = nil, delayEstimateSteps: @autoclosure () -> Int) -> Int {
        actionSteps?.actions(horizon: horizon, quantRatio: actionQuantRatio, mode: mode ?? self.mode,
                             alignedByObservation: aggregation == .softMask, delayEstimateSteps: delayEstimateSteps()) ?? horizon
    }

    /// The overlap in steps when the delay estimate is `delayEstimateSteps` (nil outside VLASH's
    /// cycle): at most the periods one chunk runs for, as asking earlier than a chunk's start
    /// cannot be done with one request in flight.
    public func overlapSteps(delayEstimateSteps: @autoclosure () -> Int) -> Int? {
        overlap.map { min($0.steps(delayEstimateSteps: delayEstimateSteps()),
                          max(1, chunkActions(delayEstimateSteps: delayEstimateSteps()) / actionQuantRatio)) }
    }
}
