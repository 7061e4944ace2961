import Foundation

/// How the selector predicts a candidate's latency.
public enum SelectionLearner: String, Sendable, CaseIterable, Codable {
    /// The planner's cost model alone (the cold start; learns nothing).
    case planner
    /// The k nearest recorded tasks that ran the strategy (a baseline that ignores the planner).
    case knn
    /// The meta-learner: starts at the planner and learns how its prediction is off, as a
    /// ridge regression of the log error, log(measured / planned), on the planned
    /// time's parts (edge compute, transfer, cloud compute, round trips, round trips queued at
    /// a busy cloud, a constant), each
    /// relative to the planned total: pooled over every run with a copy per strategy kind,
    /// plus a per-strategy regression on what is left, plus optionally the mean error left on
    /// the nearest recorded tasks. Corrections scale with the parts they correct, so they
    /// carry to devices, links and workloads outside the history; the penalties (and whether
    /// to use the neighbours) are chosen by holding out groups of the history (planner alone
    /// unless that helps).
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
    /// Control strategies: the predicted time of one action chunk (what decides between
    /// strategies the control loop cannot tell apart).
    public var chunkSeconds: Double?
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
    /// Ridge penalties for `.meta` (on standardized features) when the history is too small to
    /// cross-validate them: the pooled regression's and the per-strategy ones'.
    public var ridgePenalty: Double
    public var strategyRidgePenalty: Double

