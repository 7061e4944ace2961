import Foundation
import Split

/// The measured task × strategy matrix: for each (device, network, workload) cell, every
/// catalogue strategy's runs. Written to a file so training and evaluation re-runs do not
/// re-measure; the requirement does not change a run, so it is applied at evaluation.
public struct SelectionMatrix: Sendable, Codable {
    public var model: String
    public var shape: ModelShape
    /// The robot policy's shape, when the matrix has action-chunk cells.
    public var policyShape: ModelShape?
    public var suite: SelectionSuite
    /// Strategy names, in catalogue order.
    public var strategies: [String]
    public var repeats: Int
    /// Load average (1 min) when each cell was measured, and the command.
    public var command: String
    public var cells: [Cell]

    /// One (device, network, workload, cloud load) combination and its runs.
    public struct Cell: Sendable, Codable {
        public var device: String
        public var network: String
        public var workload: String
        /// The cloud load's name in the suite ("idle" in matrices written before it was varied).
        public var cloudLoad: String
        /// The task's features with requirement exact (replaced per requirement at evaluation).
        public var features: TaskFeatures
        /// Runs per strategy name.
        public var runs: [String: [Run]]
        /// Load average (1 min) when the cell was measured, and when rounds were last added to it.
        public var loadAverage: Double
        public var toppedUpLoadAverage: Double?

        public init(device: String, network: String, workload: String, cloudLoad: String, features: TaskFeatures,
                    runs: [String: [Run]], loadAverage: Double, toppedUpLoadAverage: Double? = nil) {
            self.device = device
            self.network = network
            self.workload = workload
            self.cloudLoad = cloudLoad
            self.features = features
            self.runs = runs
            self.loadAverage = loadAverage
            self.toppedUpLoadAverage = toppedUpLoadAverage
        }

        private enum CodingKeys: String, CodingKey {
            case device, network, workload, cloudLoad, features, runs, loadAverage, toppedUpLoadAverage
        }

        /// Decodes a cell; one without a cloud load was measured on an idle cloud.
        /// - Throws: decoding errors.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            device = try container.decode(String.self, forKey: .device)
            network = try container.decode(String.self, forKey: .network)
            workload = try container.decode(String.self, forKey: .workload)
            cloudLoad = try container.decodeIfPresent(String.self, forKey: .cloudLoad) ?? SelectionSuite.CloudLoad.idle.name
            features = try container.decode(TaskFeatures.self, forKey: .features)
            runs = try container.decode([String: [Run]].self, forKey: .runs)
            loadAverage = try container.decode(Double.self, forKey: .loadAverage)
            toppedUpLoadAverage = try container.decodeIfPresent(Double.self, forKey: .toppedUpLoadAverage)
        }
    }

    /// One measured request (a completion), or one control run (an action-chunk task: its
    /// latency is the mean reaction time, its first-token time the mean chunk latency, its
    /// output the chunks received).
    public struct Run: Sendable, Codable {
        public var totalSeconds: Double
        public var timeToFirstTokenSeconds: Double
        public var outputTokens: Int
        /// Token agreement with the full model's greedy output (local, measured first); for a
        /// control run, the share of a reference chunk's actions equal to the local policy's.
        public var agreement: Double
        public var roundTrips: Int
        public var acceptanceRate: Double?
        /// A control run's figures beside its reaction time.
        public var control: ControlOutcome?

        public init(totalSeconds: Double, timeToFirstTokenSeconds: Double, outputTokens: Int, agreement: Double, roundTrips: Int,
                    acceptanceRate: Double? = nil, control: ControlOutcome? = nil) {
            self.totalSeconds = totalSeconds
            self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
            self.outputTokens = outputTokens
            self.agreement = agreement
            self.roundTrips = roundTrips
            self.acceptanceRate = acceptanceRate
            self.control = control
        }
    }

    /// What a control run did besides reacting (see `ControlMetrics`).
    public struct ControlOutcome: Sendable, Codable {
        public var meanTrackingError: Double
        public var successRate: Double
        public var idleFraction: Double
        /// Course runs: seconds to reach every waypoint (nil when unfinished).
        public var completionSeconds: Double?
        public var requests: Int
        public var failures: Int
    }

    public init(model: String, shape: ModelShape, suite: SelectionSuite, strategies: [String], repeats: Int, command: String) {
        self.model = model
        self.shape = shape
        self.suite = suite
        self.strategies = strategies
        self.repeats = repeats
        self.command = command
        cells = []
    }

    /// The cell of a combination, if measured.
    public func cell(device: String, network: String, workload: String, cloudLoad: String = SelectionSuite.CloudLoad.idle.name) -> Cell? {
        cells.first { $0.device == device && $0.network == network && $0.workload == workload && $0.cloudLoad == cloudLoad }
    }

    /// Reads a matrix file.
    /// - Throws: file or decoding errors.
    public static func read(_ path: String) throws -> SelectionMatrix {
        try JSONDecoder().decode(SelectionMatrix.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes the matrix (atomically, so an interrupted run leaves the last complete file).
    /// - Throws: file errors.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Every run as a history record (the training data of the evaluation).
    public func history(cells selected: [Cell]? = nil) -> [HistoryRecord] {
        (selected ?? cells).flatMap { cell in
            cell.runs.sorted { $0.key < $1.key }.flatMap { strategy, runs in
                runs.map { run in
                    HistoryRecord(recordedAt: 0, features: cell.features, strategy: strategy,
                                  timeToFirstTokenSeconds: run.timeToFirstTokenSeconds, totalSeconds: run.totalSeconds,
                                  outputTokens: run.outputTokens, roundTrips: run.roundTrips, acceptanceRate: run.acceptanceRate,
                                  agreement: run.agreement)
                }
            }
        }
    }
}
