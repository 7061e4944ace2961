import Foundation

/// Keeps the edge's split plan in step with the link it actually has: turns the edge's own
/// round trips into round-trip and bandwidth samples, and when their medians drift past the
/// threshold from what the plan assumed (`LinkDriftMonitor`), plans again (`SplitPlanner`)
/// for the measured link. The new choice applies to sessions that start afterwards.
///
/// A forward round trip is network plus the cloud's work, so the cloud's predicted compute for
/// the positions carried (and the bytes' serialisation) is taken off before it counts as the
/// link's round trip; only messages whose predicted transfer outweighs that compute give a
/// bandwidth sample. Heartbeat pings carry no model work and count as they are.
public final class LinkReplanner: Sendable {
    /// What the planner is given besides the model's shape.
    public struct Configuration: Sendable {
        public var edge: DeviceProfile
        public var cloud: DeviceProfile
        /// The link assumed at start; the measured round trip and bandwidth replace its own.
        public var network: NetworkProfile
        /// Bytes the edge may use for the model; nil: the edge profile's memory.
        public var memoryLimitBytes: Int?
        public var encodings: [ActivationEncoding]
        /// The lowest split layer the cloud nodes serve (their `--min-split-layer`).
        public var lowestSplitLayer: Int
        /// Relative drift of a measure's median that asks for a re-plan (0.5: ±50 %).
        public var threshold: Double
        public var workload: CostModel.Workload
        /// For the edge daemon: while the plan is local no forward round trips happen, so it
        /// pings a cloud this often instead, to split again when the link recovers (0: never).
        public var probeIntervalSeconds: Double

        /// Makes a configuration.
        public init(edge: DeviceProfile, cloud: DeviceProfile, network: NetworkProfile,
                    memoryLimitBytes: Int? = nil, encodings: [ActivationEncoding] = ActivationEncoding.allCases,
                    lowestSplitLayer: Int = 0, threshold: Double = 0.5, workload: CostModel.Workload = .init(),
                    probeIntervalSeconds: Double = 5) {
            self.edge = edge
            self.cloud = cloud
            self.network = network
            self.memoryLimitBytes = memoryLimitBytes
            self.encodings = encodings
            self.lowestSplitLayer = lowestSplitLayer
            self.threshold = threshold
            self.workload = workload
            self.probeIntervalSeconds = probeIntervalSeconds
        }
    }

    /// One re-plan: the link it was made for and the strategy before and after.
    public struct Replan: Sendable, Equatable, Codable {
        public var previousStrategy: String
        public var strategy: String
        public var splitLayer: Int
        /// The measured link (medians of the recent samples) the new plan assumes.
        public var roundTripSeconds: Double
        public var bitsPerSecond: Double
        /// Predicted decode time per token of the new choice.
        public var predictedDecodeSeconds: Double
        /// Whether the strategy changed.
        public var switched: Bool { previousStrategy != strategy }
    }

    private struct State: Sendable {
        var monitor: LinkDriftMonitor
        var network: NetworkProfile
        var choice: CostModel.Estimate
        var replans = 0
    }

    /// Larger requests (prompts) are mostly the cloud's compute, whose prediction is rougher
    /// than a link's round trip: they do not count as round-trip samples.
    static let maxRowsForRoundTrip = 16

    public let shape: ModelShape
    public let configuration: Configuration
    private let state: Locked<State>

    /// Plans a model of `shape` for the configured link.
    /// - Throws: `SplitPlanner.PlanError` when no split the clouds serve fits the edge's memory.
    public init(shape: ModelShape, configuration: Configuration) throws(SplitPlanner.PlanError) {
        self.shape = shape
        self.configuration = configuration
        let choice = try Self.choose(shape, configuration, network: configuration.network)
        state = Locked(State(monitor: LinkDriftMonitor(network: configuration.network, threshold: configuration.threshold),
                             network: configuration.network, choice: choice))
    }

    /// The plan in force.
    public var choice: CostModel.Estimate { state.withLock { $0.choice } }
    /// The link the plan in force was made for.
    public var network: NetworkProfile { state.withLock { $0.network } }
    /// Re-plans made so far.
    public var replans: Int { state.withLock { $0.replans } }

