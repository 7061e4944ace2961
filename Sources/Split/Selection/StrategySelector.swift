import Foundation

/// How the selector predicts a candidate's latency.
public enum SelectionLearner: String, Sendable, CaseIterable, Codable {
    /// The planner's cost model alone (the cold start; learns nothing).
    case planner
    /// The k nearest recorded tasks that ran the strategy (a baseline that ignores the planner).
    case knn
    /// The meta-learner: ridge regressions of the log ratio of measured to planned latency, so
    /// it starts at the planner and corrects it. A pooled regression over every run, on the
    /// task features, the strategy's parameters and their products, carries what one strategy
    /// teaches about its neighbours; a per-strategy regression on the task features, shrunk
    /// harder, corrects what is left of each.
    case meta
}

/// One candidate's prediction for a task.
public struct CandidatePrediction: Sendable, Equatable {
    public var strategy: Strategy
    public var guarantee: OutputGuarantee
    /// The selector's predicted total latency, and the planner's.
    public var predictedSeconds: Double
    public var plannerSeconds: Double
    /// Expected token agreement with the full model.
    public var expectedAgreement: Double
    /// Whether the task's requirement admits it.
    public var admitted: Bool
    /// Recorded runs of this strategy the prediction learned from.
    public var samples: Int
}

/// The selector's answer: the strategy to serve with (checked against the requirement), whether
/// it was an exploration, every candidate's prediction, and the time choosing took.
public struct Selection: Sendable {
    public var choice: AdmittedStrategy
    public var explored: Bool
    public var predictions: [CandidatePrediction]
    public var overheadSeconds: Double
    public var strategy: Strategy { choice.strategy }
}

/// Picks the strategy for each task from recorded performance: predicts every catalogue
/// candidate's latency (planner cold start, then learned from history), keeps only those the
/// task's quality requirement admits, and takes the fastest, or with probability
/// `explorationRate` a random admitted one so the history keeps covering the catalogue.
public struct StrategySelector: Sendable {
    public let candidates: [Strategy]
    public let prior: PlannerPrior
    public let learner: SelectionLearner
    public var explorationRate: Double
    /// Neighbours for `.knn`.
    public var neighbours: Int
    /// Ridge penalties for `.meta` (on standardized features): the pooled regression's and the
    /// per-strategy ones'.
    public var ridgePenalty: Double
    public var strategyRidgePenalty: Double

    private var scaler = FeatureScaler(records: [])
    private var pooled: RidgeRegression?
    private var regressions: [String: RidgeRegression] = [:]
    private var runs: [String: [(x: [Double], logSeconds: Double)]] = [:]
    private var agreements: [String: (sum: Double, count: Int)] = [:]

    /// A selector over `candidates` (e.g. `StrategyCatalogue.strategies`), untrained.
    public init(candidates: [Strategy], prior: PlannerPrior, learner: SelectionLearner = .meta, explorationRate: Double = 0,
                neighbours: Int = 5, ridgePenalty: Double = 1, strategyRidgePenalty: Double = 10) {
        self.candidates = candidates
        self.prior = prior
        self.learner = learner
        self.explorationRate = min(1, max(0, explorationRate))
        self.neighbours = max(1, neighbours)
        self.ridgePenalty = max(1e-6, ridgePenalty)
        self.strategyRidgePenalty = max(1e-6, strategyRidgePenalty)
    }

    /// Recorded runs this selector learned from.
    public private(set) var trainingRecords = 0

    /// Learns from `records` (replacing what it learned before). Records of strategies outside
    /// the catalogue count only for the feature scaling.
    public mutating func train(on records: [HistoryRecord]) {
        trainingRecords = records.count
        scaler = FeatureScaler(records: records.map(\.features))
        runs = [:]
        agreements = [:]
        var samples: [(name: String, x: [Double], pooled: [Double], y: Double)] = []
        let names = Set(candidates.map(\.description))
        for record in records where names.contains(record.strategy) && record.totalSeconds > 0 {
            guard let strategy = try? record.parsedStrategy() else { continue }
            let x = scaler.scale(record.features.vector)
            let logSeconds = log(record.totalSeconds)
            runs[record.strategy, default: []].append((x, logSeconds))
            let planned = log(max(1e-9, prior.predictedSeconds(strategy, for: record.features)))
            samples.append((record.strategy, x, Self.pooledFeatures(x, strategy, planned: planned, layerCount: prior.shape.layerCount),
                            logSeconds - planned))
            if let agreement = record.agreement {
                agreements[record.strategy, default: (0, 0)].sum += agreement
                agreements[record.strategy, default: (0, 0)].count += 1
            }
        }
        let pooled = RidgeRegression(samples: samples.map { ($0.pooled, $0.y) }, lambda: ridgePenalty)
        self.pooled = samples.isEmpty ? nil : pooled
        regressions = Dictionary(grouping: samples, by: \.name).mapValues { group in
            RidgeRegression(samples: group.map { ([1] + $0.x, $0.y - pooled.predict($0.pooled)) }, lambda: strategyRidgePenalty)
        }
    }

    /// The pooled regression's features: the task's, the strategy's parameters, every product
    /// of the two, and the planner's log latency.
    static func pooledFeatures(_ x: [Double], _ strategy: Strategy, planned: Double, layerCount: Int) -> [Double] {
        let d = descriptor(strategy, layerCount: layerCount)
        var features = [1] + x + d + [planned]
        features.reserveCapacity(features.count + x.count * d.count)
        for a in x { for b in d { features.append(a * b) } }
        return features
    }

