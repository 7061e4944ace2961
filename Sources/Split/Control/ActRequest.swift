/// What a robot client asks the edge for with an `act` request: the chunk for a measured (or
/// rolled-forward) state and an observed target. Checked before any model work.
public struct ActRequest: Sendable, Equatable {
    /// The robot state `[px, py, vx, vy]`.
    public var state: [Double]
    /// The observed target `[x, y]`, or `[x, y, next x, next y]` with the waypoint after it (a
    /// path the robot passes through without stopping).
    public var target: [Double]
    /// Actions wanted (1 … the policy's horizon); nil for the whole chunk.
    public var horizon: Int?
    /// The quality the robot needs, as for completions: "exact" (sync control: the robot acts
    /// on chunks computed from the state it observed) or "agreement>=X" ("agreement>=0"
    /// allows the async modes); nil for the edge's default (exact).
    public var quality: String?
    /// A control strategy the client names ("future-state-async" or "sync@split(k=2,f32)");
    /// nil lets the edge's selector choose.
    public var strategy: String?

    /// Makes a request.
    public init(state: [Double], target: [Double], horizon: Int? = nil, quality: String? = nil, strategy: String? = nil) {
        self.state = state
        self.target = target
        self.horizon = horizon
        self.quality = quality
        self.strategy = strategy
    }

    /// The request as simulator types, after checking every size and value against the policy
    /// (`policyHorizon` actions per chunk; a next waypoint only when `training` says it saw one).
    /// - Throws: `ClientAPIError.invalidRequest` naming the field (wrong dimension, NaN or
    ///   infinity, a next waypoint the policy was not trained with, a chunk length outside
    ///   1 … `policyHorizon`).
    public func validated(policyHorizon: Int, training: PolicyTraining) throws
        -> (state: RobotState, target: Point2, next: Point2, horizon: Int) {
        guard state.count == RobotState.dimensions else {
            throw ClientAPIError(.invalidRequest, "state must have \(RobotState.dimensions) numbers [px, py, vx, vy], not \(state.count)",
                                 parameter: "state")
        }
        guard target.count == 2 || target.count == 4 else {
            throw ClientAPIError(.invalidRequest, "target must have 2 numbers [x, y] or 4 [x, y, next x, next y], not \(target.count)",
                                 parameter: "target")
        }
        // The older policies saw zeros in these features: a waypoint there is input they never saw.
        guard target.count == 2 || training.sawNextWaypoint else {
            throw ClientAPIError(.invalidRequest, "target must have 2 numbers [x, y] for this policy: it was not trained with a next "
                                 + "waypoint (its \(PolicyTraining.metadataKey) does not name next-waypoint)", parameter: "target")
        }
        if let bad = state.firstIndex(where: { !$0.isFinite || abs($0) > 1e6 }) {
            throw ClientAPIError(.invalidRequest, "state[\(bad)] is \(state[bad]); every value must be finite (and within ±1e6)",
                                 parameter: "state")
        }
        if let bad = target.firstIndex(where: { !$0.isFinite || abs($0) > 1e6 }) {
            throw ClientAPIError(.invalidRequest, "target[\(bad)] is \(target[bad]); every value must be finite (and within ±1e6)",
                                 parameter: "target")
        }
        let wanted = horizon ?? policyHorizon
        guard wanted >= 1, wanted <= policyHorizon else {
            throw ClientAPIError(.invalidRequest, "horizon must be 1 … \(policyHorizon) actions, not \(wanted)", parameter: "horizon")
        }
        let goal = Point2(target[0], target[1])
        return (RobotState(position: Point2(state[0], state[1]), velocity: Point2(state[2], state[3])),
                goal, target.count == 4 ? Point2(target[2], target[3]) : goal, wanted)
    }
}

/// The edge's answer to an `act` request.
public struct ActReply: Sendable, Equatable {
    /// Commanded positions `[x, y]`, one per control step, starting at the step the request's
    /// state is for.
    public var actions: [[Double]]
    /// Time the edge spent on the request (edge layers, link, cloud layers), in seconds.
    public var latencySeconds: Double
    /// How it was computed: the control strategy the edge chose or was told
    /// ("future-state-async@split(k=2,f32)": the client's loop runs that mode), or, on an edge
    /// that neither selects nor was told one, the placement alone ("split(k=N,enc)" or "local").
    public var strategy: String

    /// Makes a reply.
    public init(actions: [[Double]], latencySeconds: Double, strategy: String) {
        self.actions = actions
        self.latencySeconds = latencySeconds
        self.strategy = strategy
    }
}

/// Something that answers `act` requests (the edge's policy service).
public protocol PolicyActing: Sendable {
    /// The chunk for `request`.
    /// - Throws: `ClientAPIError` (invalid request, cloud unavailable, overloaded).
    func act(_ request: ActRequest) async throws -> ActReply
}
