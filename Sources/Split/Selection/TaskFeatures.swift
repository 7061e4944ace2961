import Foundation

/// What the selector knows about a request before serving it: the task, its requirement, the
/// device, the link as measured, the cloud's load and the model.
public struct TaskFeatures: Sendable, Codable, Equatable {
    public var kind: TaskKind
    public var promptTokens: Int
    /// Tokens the request will generate (its `maxTokens`, as an upper bound).
    public var outputTokens: Int
    public var requirement: QualityRequirement
    /// The latency the client would like to stay under, if it said.
    public var latencyBudgetSeconds: Double?
    /// The edge device's profile name and its speed figures.
    public var device: String
    public var edgeGEMVGBPerSecond: Double
    public var edgeGEMMGFLOPPerSecond: Double
    /// The link's name (a network profile, or "measured") and its measured figures.
    public var network: String
    public var roundTripMilliseconds: Double
    public var bandwidthMegabitsPerSecond: Double
    /// The cloud's load factor: 1 idle, 2 when it gives this edge half its throughput.
    public var cloudLoad: Double
    /// The model's shape signature, layer count and width.
    public var model: String
    public var layerCount: Int
    public var hiddenSize: Int

    /// Features for a task on `device` over `network` with model `shape`.
    public init(kind: TaskKind = .completion, promptTokens: Int, outputTokens: Int, requirement: QualityRequirement,
                latencyBudgetSeconds: Double? = nil, device: DeviceProfile, network: NetworkProfile,
                cloudLoad: Double = 1, shape: ModelShape) {
        self.kind = kind
        self.promptTokens = max(1, promptTokens)
        self.outputTokens = max(1, outputTokens)
        self.requirement = requirement
        self.latencyBudgetSeconds = latencyBudgetSeconds
        self.device = device.name
        edgeGEMVGBPerSecond = device.gemvBytesPerSecond / 1e9
        edgeGEMMGFLOPPerSecond = device.gemmFLOPPerSecond / 1e9
        self.network = network.name
        roundTripMilliseconds = network.roundTripMilliseconds.value
        bandwidthMegabitsPerSecond = network.uplinkMegabitsPerSecond.value
        self.cloudLoad = max(1, cloudLoad)
        model = shape.signature
        layerCount = shape.layerCount
        hiddenSize = shape.hiddenSize
    }

    /// The numeric features the learners use (logs of sizes, speeds and times, so that a
    /// linear model in them reads as a product of powers).
    public var vector: [Double] {
        [log(Double(promptTokens)), log(Double(outputTokens)), log(edgeGEMVGBPerSecond), log(edgeGEMMGFLOPPerSecond),
         log(1 + roundTripMilliseconds), log(bandwidthMegabitsPerSecond), log(cloudLoad), log(Double(layerCount * hiddenSize))]
    }

    /// Names of `vector`'s entries, in order.
    public static let vectorNames = ["log prompt", "log output", "log edge GEMV GB/s", "log edge GFLOP/s", "log(1+RTT ms)",
                                     "log uplink Mbit/s", "log cloud load", "log L·d"]

    /// The workload the cost model prices.
    public var workload: CostModel.Workload { CostModel.Workload(promptTokens: promptTokens, outputTokens: outputTokens) }

    /// The link as a network profile for the cost model (measured figures, no jitter or loss).
    public var networkProfile: NetworkProfile {
        let source = "task features (measured)"
        return NetworkProfile(name: network, description: "link of a task",
                              roundTripMilliseconds: ProfileFigure(roundTripMilliseconds, source: source),
                              jitterMilliseconds: ProfileFigure(0, source: source),
                              uplinkMegabitsPerSecond: ProfileFigure(bandwidthMegabitsPerSecond, source: source),
                              downlinkMegabitsPerSecond: ProfileFigure(bandwidthMegabitsPerSecond, source: source))
    }

    /// Checks that every figure is finite and in range (features come from files and other devices).
    /// - Throws: `SelectionError.invalidFeatures` naming the field.
    public func validate() throws(SelectionError) {
        let figures: [(String, Double)] = [("edge_gemv_gb_per_second", edgeGEMVGBPerSecond),
                                           ("edge_gemm_gflop_per_second", edgeGEMMGFLOPPerSecond),
                                           ("bandwidth_megabits_per_second", bandwidthMegabitsPerSecond), ("cloud_load", cloudLoad)]
        for (name, value) in figures where !(value.isFinite && value > 0) {
            throw .invalidFeatures("\(name) must be a positive number, is \(value)")
        }
        guard roundTripMilliseconds.isFinite, roundTripMilliseconds >= 0 else {
            throw .invalidFeatures("round_trip_milliseconds must be zero or more, is \(roundTripMilliseconds)")
        }
        guard promptTokens > 0, outputTokens > 0, layerCount > 0, hiddenSize > 0 else {
            throw .invalidFeatures("token counts and model sizes must be positive")
        }
        if let budget = latencyBudgetSeconds, !(budget.isFinite && budget > 0) {
            throw .invalidFeatures("latency_budget_seconds must be positive, is \(budget)")
        }
    }
}

/// Errors of the selection code: bad features, a history store problem, a bad import.
public enum SelectionError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidFeatures(String)
    /// A history import that could not be read or holds bad records; nothing was imported.
    case corruptImport(path: String, reason: String)
    case store(String)

    public var description: String {
        switch self {
        case .invalidFeatures(let m): return "invalid task features: \(m)"
        case .corruptImport(let path, let reason): return "history import \(path) rejected, nothing imported: \(reason)"
        case .store(let m): return "history store: \(m)"
        }
    }
}
