import Foundation

/// One finished request: what the task was, the strategy that served it, and what it measured.
public struct HistoryRecord: Sendable, Codable, Equatable {
    /// Seconds since 1970 when the request finished.
    public var recordedAt: Double
    public var features: TaskFeatures
    /// The strategy's canonical name (`Strategy.description`).
    public var strategy: String
    public var timeToFirstTokenSeconds: Double
    public var totalSeconds: Double
    /// Generated tokens over the total time.
    public var tokensPerSecond: Double
    public var outputTokens: Int
    public var bytesSent: Int
    public var bytesReceived: Int
    public var roundTrips: Int
    /// split-spec: drafts the cloud accepted over drafts sent.
    public var acceptanceRate: Double?
    /// Token agreement with the full model's output, when it is known (measured by the
    /// harness; an exact strategy agrees by construction).
    public var agreement: Double?
    /// Whether the selector picked this strategy to explore rather than as its best guess.
    public var explored: Bool

    public init(recordedAt: Double = Date().timeIntervalSince1970, features: TaskFeatures, strategy: String,
                timeToFirstTokenSeconds: Double, totalSeconds: Double, outputTokens: Int, bytesSent: Int = 0,
                bytesReceived: Int = 0, roundTrips: Int = 0, acceptanceRate: Double? = nil, agreement: Double? = nil,
                explored: Bool = false) {
        self.recordedAt = recordedAt
        self.features = features
        self.strategy = strategy
        self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
        self.totalSeconds = totalSeconds
        self.tokensPerSecond = totalSeconds > 0 ? Double(outputTokens) / totalSeconds : 0
        self.outputTokens = outputTokens
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.roundTrips = roundTrips
        self.acceptanceRate = acceptanceRate
        self.agreement = agreement
        self.explored = explored
    }

    /// The strategy, parsed back from its name.
    /// - Throws: `CompletionError.invalidRequest` for a name `Strategy.parse` cannot read.
    public func parsedStrategy() throws -> Strategy { try Strategy.parse(strategy, default: "local") }

    /// Checks what came from a file or another device: finite, non-negative figures, a
    /// strategy that parses, valid features.
    /// - Throws: `SelectionError.invalidFeatures` naming the problem.
    public func validate() throws {
        try features.validate()
        let figures = [recordedAt, timeToFirstTokenSeconds, totalSeconds, tokensPerSecond]
        guard figures.allSatisfy({ $0.isFinite && $0 >= 0 }), totalSeconds > 0 else {
            throw SelectionError.invalidFeatures("times must be finite and non-negative, the total positive")
        }
        guard outputTokens >= 0, bytesSent >= 0, bytesReceived >= 0, roundTrips >= 0 else {
            throw SelectionError.invalidFeatures("counts must be non-negative")
        }
        for value in [acceptanceRate, agreement].compactMap({ $0 }) where !(value >= 0 && value <= 1) {
            throw SelectionError.invalidFeatures("rates must be in [0, 1], found \(value)")
        }
        do {
            _ = try parsedStrategy()
        } catch {
            throw SelectionError.invalidFeatures("strategy: \(error)")
        }
    }
}

extension HistoryRecord {
    /// A made-up record, different for each `index` (for tests and `edge-node history fill`,
    /// the writer the crash test kills).
    public static func synthetic(_ index: Int) -> HistoryRecord {
        let source = "synthetic"
        let device = DeviceProfile(name: "synthetic-edge", description: source, cores: ProfileFigure(2, source: source),
                                   memoryGiB: ProfileFigure(4, source: source), gemmGFLOPPerSecond: ProfileFigure(10, source: source),
                                   memoryBandwidthGBPerSecond: ProfileFigure(5, source: source))
        let network = NetworkProfile(name: "synthetic-link", description: source, roundTripMilliseconds: ProfileFigure(20, source: source),
                                     jitterMilliseconds: ProfileFigure(1, source: source),
                                     uplinkMegabitsPerSecond: ProfileFigure(10, source: source),
                                     downlinkMegabitsPerSecond: ProfileFigure(10, source: source))
        let configuration = ModelConfiguration(
            architecture: .llama, vocabularySize: 4096, hiddenSize: 256, intermediateSize: 688, layerCount: 8, headCount: 8,
            kvHeadCount: 8, headDimension: 32, normEpsilon: 1e-5, normKind: .rms, feedForward: .gatedSiLU, ropeTheta: 10000,
            ropeLayout: .neox, ropeDimensions: 32, maxPositions: 256, attentionBias: false, tiedEmbeddings: true)
        let task = TaskFeatures(promptTokens: 16 + index % 64, outputTokens: 8, requirement: .exact, device: device, network: network,
                                shape: ModelShape(configuration: configuration, bytesPerWeight: 2, name: source))
        return HistoryRecord(recordedAt: Double(index), features: task, strategy: index % 2 == 0 ? "local" : "split(k=4,f32)",
                             timeToFirstTokenSeconds: 0.01, totalSeconds: 0.05 + Double(index % 7) * 0.01, outputTokens: 8)
    }
}