    /// A strategy as numbers: its kind, split layer over L, bytes per activation value over
    /// f32's, log(γ + 1) of split-spec and τ of split-exit.
    static func descriptor(_ strategy: Strategy, layerCount L: Int) -> [Double] {
        var kind = [Double](repeating: 0, count: 5)
        var gamma = 0.0, tau = 0.0
        switch strategy {
        case .local: kind[0] = 1
        case .cloud: kind[1] = 1
        case .split: kind[2] = 1
        case .splitExit(_, let threshold, _, _):
            kind[3] = 1
            tau = Double(threshold)
        case .splitSpec(_, let draftLength, _, _):
            kind[4] = 1
            gamma = log(Double(draftLength + 1))
        }
        let bytes = strategy.encoding.map { Double($0.rowByteCount(hiddenSize: 256) ?? 1024) / 1024 } ?? 0
        return kind + [Double(strategy.splitLayer ?? L) / Double(max(1, L)), bytes, gamma, tau]
    }

    /// Every candidate's prediction for `task`, in catalogue order.
    public func predictions(for task: TaskFeatures) -> [CandidatePrediction] {
        let costModel = prior.costModel(for: task)
        let x = scaler.scale(task.vector)
        return candidates.map { strategy in
            let name = strategy.description
            let planned = max(1e-9, prior.predictedSeconds(strategy, for: task, costModel: costModel))
            var predicted = planned
            switch learner {
            case .planner: break
            case .meta:
                if let pooled {
                    let residual = pooled.predict(Self.pooledFeatures(x, strategy, planned: log(planned), layerCount: prior.shape.layerCount))
                        + (regressions[name]?.predict([1] + x) ?? 0)
                    predicted = planned * exp(residual)
                }
            case .knn:
                if let recorded = runs[name], !recorded.isEmpty {
                    let nearest = recorded.map { (distance: zip($0.x, x).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }, $0.logSeconds) }
                        .sorted { $0.distance < $1.distance }.prefix(neighbours)
                    predicted = exp(nearest.reduce(0) { $0 + $1.1 } / Double(nearest.count))
                }
            }
            // The prior's expectation counts as two runs, so a few measured ones move it.
            let measured = agreements[name] ?? (0, 0)
            let agreement = (2 * prior.expectedAgreement(strategy) + measured.sum) / Double(2 + measured.count)
            return CandidatePrediction(strategy: strategy, guarantee: strategy.guarantee, predictedSeconds: predicted,
                                       plannerSeconds: planned, expectedAgreement: agreement,
                                       admitted: task.requirement.admits(strategy, expectedAgreement: agreement),
                                       samples: runs[name]?.count ?? 0)
        }
    }

    /// The strategy for `task`: the admitted candidate with the lowest predicted latency, or a
    /// random admitted one with probability `explorationRate`. Only an `AdmittedStrategy` can
    /// be returned, so an exact request never gets an approximate strategy.
    /// - Throws: `SelectionError.invalidFeatures` when no candidate is admitted (a catalogue
    ///   without an exact strategy asked for an exact request).
    public func select<G: RandomNumberGenerator>(for task: TaskFeatures, using random: inout G) throws -> Selection {
        let start = DispatchTime.now()
        let predictions = predictions(for: task)
        let admitted = predictions.compactMap { prediction in
            AdmittedStrategy(prediction.strategy, for: task.requirement, expectedAgreement: prediction.expectedAgreement)
                .map { (choice: $0, seconds: prediction.predictedSeconds) }
        }
        guard let best = admitted.min(by: { $0.seconds < $1.seconds }) else {
            throw SelectionError.invalidFeatures("no candidate strategy meets the requirement \(task.requirement)")
        }
        let explore = explorationRate > 0 && admitted.count > 1 && Double.random(in: 0..<1, using: &random) < explorationRate
        let choice = explore ? admitted.randomElement(using: &random)!.choice : best.choice
        let overhead = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Selection(choice: choice, explored: explore, predictions: predictions, overheadSeconds: overhead)
    }

    /// `select(for:using:)` with the system's random generator.
    /// - Throws: as `select(for:using:)`.
    public func select(for task: TaskFeatures) throws -> Selection {
        var random = SystemRandomNumberGenerator()
        return try select(for: task, using: &random)
    }
}

/// Standardizes feature vectors with the means and spreads of the training tasks.
struct FeatureScaler: Sendable {
    let means: [Double]
    let scales: [Double]

    init(records: [TaskFeatures]) {
        let vectors = records.map(\.vector)
        let n = TaskFeatures.vectorNames.count
        guard !vectors.isEmpty else {
            means = [Double](repeating: 0, count: n)
            scales = [Double](repeating: 1, count: n)
            return
        }
        let count = Double(vectors.count)
        let means = (0..<n).map { i in vectors.reduce(0) { $0 + $1[i] } / count }
        scales = (0..<n).map { i in
            let variance = vectors.reduce(0) { $0 + ($1[i] - means[i]) * ($1[i] - means[i]) } / count
            // A feature constant in training (e.g. one cloud load) keeps scale 1, not ∞.
            return variance > 1e-12 ? variance.squareRoot() : 1
        }
        self.means = means
    }

    func scale(_ vector: [Double]) -> [Double] {
        zip(vector, zip(means, scales)).map { ($0 - $1.0) / $1.1 }
    }
}
