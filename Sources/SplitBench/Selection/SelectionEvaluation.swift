import Foundation
import Split

/// Evaluates strategy selection on a measured matrix, as algorithm-selection work (ASlib)
/// does: the suite's tasks are split by a group (a network profile, a device or a workload);
/// each group in turn is held out, the selectors train on the history of the other groups'
/// tasks and choose for the held-out group's tasks, and their choices are scored by the
/// measured latencies. Baselines: random, the single best strategy on the training tasks, an
/// expert rule, the planner alone, kNN, and the per-task oracle.
public struct SelectionEvaluation: Sendable {
    public let matrix: SelectionMatrix
    public let prior: PlannerPrior
    public let strategies: [Strategy]

    /// What a group is.
    public enum Grouping: String, Sendable, CaseIterable, Codable {
        case network, device, workload
        case cloudLoad = "cloud-load"
    }

    /// The groupings the matrix varies (the cloud load only when it has more than one).
    public var groupings: [Grouping] {
        Grouping.allCases.filter { grouping in Set(matrix.cells.map { group(of: $0, grouping) }).count > 1 }
    }

    /// A method that chooses a strategy per task.
    public enum Method: String, Sendable, CaseIterable, Codable {
        case oracle, random, singleBest = "single-best", expert, planner, knn, meta
    }

    /// One task: a cell under one requirement, with the measured median latency and mean agreement of
    /// every strategy and the oracle's choice among those meeting the requirement.
    public struct Task: Sendable {
        public var cellIndex: Int
        public var features: TaskFeatures
        public var seconds: [String: Double]
        public var agreement: [String: Double]
        public var oracle: String
        /// The strategies whose runs overlap the oracle's (its slowest run is no faster than
        /// their fastest): measured apart by less than the runs' own spread. The oracle included.
        public var tiedWithOracle: Set<String> = []
        /// Whether a strategy's measured output meets the requirement.
        public func feasible(_ name: String, strategy: Strategy) -> Bool {
            switch features.requirement {
            case .exact: return strategy.guarantee == .exact
            case .agreement(let x): return strategy.guarantee == .exact || (agreement[name] ?? 0) >= x
            }
        }
    }

    public let tasks: [Task]

    /// An evaluation of `matrix`; `thisMachine` is the profile the devices were slowed from.
    /// - Throws: `SelectionError.invalidFeatures` when a strategy name does not parse.
    public init(matrix: SelectionMatrix, thisMachine: DeviceProfile, cloud: DeviceProfile, calibration: ExitCalibration?) throws {
        self.matrix = matrix
        let devices = matrix.suite.devices.map { thisMachine.slowed(by: $0.slowdown, name: $0.name) }
        prior = PlannerPrior(shape: matrix.shape, policyShape: matrix.policyShape, cloud: cloud, devices: devices, calibration: calibration)
        strategies = try matrix.strategies.map { name in
            do { return try Strategy.parse(name, default: "local") } catch { throw SelectionError.invalidFeatures("strategy \(name): \(error)") }
        }
        var tasks: [Task] = []
        for (index, cell) in matrix.cells.enumerated() {
            // The median run: one repeat stalled by another process's burst does not decide.
            let seconds = cell.runs.mapValues { runs in Self.median(runs.map(\.totalSeconds)) }
            let order = cell.runs.mapValues(Self.sortKey)
            let agreement = cell.runs.mapValues { runs in runs.map(\.agreement).reduce(0, +) / Double(max(1, runs.count)) }
            for requirement in matrix.suite.requirements(for: cell.features.kind) {
                var features = cell.features
                features.requirement = requirement
                var task = Task(cellIndex: index, features: features, seconds: seconds, agreement: agreement, oracle: "")
                let feasible = zip(matrix.strategies, strategies).filter { task.feasible($0.0, strategy: $0.1) && seconds[$0.0] != nil }
                guard let best = feasible.min(by: { order[$0.0]! < order[$1.0]! }) else { continue }
                task.oracle = best.0
                if let oracleRuns = cell.runs[best.0]?.map(\.totalSeconds), let slowest = oracleRuns.max() {
                    task.tiedWithOracle = Set(feasible.map(\.0).filter { name in
                        name == best.0 || (cell.runs[name]?.map(\.totalSeconds).min()).map { $0 <= slowest } ?? false
                    })
                }
                tasks.append(task)
            }
        }
        self.tasks = tasks
    }

