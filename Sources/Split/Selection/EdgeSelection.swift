import Foundation
import Logging

/// The edge daemon's side of selection: picks the strategy of every request that names none,
/// records every finished request in the history store, and retrains the selector on the
/// history as it grows.
public final class EdgeSelection: @unchecked Sendable {
    // Safe to send: the selector, the round-trip samples and the counter are behind locks;
    // the rest is immutable.
    public struct Settings: Sendable {
        /// Where finished requests are recorded (nil: nothing is recorded).
        public var history: HistoryStore?
        /// This edge, the cloud behind the link, and the link's nominal figures (the measured
        /// round trip replaces the nominal one once the edge has seen a few).
        public var device: DeviceProfile
        public var cloud: DeviceProfile
        public var network: NetworkProfile
        /// The candidates; nil: `StrategyCatalogue.standard` for the model.
        public var catalogue: StrategyCatalogue?
        public var learner: SelectionLearner
        public var explorationRate: Double
        /// Retrain after this many new records.
        public var retrainEvery: Int
        /// Whether requests that name no strategy are served with the selector's choice
        /// (otherwise with the edge's default strategy, and only recorded).
        public var selectsStrategies: Bool
        /// Requirement of requests that give no `quality`.
        public var defaultRequirement: QualityRequirement

        public init(history: HistoryStore?, device: DeviceProfile, cloud: DeviceProfile, network: NetworkProfile,
                    catalogue: StrategyCatalogue? = nil, learner: SelectionLearner = .meta, explorationRate: Double = 0.05,
                    retrainEvery: Int = 20, selectsStrategies: Bool = true, defaultRequirement: QualityRequirement = .exact) {
            self.history = history
            self.device = device
            self.cloud = cloud
            self.network = network
            self.catalogue = catalogue
            self.learner = learner
            self.explorationRate = explorationRate
            self.retrainEvery = max(1, retrainEvery)
            self.selectsStrategies = selectsStrategies
            self.defaultRequirement = defaultRequirement
        }
    }

    public let settings: Settings
    public let shape: ModelShape
    private let selector: Locked<StrategySelector>
    private let roundTrips = Locked<[Double]>([])
    private let sinceTraining = Locked(0)
    private let logger: Logger

    /// Selection for a model of `shape`; `hasCloud` false leaves only local as a candidate;
    /// `candidates` replaces the catalogue's (a policy service: its control strategies).
    /// Trains on the history already recorded.
    /// - Throws: `SelectionError.store` when the history cannot be read.
    public init(settings: Settings, shape: ModelShape, calibration: ExitCalibration?, hasCloud: Bool,
                candidates: [Strategy]? = nil, logger: Logger = Logger(label: "split.select")) throws {
        self.settings = settings
        self.shape = shape
        self.logger = logger
        let catalogue = settings.catalogue ?? .standard(layerCount: shape.layerCount)
        let candidates = candidates ?? (hasCloud ? catalogue.strategies(layerCount: shape.layerCount) : [.local])
        var selector = StrategySelector(
            candidates: candidates,
            prior: PlannerPrior(shape: shape, cloud: settings.cloud, devices: [settings.device], calibration: calibration),
            learner: settings.learner, explorationRate: settings.explorationRate)
        if let history = settings.history { selector.train(on: try history.records()) }
        self.selector = Locked(selector)
    }

    /// The features of a request with `promptTokens` tokens.
    /// - Throws: `CompletionError.invalidRequest` for a `quality` that does not parse.
    public func features(of request: CompletionRequest, promptTokens: Int) throws -> TaskFeatures {
        try features(kind: .completion, quality: request.quality, promptTokens: promptTokens, outputTokens: request.maxTokens)
    }

    /// The features of an `act` request for `horizon` actions (the policy's input tokens in,
    /// one chunk out), the kind the control strategies serve.
    /// - Throws: `CompletionError.invalidRequest` for a `quality` that does not parse.
    public func features(ofAct request: ActRequest, horizon: Int) throws -> TaskFeatures {
        try features(kind: .actionChunk, quality: request.quality, promptTokens: PolicyInput.tokenCount, outputTokens: horizon)
    }

