/// Chooses where to split a model and how to encode what crosses the link: the split layer k
/// (0 = everything but the embedding in the cloud, L = local) and activation encoding with the
/// lowest predicted latency per decoded token (time to first token breaks ties), among the k
/// whose edge part fits the edge's memory limit.
public struct SplitPlanner: Sendable {
    public let costModel: CostModel
    /// Bytes the edge may use for the model.
    public let memoryLimitBytes: Int
    /// Encodings the plan may use (e.g. leave out the int8 ones when exact output matters more).
    public let encodings: [ActivationEncoding]

    /// Why no plan could be made.
    public enum PlanError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Even the smallest edge part (k = 0: the embedding) does not fit.
        case nothingFits(memoryLimitBytes: Int, smallestNeededBytes: Int)
        /// The encoding list is empty.
        case noEncodings

        public var description: String {
            switch self {
            case .nothingFits(let limit, let needed):
                return "no split fits the edge's memory: the limit is \(limit) bytes, the smallest edge part (k=0) needs \(needed)"
            case .noEncodings: return "no activation encoding to choose from"
            }
        }
    }

    /// The choice and the whole table it was made from.
    public struct Plan: Sendable, Equatable, Codable {
        /// The chosen split.
        public var choice: CostModel.Estimate
        /// Every k from 0 to L with its best encoding; `fits` says whether memory allows it.
        public var rows: [Row]
        public var memoryLimitBytes: Int
        public var model: String
        public var edge: String
        public var cloud: String
        public var network: String

        /// One line of the table.
        public struct Row: Sendable, Equatable, Codable {
            public var estimate: CostModel.Estimate
            public var fits: Bool
        }
    }

    /// A planner over `costModel`; `memoryLimitBytes` defaults to the edge profile's memory.
    public init(costModel: CostModel, memoryLimitBytes: Int? = nil, encodings: [ActivationEncoding] = ActivationEncoding.allCases) {
        self.costModel = costModel
        self.memoryLimitBytes = memoryLimitBytes ?? costModel.edge.device.memoryBytes
        self.encodings = encodings
    }

    /// The best estimate for each k (over the allowed encodings).
    public func table() -> [Plan.Row] {
        (0...costModel.shape.layerCount).map { k in
            let candidates = encodings.map { costModel.estimate(splitLayer: k, encoding: $0) }
            let best = candidates.min(by: Self.better) ?? costModel.estimate(splitLayer: k, encoding: .f32)
            return Plan.Row(estimate: best, fits: best.edgeMemoryBytes <= memoryLimitBytes)
        }
    }

    /// The plan.
    /// - Throws: `PlanError.nothingFits` when no k fits the memory limit, `.noEncodings`.
    public func plan() throws(PlanError) -> Plan {
        guard !encodings.isEmpty else { throw .noEncodings }
        let rows = table()
        guard let choice = rows.filter(\.fits).map(\.estimate).min(by: Self.better) else {
            throw .nothingFits(memoryLimitBytes: memoryLimitBytes, smallestNeededBytes: rows.map(\.estimate.edgeMemoryBytes).min() ?? 0)
        }
        return Plan(choice: choice, rows: rows, memoryLimitBytes: memoryLimitBytes, model: costModel.shape.name,
                    edge: costModel.edge.device.name, cloud: costModel.cloud.device.name, network: costModel.transfer.network.name)
    }

    /// Lower decode latency wins; within 0.1 µs, the lower time to first token.
    static func better(_ a: CostModel.Estimate, _ b: CostModel.Estimate) -> Bool {
        let difference = a.decode.totalSeconds - b.decode.totalSeconds
        if abs(difference) > 1e-7 { return difference < 0 }
        return a.firstToken.totalSeconds < b.firstToken.totalSeconds
    }
}