    /// How reproducible the oracle's label is: on every task whose cell has at least four runs
    /// of each strategy, whether the fastest strategy by the median of the first half of its
    /// runs (rounded up: the first measurement of a cell later topped up) is the fastest by the
    /// median of the rest. Nil without such cells. A selector cannot be expected to match the
    /// label more often than two measurements of it match each other. `kind`: its tasks only.
    public func labelRetest(kind: TaskKind? = nil) -> (tasks: Int, agreement: Double)? {
        var tasks = 0, agreeing = 0
        for task in self.tasks where kind == nil || task.features.kind == kind {
            let cell = matrix.cells[task.cellIndex]
            let counts = cell.runs.values.map(\.count)
            guard let fewest = counts.min(), fewest >= 4 else { continue }
            let half = (fewest + 1) / 2
            let feasible = zip(matrix.strategies, strategies).filter { task.feasible($0.0, strategy: $0.1) && cell.runs[$0.0] != nil }
                .map(\.0)
            func fastest(_ runs: (ArraySlice<SelectionMatrix.Run>) -> ArraySlice<SelectionMatrix.Run>) -> String? {
                feasible.min { a, b in Self.sortKey(runs(cell.runs[a]![...])) < Self.sortKey(runs(cell.runs[b]![...])) }
            }
            tasks += 1
            agreeing += fastest({ $0.prefix(half) }) == fastest({ $0.dropFirst(half).prefix(fewest - half) }) ? 1 : 0
        }
        return tasks > 0 ? (tasks, Double(agreeing) / Double(tasks)) : nil
    }

    /// What ranks a strategy's runs: the median latency, then the median first-token time. The
    /// second decides only exact ties, which control runs have: the loop sees a chunk once per
    /// period, so placements whose chunks come back within the same period steer the robot
    /// identically; the label then goes to the one whose chunks come back sooner.
    static func sortKey(_ runs: some Collection<SelectionMatrix.Run>) -> SortKey {
        SortKey(seconds: median(runs.map(\.totalSeconds)), firstSeconds: median(runs.map(\.timeToFirstTokenSeconds)))
    }

    struct SortKey: Comparable {
        var seconds: Double
        var firstSeconds: Double
        static func < (a: SortKey, b: SortKey) -> Bool { (a.seconds, a.firstSeconds) < (b.seconds, b.firstSeconds) }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The group a task belongs to under `grouping`.
    public func group(_ task: Task, _ grouping: Grouping) -> String {
        group(of: matrix.cells[task.cellIndex], grouping)
    }

    func group(of cell: SelectionMatrix.Cell, _ grouping: Grouping) -> String {
        switch grouping {
        case .network: return cell.network
        case .device: return cell.device
        case .workload: return cell.workload
        case .cloudLoad: return cell.cloudLoad
        }
    }

    /// A method's choice on one task, scored.
    public struct Outcome: Sendable, Codable {
        public var method: Method
        public var kind: TaskKind
        public var grouping: Grouping
        public var group: String
        public var task: String
        public var requirement: String
        public var choice: String
        /// Measured latency of the choice plus the selector's own time (random: the mean over
        /// the admitted strategies).
        public var seconds: Double
        public var oracleSeconds: Double
        public var oracleChoice: String
        public var singleBestSeconds: Double
        /// The choice is the oracle's (random: the probability it is).
        public var top1: Double
        /// The choice is the oracle's or tied with it (`Task.tiedWithOracle`; random: the
        /// probability). Reported beside top-1, never instead of it.
        public var top1OrTied: Double
        /// The choice's measured output misses the requirement (agreement below x).
        public var violation: Bool
        public var overheadSeconds: Double
        /// The meta-learner's penalties (pooled, per strategy) for this fold; "inf" = off.
        public var metaPenalties: String?
        /// What the selector predicted for its choice and for the oracle's (planner, kNN, meta).
        public var predictedChoiceSeconds: Double?
        public var predictedOracleSeconds: Double?
    }