    /// Counts a forward round trip made by a session split at `splitLayer`; returns the re-plan
    /// when the link has drifted (nil otherwise).
    public func observe(_ trip: CloudRoundTrip, splitLayer k: Int) -> Replan? {
        // No reply: the request failed, which says nothing about the link's speed.
        guard trip.replyBytes > 0, trip.rows > 0, trip.seconds.isFinite else { return nil }
        return state.withLock { state in
            let costModel = Self.costModel(shape, configuration, network: state.network)
            let L = shape.layerCount
            let k = min(max(0, k), L)
            let cloud = costModel.cloud
            let cloudSeconds = (trip.rows == 1
                ? cloud.decodeSeconds(layers: k..<L, context: configuration.workload.meanDecodeContext)
                : cloud.prefillSeconds(layers: k..<L, tokens: trip.rows)) + cloud.headSeconds
            let bitsPerSecond = state.monitor.bitsPerSecond ?? state.network.uplinkBitsPerSecond
            let bits = Double(trip.requestBytes + trip.replyBytes) * 8
            let serialisation = bits / bitsPerSecond
            if serialisation > max(0.002, cloudSeconds) {
                let roundTrip = state.monitor.roundTripSeconds ?? state.network.roundTripSeconds
                let moving = trip.seconds - roundTrip - cloudSeconds
                if moving > 0.25 * trip.seconds { _ = state.monitor.record(bitsPerSecond: bits / moving) }
            } else if trip.rows <= Self.maxRowsForRoundTrip {
                _ = state.monitor.record(roundTripSeconds: max(0, trip.seconds - cloudSeconds - serialisation))
            }
            return replanIfDrifted(&state)
        }
    }

    /// Counts a heartbeat round trip (no model work on the cloud); returns the re-plan, if any.
    public func observe(pingSeconds: Double) -> Replan? {
        state.withLock { state in
            _ = state.monitor.record(roundTripSeconds: pingSeconds)
            return replanIfDrifted(&state)
        }
    }

    private func replanIfDrifted(_ state: inout State) -> Replan? {
        guard state.monitor.needsReplan else { return nil }
        var network = state.network
        let roundTrip = state.monitor.roundTripSeconds ?? network.roundTripSeconds
        let bitsPerSecond = state.monitor.bitsPerSecond ?? network.uplinkBitsPerSecond
        let source = "measured by the edge from its round trips"
        // The downlink keeps its ratio to the uplink: the edge's samples mix both directions.
        let downlinkRatio = network.downlinkBitsPerSecond / max(1, network.uplinkBitsPerSecond)
        network.name = "measured-\(configuration.network.name)"
        network.roundTripMilliseconds = ProfileFigure(roundTrip * 1e3, source: source)
        network.uplinkMegabitsPerSecond = ProfileFigure(bitsPerSecond / 1e6, source: source)
        network.downlinkMegabitsPerSecond = ProfileFigure(bitsPerSecond * downlinkRatio / 1e6, source: source)
        state.monitor.rebaseline()
        // The configured plan was possible, and only the link changed: the memory check that
        // passed then passes now, so a failure here cannot happen; keep the old plan if it does.
        guard let choice = try? Self.choose(shape, configuration, network: network) else { return nil }
        let replan = Replan(previousStrategy: state.choice.strategy, strategy: choice.strategy, splitLayer: choice.splitLayer,
                            roundTripSeconds: roundTrip, bitsPerSecond: bitsPerSecond,
                            predictedDecodeSeconds: choice.decode.totalSeconds)
        state.network = network
        state.choice = choice
        state.replans += 1
        return replan
    }

    private static func costModel(_ shape: ModelShape, _ configuration: Configuration, network: NetworkProfile) -> CostModel {
        CostModel(shape: shape, edge: configuration.edge, cloud: configuration.cloud, network: network,
                  workload: configuration.workload)
    }

    /// The planner's best fitting row among the split layers the clouds serve (and local).
    private static func choose(_ shape: ModelShape, _ configuration: Configuration,
                               network: NetworkProfile) throws(SplitPlanner.PlanError) -> CostModel.Estimate {
        let planner = SplitPlanner(costModel: costModel(shape, configuration, network: network),
                                   memoryLimitBytes: configuration.memoryLimitBytes, encodings: configuration.encodings)
        let plan = try planner.plan()
        let L = shape.layerCount
        let allowed = plan.rows.filter { $0.fits && ($0.estimate.splitLayer >= configuration.lowestSplitLayer || $0.estimate.splitLayer == L) }
        guard let best = allowed.map(\.estimate).min(by: SplitPlanner.better) else {
            throw .nothingFits(memoryLimitBytes: plan.memoryLimitBytes,
                               smallestNeededBytes: plan.rows[min(max(0, configuration.lowestSplitLayer), L)].estimate.edgeMemoryBytes)
        }
        return best
    }
}