    private var scaler = FeatureScaler(records: [])
    private var pooled: RidgeRegression?
    private var regressions: [String: RidgeRegression] = [:]
    private var runs: [String: [(x: [Double], logSeconds: Double)]] = [:]
    private var agreements: [String: (sum: Double, count: Int)] = [:]
    /// Control strategies: the log error of the planned chunk time, log(measured / planned), summed.
    private var chunkErrors: [String: (sum: Double, count: Int)] = [:]

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
        if candidates.contains(where: { $0.taskKind == .actionChunk }) { ControlReaction.prepare() }
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
        chunkErrors = [:]
        var samples: [Sample] = []
        let names = Set(candidates.map(\.description))
        for record in records where names.contains(record.strategy) && record.totalSeconds > 0 {
            guard let strategy = try? record.parsedStrategy() else { continue }
            let x = scaler.scale(record.features.vector)
            let logSeconds = log(record.totalSeconds)
            runs[record.strategy, default: []].append((x, logSeconds))
            let f = record.features
            let costModel = prior.costModel(for: f)
            let time = prior.plannedTime(strategy, for: f, costModel: costModel)
            if strategy.taskKind == .actionChunk, record.timeToFirstTokenSeconds > 0 {
                let planned = max(1e-9, prior.chunkTime(strategy, costModel: costModel).totalSeconds)
                chunkErrors[record.strategy, default: (0, 0)].sum += log(record.timeToFirstTokenSeconds / planned)
                chunkErrors[record.strategy, default: (0, 0)].count += 1
            }
            let parts = Self.parts(time, cloudLoad: f.cloudLoad)
            samples.append(Sample(name: record.strategy, task: f.vector.map { String(format: "%.4f", $0) }.joined(separator: ","),
                                  groups: [f.edgeGEMVGBPerSecond, f.roundTripMilliseconds * 1e6 + f.bandwidthMegabitsPerSecond,
                                           Double(f.promptTokens * 100_000 + f.outputTokens), log2(f.cloudLoad).rounded()],
                                  scaled: x, x: parts, pooled: Self.pooledFeatures(parts, strategy),
                                  planned: max(1e-9, time.totalSeconds), logSeconds: logSeconds))
            if let agreement = record.agreement {
                agreements[record.strategy, default: (0, 0)].sum += agreement
                agreements[record.strategy, default: (0, 0)].count += 1
            }
        }
        guard learner == .meta, !samples.isEmpty else {
            pooled = nil
            regressions = [:]
            return
        }
        let validated = crossValidatedPenalties(samples)
        let penalties: (pooled: Double, strategy: Double) = validated.map { ($0.pooled, $0.strategy) } ?? (ridgePenalty, strategyRidgePenalty)
        chosenPenalties = penalties
        usesNeighbours = validated?.neighbours ?? false
        var moments = RidgeRegression.Moments(size: samples[0].pooled.count)
        for sample in samples { moments.add(sample.pooled, sample.y) }
        let pooled = RidgeRegression(moments: moments, lambda: penalties.pooled)
        self.pooled = pooled
        regressions = Self.strategyRegressions(samples, pooled: pooled, lambda: penalties.strategy)
        residuals = usesNeighbours ? Self.residuals(samples, pooled: pooled, perStrategy: regressions) : [:]
    }

    /// Whether the meta-learner adds its neighbours' correction: the mean error left by the
    /// regressions on the `neighbours` recorded tasks nearest to the task, per strategy
    /// (chosen by the same held-out-group validation).
    public private(set) var usesNeighbours = false
    private var residuals: [String: [(scaled: [Double], error: Double)]] = [:]

    /// What the regressions leave of each run's error, per strategy.
    static func residuals(_ samples: [Sample], pooled: RidgeRegression,
                          perStrategy: [String: RidgeRegression]) -> [String: [(scaled: [Double], error: Double)]] {
        Dictionary(grouping: samples, by: \.name).mapValues { group in
            group.map { ($0.scaled, $0.y - pooled.predict($0.pooled) - (perStrategy[$0.name]?.predict($0.x) ?? 0)) }
        }
    }

    /// The mean of the `k` errors recorded nearest to `scaled` (0 with none).
    static func neighbourCorrection(_ scaled: [Double], _ recorded: [(scaled: [Double], error: Double)]?, k: Int) -> Double {
        guard let recorded, !recorded.isEmpty else { return 0 }
        let nearest = recorded.map { (distance: zip($0.scaled, scaled).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }, $0.error) }
            .sorted { $0.distance < $1.distance }.prefix(k)
        return nearest.reduce(0) { $0 + $1.1 } / Double(nearest.count)
    }

    /// The penalties (pooled, per strategy) the meta-learner used in its last training; ∞
    /// turns a part off (both ∞: the planner alone).
    public private(set) var chosenPenalties: (pooled: Double, strategy: Double) = (.infinity, .infinity)

    /// Penalties cross-validation tries, the most cautious (the planner alone) first.
    static let penaltyGrid: [(pooled: Double, strategy: Double)] = [(.infinity, .infinity), (.infinity, 100), (.infinity, 10)]
        + [1000.0, 100, 10, 1].flatMap { pooled in [Double.infinity, 100, 10].map { (pooled, $0) } }

    /// One recorded run as the meta-learner sees it.
    struct Sample {
        var name: String
        /// Identifies the task (runs of the same features share it).
        var task: String
        /// Keys of the task's device, link, workload and cloud load (in powers of two): the groups
        /// cross-validation holds out.
        var groups: [Double]
        /// The task's standardized features (distances for the neighbours' correction).
        var scaled: [Double]
        /// The planned time's parts (the per-strategy regression's features).
        var x: [Double]
        var pooled: [Double]
        /// Planned seconds.
        var planned: Double
        var logSeconds: Double
        /// The plan's log error, log(measured / planned): a run stalled by other load counts as
        /// one error among many, not as the square of a large one.
        var y: Double { logSeconds - log(planned) }
    }

    /// Per-strategy regressions of what the pooled one leaves.
    static func strategyRegressions(_ samples: [Sample], pooled: RidgeRegression, lambda: Double) -> [String: RidgeRegression] {
        guard lambda.isFinite else { return [:] }
        return Dictionary(grouping: samples, by: \.name).mapValues { group in
            var moments = RidgeRegression.Moments(size: group[0].x.count)
            for sample in group { moments.add(sample.x, sample.y - pooled.predict(sample.pooled)) }
            return RidgeRegression(moments: moments, lambda: lambda)
        }
    }

    /// The penalties whose selections regret least when whole groups of recorded tasks are
    /// held out in turn (each device, each link, each workload, each cloud load; a grouping
    /// with more than six values is cut into four contiguous ranges), as the selector meets new
    /// devices, links, workloads and loads; a bolder setting must beat a more cautious one by 1 % to be taken. Nil
    /// when no grouping has two values.
    func crossValidatedPenalties(_ samples: [Sample]) -> (pooled: Double, strategy: Double, neighbours: Bool)? {
        var heldOut: [[Bool]] = []
        for grouping in samples[0].groups.indices {
            let values = Array(Set(samples.map { $0.groups[grouping] })).sorted()
            guard values.count >= 2 else { continue }
            let bins = values.count <= 6 ? values.count : 4
            let binOf = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0 * bins / values.count) })
            for bin in 0..<bins { heldOut.append(samples.map { binOf[$0.groups[grouping]] == bin }) }
        }
        guard !heldOut.isEmpty else { return nil }
        let size = samples[0].pooled.count
        var total = RidgeRegression.Moments(size: size)
        for sample in samples { total.add(sample.pooled, sample.y) }
        // Regret of each grid point without, then with, the neighbours' correction.
        var regret = [Double](repeating: 0, count: 2 * Self.penaltyGrid.count)
        for mask in heldOut {
            let training = zip(samples, mask).filter { !$0.1 }.map(\.0)
            let held = Dictionary(grouping: zip(samples, mask).filter { $0.1 }.map(\.0), by: \.task)
            var heldMoments = RidgeRegression.Moments(size: size)
            for sample in held.values.joined() { heldMoments.add(sample.pooled, sample.y) }
            let trainingMoments = total.subtracting(heldMoments)
            var pooledFits: [Double: RidgeRegression] = [:]
            for (index, penalties) in Self.penaltyGrid.enumerated() {
                let pooled = pooledFits[penalties.pooled] ?? RidgeRegression(moments: trainingMoments, lambda: penalties.pooled)
                pooledFits[penalties.pooled] = pooled
                let perStrategy = Self.strategyRegressions(training, pooled: pooled, lambda: penalties.strategy)
                let left = Self.residuals(training, pooled: pooled, perStrategy: perStrategy)
                for runs in held.values {
                    // Per strategy: the mean measured log latency and the predictions without
                    // and with the neighbours' correction (the same for every run of a task).
                    var measured: [String: (sum: Double, count: Double, plain: Double, corrected: Double)] = [:]
                    for run in runs {
                        if measured[run.name] == nil {
                            let plain = log(Self.corrected(planned: run.planned,
                                                           error: pooled.predict(run.pooled) + (perStrategy[run.name]?.predict(run.x) ?? 0)))
                            measured[run.name] = (0, 0, plain, plain + Self.neighbourCorrection(run.scaled, left[run.name], k: neighbours))
                        }
                        measured[run.name]!.sum += run.logSeconds
                        measured[run.name]!.count += 1
                    }
                    guard let best = measured.values.map({ $0.sum / $0.count }).min(),
                          let plain = measured.min(by: { $0.value.plain < $1.value.plain }),
                          let corrected = measured.min(by: { $0.value.corrected < $1.value.corrected }) else { continue }
                    regret[index] += exp(plain.value.sum / plain.value.count - best)
                    regret[Self.penaltyGrid.count + index] += exp(corrected.value.sum / corrected.value.count - best)
                }
            }
        }
        var choice = 0
        for index in regret.indices.dropFirst() where regret[index] < regret[choice] * 0.99 { choice = index }
        let penalties = Self.penaltyGrid[choice % Self.penaltyGrid.count]
        return (penalties.pooled, penalties.strategy, choice >= Self.penaltyGrid.count)
    }

    /// The planned time's parts relative to its total: edge, transfer, cloud, round trips
    /// (1 ms each), round trips queued at a busy cloud (1 ms × log of its load each: a request
    /// waits for the other sessions' work in flight, once per exchange; 0 on an idle cloud) and
    /// a constant 1 ms.
    static func parts(_ time: PlannerPrior.PlannedTime, cloudLoad: Double) -> [Double] {
        let total = max(1e-9, time.totalSeconds)
        return [time.edgeSeconds / total, time.transferSeconds / total, time.cloudSeconds / total,
                time.roundTrips * 1e-3 / total, time.roundTrips * 1e-3 * log(max(1, cloudLoad)) / total, 1e-3 / total]
    }

    /// The pooled regression's features: the parts, and a copy of them for the strategy's kind
    /// (local, cloud, split, split-exit, split-spec, and each control mode).
    static func pooledFeatures(_ parts: [Double], _ strategy: Strategy) -> [Double] {
        let kind: Int
        switch strategy {
        case .local: kind = 0
        case .cloud: kind = 1
        case .split: kind = 2
        case .splitExit: kind = 3
        case .splitSpec: kind = 4
        case .control(let mode, _): kind = 5 + (ControlMode.allCases.firstIndex(of: mode) ?? 0)
        }
        let kinds = 5 + ControlMode.allCases.count
        var features = parts + [Double](repeating: 0, count: kinds * parts.count)
        for (index, part) in parts.enumerated() { features[parts.count * (1 + kind) + index] = part }
        return features
    }

    /// The meta-learner's latency from the planned one and the predicted log error.
    static func corrected(planned: Double, error: Double) -> Double { planned * exp(error) }

    /// The prediction of every candidate that serves `task`'s kind, in catalogue order.
    public func predictions(for task: TaskFeatures) -> [CandidatePrediction] {
        let costModel = prior.costModel(for: task)
        let x = scaler.scale(task.vector)
        return candidates.filter { $0.taskKind == task.kind }.map { strategy in
            let name = strategy.description
            let time = prior.plannedTime(strategy, for: task, costModel: costModel)
            let planned = max(1e-9, time.totalSeconds)
            var predicted = planned
            switch learner {
            case .planner: break
            case .meta:
                if let pooled {
                    let parts = Self.parts(time, cloudLoad: task.cloudLoad)
                    predicted = Self.corrected(planned: planned, error: pooled.predict(Self.pooledFeatures(parts, strategy))
                                                   + (regressions[name]?.predict(parts) ?? 0)
                                                   + (usesNeighbours ? Self.neighbourCorrection(x, residuals[name], k: neighbours) : 0))
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
            var chunk: Double?
            if strategy.taskKind == .actionChunk {
                let error = learner == .planner ? nil : chunkErrors[name].map { $0.sum / Double(max(1, $0.count)) }
                chunk = prior.chunkTime(strategy, costModel: costModel).totalSeconds * exp(error ?? 0)
            }
            return CandidatePrediction(strategy: strategy, guarantee: strategy.guarantee, predictedSeconds: predicted,
                                       plannerSeconds: planned, expectedAgreement: agreement,
                                       admitted: task.requirement.admits(strategy, expectedAgreement: agreement),
                                       samples: runs[name]?.count ?? 0, chunkSeconds: chunk)
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
                .map { (choice: $0, seconds: prediction.predictedSeconds, chunk: prediction.chunkSeconds ?? 0) }
        }
        guard var best = admitted.min(by: { $0.seconds < $1.seconds }) else {
            throw SelectionError.invalidFeatures("no candidate strategy meets the requirement \(task.requirement)")
        }
        if task.kind == .actionChunk {
            // The loop sees chunks once per period: reactions predicted within half a period of
            // the best are one to it, and among those the chunk that comes back soonest is taken.
            let alike = admitted.filter { $0.seconds <= best.seconds + ControlReaction.periodSeconds / 2 }
            best = alike.min { ($0.chunk, $0.seconds) < ($1.chunk, $1.seconds) } ?? best
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