    /// Every method's outcome on every task, each group held out in turn under each grouping;
    /// `historyLimit` trains on a random subsample of that many training records (`seed`).
    public func run(groupings: [Grouping]? = nil, methods: [Method] = Method.allCases,
                    historyLimit: Int? = nil, seed: UInt64 = 1) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for grouping in groupings ?? self.groupings {
            let groups = Array(Set(tasks.map { group($0, grouping) })).sorted()
            for held in groups {
                let testTasks = tasks.filter { group($0, grouping) == held }
                let trainTasks = tasks.filter { group($0, grouping) != held }
                let trainCells = Set(trainTasks.map(\.cellIndex)).sorted().map { matrix.cells[$0] }
                var history = matrix.history(cells: trainCells)
                if let historyLimit, historyLimit < history.count {
                    var random = SplitMix64(state: seed &+ UInt64(groups.firstIndex(of: held) ?? 0) &* 7919)
                    history.shuffle(using: &random)
                    history = Array(history.prefix(historyLimit))
                }
                outcomes += try evaluate(methods: methods, grouping: grouping, group: held, train: trainTasks,
                                         history: history, test: testTasks)
            }
        }
        return outcomes
    }

    private func evaluate(methods: [Method], grouping: Grouping, group held: String, train: [Task], history: [HistoryRecord],
                          test: [Task]) throws -> [Outcome] {
        var selectors: [Method: StrategySelector] = [:]
        for (method, learner) in [(Method.planner, SelectionLearner.planner), (.knn, .knn), (.meta, .meta)] where methods.contains(method) {
            var selector = StrategySelector(candidates: strategies, prior: prior, learner: learner)
            selector.train(on: history)
            selectors[method] = selector
        }
        // Agreement as the training history measured it (what random and single best may know).
        let reference = StrategySelector(candidates: strategies, prior: prior, learner: .planner)
        var trained = reference
        trained.train(on: history)
        let singleBest = self.singleBest(train: train)
        let penalties = selectors[.meta].map {
            "\($0.chosenPenalties.pooled),\($0.chosenPenalties.strategy)\($0.usesNeighbours ? ",neighbours" : "")"
        }
        var outcomes: [Outcome] = []
        for task in test {
            let cell = matrix.cells[task.cellIndex]
            let name = "\(cell.device)/\(cell.network)/\(cell.workload)" + (cell.cloudLoad == SelectionSuite.CloudLoad.idle.name ? "" : "/cloud-\(cell.cloudLoad)")
            let oracleSeconds = task.seconds[task.oracle]!
            // None when training held no task of this kind and requirement: the catalogue's first
            // strategy that meets it (local for a completion, sync local for an action chunk).
            let bestFixed = singleBest[task.features.kind]?[task.features.requirement]
                ?? zip(matrix.strategies, strategies).first { $0.1.taskKind == task.features.kind && task.feasible($0.0, strategy: $0.1)
                    && task.seconds[$0.0] != nil }?.0 ?? task.oracle
            let singleBestSeconds = task.seconds[bestFixed] ?? oracleSeconds
            for method in methods {
                var choice: String
                var seconds: Double
                var top1: Double
                var tied: Double
                var overhead = 0.0
                var predicted: (choice: Double, oracle: Double)?
                switch method {
                case .oracle:
                    choice = task.oracle
                    seconds = oracleSeconds
                    top1 = 1
                    tied = 1
                case .random:
                    let admitted = trained.predictions(for: task.features).filter(\.admitted).map(\.strategy.description)
                    choice = "random of \(admitted.count)"
                    seconds = admitted.compactMap { task.seconds[$0] }.reduce(0, +) / Double(max(1, admitted.count))
                    top1 = admitted.contains(task.oracle) ? 1 / Double(admitted.count) : 0
                    tied = Double(admitted.filter(task.tiedWithOracle.contains).count) / Double(max(1, admitted.count))
                case .singleBest:
                    choice = bestFixed
                    seconds = singleBestSeconds
                    top1 = choice == task.oracle ? 1 : 0
                    tied = task.tiedWithOracle.contains(choice) ? 1 : 0
                case .expert:
                    choice = expertRule(task.features).description
                    seconds = task.seconds[choice] ?? .infinity
                    top1 = choice == task.oracle ? 1 : 0
                    tied = task.tiedWithOracle.contains(choice) ? 1 : 0
                case .planner, .knn, .meta:
                    let selection = try selectors[method]!.select(for: task.features)
                    choice = selection.strategy.description
                    overhead = selection.overheadSeconds
                    let predictions = Dictionary(selection.predictions.map { ($0.strategy.description, $0.predictedSeconds) },
                                             uniquingKeysWith: { first, _ in first })
                    predicted = (predictions[choice] ?? .nan, predictions[task.oracle] ?? .nan)
                    seconds = (task.seconds[choice] ?? .infinity) + overhead
                    top1 = choice == task.oracle ? 1 : 0
                    tied = task.tiedWithOracle.contains(choice) ? 1 : 0
                }
                let violation: Bool
                if method == .random {
                    violation = false
                } else if let strategy = try? Strategy.parse(choice, default: "local") {
                    violation = !task.feasible(choice, strategy: strategy)
                } else {
                    violation = true
                }
                outcomes.append(Outcome(method: method, kind: task.features.kind, grouping: grouping, group: held, task: name,
                                        requirement: task.features.requirement.description, choice: choice, seconds: seconds,
                                        oracleSeconds: oracleSeconds, oracleChoice: task.oracle,
                                        singleBestSeconds: singleBestSeconds, top1: top1, top1OrTied: tied, violation: violation,
                                        overheadSeconds: overhead, metaPenalties: method == .meta ? penalties : nil,
                                        predictedChoiceSeconds: predicted?.choice, predictedOracleSeconds: predicted?.oracle))
            }
        }
        return outcomes
    }

