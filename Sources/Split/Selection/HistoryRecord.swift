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