    private func features(kind: TaskKind, quality: String?, promptTokens: Int, outputTokens: Int) throws -> TaskFeatures {
        let requirement = try quality.map(QualityRequirement.parse) ?? settings.defaultRequirement
        var network = settings.network
        if let measured = measuredRoundTripMilliseconds {
            network.roundTripMilliseconds = ProfileFigure(measured, source: "median of the edge's recent round trips")
            network.name = "measured"
        }
        return TaskFeatures(kind: kind, promptTokens: promptTokens, outputTokens: outputTokens, requirement: requirement,
                            device: settings.device, network: network, shape: shape)
    }

    /// The selector's choice for a task, or nil when this edge does not select strategies.
    /// - Throws: `SelectionError` when no candidate meets the requirement.
    public func select(_ task: TaskFeatures) throws -> Selection? {
        guard settings.selectsStrategies else { return nil }
        return try selector.withLock { try $0.select(for: task) }
    }

    /// Whether a strategy a client named may serve a request of this requirement.
    public func admits(_ strategy: Strategy, _ task: TaskFeatures) -> Bool {
        task.requirement.admits(strategy, expectedAgreement: selector.withLock { $0.prior.expectedAgreement(strategy) })
    }

    /// Notes one cloud round trip (the link's measured RTT feeds the features).
    public func recordRoundTrip(seconds: Double) {
        roundTrips.withLock {
            $0.append(seconds)
            if $0.count > 64 { $0.removeFirst($0.count - 64) }
        }
    }

    /// Median of the recent round trips, ms, once there are at least 5.
    public var measuredRoundTripMilliseconds: Double? {
        let samples = roundTrips.withLock { $0 }.sorted()
        return samples.count >= 5 ? samples[samples.count / 2] * 1e3 : nil
    }

    /// Records a finished request and retrains every `retrainEvery` records. A store error is
    /// logged, not thrown: the request itself succeeded.
    public func record(_ task: TaskFeatures, strategy: Strategy, summary: CompletionSummary, explored: Bool) {
        guard let history = settings.history, !summary.degraded else { return }
        let counts = summary.counts
        store(HistoryRecord(
            features: task, strategy: strategy.description, timeToFirstTokenSeconds: summary.timeToFirstTokenSeconds,
            totalSeconds: max(1e-9, summary.totalSeconds), outputTokens: summary.completionTokenCount,
            roundTrips: counts?.roundTrips ?? 0,
            acceptanceRate: counts.flatMap { $0.drafted > 0 ? Double($0.acceptedDrafts) / Double($0.drafted) : nil },
            agreement: strategy.guarantee == .exact ? 1 : nil, explored: explored))
    }

    /// Records an answered `act` request as the evaluation records a control run: the chunk's
    /// latency as the time to its first (only) answer, and as total time the reaction the control
    /// loop is expected to have in the strategy's mode at that latency (`ControlReaction`).
    public func recordAct(_ task: TaskFeatures, strategy: Strategy, latencySeconds: Double, explored: Bool) {
        guard settings.history != nil, case .control(let mode, let placement) = strategy else { return }
        let reaction = ControlReaction.expectedSeconds(mode: mode, delaySteps: ControlReaction.delaySteps(seconds: latencySeconds))
        store(HistoryRecord(
            features: task, strategy: strategy.description, timeToFirstTokenSeconds: max(1e-9, latencySeconds),
            totalSeconds: max(1e-9, reaction), outputTokens: task.outputTokens, roundTrips: placement == .local ? 0 : 1,
            agreement: strategy.guarantee == .exact ? 1 : nil, explored: explored))
    }

    private func store(_ record: HistoryRecord) {
        guard let history = settings.history else { return }
        do {
            try history.record(record)
            let due = sinceTraining.withLock { count -> Bool in
                count += 1
                guard count >= settings.retrainEvery else { return false }
                count = 0
                return true
            }
            if due {
                let records = try history.records()
                selector.withLock { $0.train(on: records) }
            }
        } catch {
            logger.warning("history not recorded", metadata: ["error": "\(error)"])
        }
    }
}