    /// Per task kind and requirement, the strategy with the lowest mean measured latency over
    /// the training tasks among those that meet the requirement on every one of them.
    public func singleBest(train: [Task]) -> [TaskKind: [QualityRequirement: String]] {
        var result: [TaskKind: [QualityRequirement: String]] = [:]
        for kind in Set(train.map(\.features.kind)) {
            for requirement in Set(train.filter { $0.features.kind == kind }.map(\.features.requirement)) {
                let tasks = train.filter { $0.features.kind == kind && $0.features.requirement == requirement }
                let candidates = zip(matrix.strategies, strategies).filter { name, strategy in
                    tasks.allSatisfy { $0.feasible(name, strategy: strategy) && $0.seconds[name] != nil }
                }
                result[kind, default: [:]][requirement] = candidates.min { a, b in
                    tasks.reduce(0) { $0 + $1.seconds[a.0]! } < tasks.reduce(0) { $0 + $1.seconds[b.0]! }
                }?.0
            }
        }
        return result
    }

    /// A hand-written rule in the spirit of the issue: local on a fast device; cloud-only from
    /// a weak device over a fast link; split-exit when approximate output is acceptable;
    /// otherwise split-spec at the middle layer, which saves round trips on long ones. For an
    /// action chunk: the policy local on a fast device or over a slow link, else on the cloud;
    /// future-state async when the requirement allows it (VLASH), sync otherwise.
    public func expertRule(_ task: TaskFeatures) -> Strategy {
        let L = matrix.shape.layerCount
        let thisMachine = prior.devices.values.map(\.gemvBytesPerSecond).max() ?? 1
        let fast = task.edgeGEMVGBPerSecond * 1e9 >= thisMachine / 2
        if task.kind == .actionChunk {
            let placement: Strategy = fast || task.roundTripMilliseconds > 10 ? .local : .cloud(encoding: .f32)
            return .control(mode: task.requirement == .exact ? .sync : .futureStateAsync, placement: placement)
        }
        if fast { return .local }
        if task.roundTripMilliseconds <= 10 { return .cloud(encoding: .f32) }
        if case .agreement(let x) = task.requirement, x <= 0.5 {
            return .splitExit(layer: L / 2, threshold: 0.5, minExitLayer: nil, encoding: .f32)
        }
        return .splitSpec(layer: L / 2, draftLength: 6, adaptive: false, encoding: .f32)
    }
}
