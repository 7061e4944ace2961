/// Where one generated token came from: which side picked it and after how many layers.
public struct TokenProvenance: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The side that picked a token.
    public enum Side: String, Sendable, Codable {
        /// The whole model, in the edge process.
        case local
        /// The cloud's head after every layer.
        case cloud
        /// An edge exit head (split-exit): not checked by the full model.
        case edge
        /// Drafted by an edge exit head and confirmed by the cloud (split-spec): the full model's token.
        case draft
    }
    /// The side that picked it.
    public var side: Side
    /// Layers the hidden state had passed when the token was read from it.
    public var layer: Int

    /// Makes a provenance.
    public init(side: Side, layer: Int) {
        self.side = side
        self.layer = layer
    }

    /// E.g. "cloud@8", "edge@3", "draft@4".
    public var description: String { "\(side.rawValue)@\(layer)" }

    /// Reads "side@layer" names back.
    /// - Throws: `ClientAPIError` naming the first one that is not.
    public static func parse(_ names: [String]) throws -> [TokenProvenance] {
        try names.map { name in
            let parts = name.split(separator: "@")
            guard parts.count == 2, let side = Side(rawValue: String(parts[0])), let layer = Int(parts[1]), layer >= 0 else {
                throw ClientAPIError(.invalidRequest, "cannot read provenance \"\(name)\" (side@layer)", parameter: "provenance")
            }
            return TokenProvenance(side: side, layer: layer)
        }
    }
}

/// Counts over a generation's provenances, for summaries and status. In JSON (snake case)
/// with the derived rates alongside.
public struct ProvenanceCounts: Sendable, Codable, Equatable {
    /// Tokens generated.
    public var tokens = 0
    /// Tokens no cloud pass confirmed (edge exits).
    public var edgeAnswered = 0
    /// Draft tokens sent for verification, and those the cloud agreed with.
    public var drafted = 0
    public var acceptedDrafts = 0
    /// Cloud round trips (requests answered).
    public var roundTrips = 0

    /// Makes empty counts.
    public init() {}

    /// Fraction of tokens answered by the edge without the cloud.
    public var edgeAnsweredFraction: Double { tokens > 0 ? Double(edgeAnswered) / Double(tokens) : 0 }
    /// Fraction of drafted tokens the cloud accepted.
    public var acceptanceRate: Double { drafted > 0 ? Double(acceptedDrafts) / Double(drafted) : 0 }
    /// Cloud round trips per generated token.
    public var roundTripsPerToken: Double { tokens > 0 ? Double(roundTrips) / Double(tokens) : 0 }

    private enum CodingKeys: String, CodingKey {
        case tokens, drafted
        case edgeAnswered = "edge_answered", acceptedDrafts = "accepted_drafts", roundTrips = "round_trips"
        case edgeAnsweredFraction = "edge_answered_fraction", acceptanceRate = "acceptance_rate"
        case roundTripsPerToken = "round_trips_per_token"
    }

    /// Reads the counts (the derived rates are recomputed, not read).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tokens = try c.decode(Int.self, forKey: .tokens)
        edgeAnswered = try c.decode(Int.self, forKey: .edgeAnswered)
        drafted = try c.decode(Int.self, forKey: .drafted)
        acceptedDrafts = try c.decode(Int.self, forKey: .acceptedDrafts)
        roundTrips = try c.decode(Int.self, forKey: .roundTrips)
    }

    /// Writes the counts and their rates.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(edgeAnswered, forKey: .edgeAnswered)
        try c.encode(drafted, forKey: .drafted)
        try c.encode(acceptedDrafts, forKey: .acceptedDrafts)
        try c.encode(roundTrips, forKey: .roundTrips)
        try c.encode(edgeAnsweredFraction, forKey: .edgeAnsweredFraction)
        try c.encode(acceptanceRate, forKey: .acceptanceRate)
        try c.encode(roundTripsPerToken, forKey: .roundTripsPerToken)
    }

    /// Adds another generation's counts.
    public mutating func add(_ other: ProvenanceCounts) {
        tokens += other.tokens
        edgeAnswered += other.edgeAnswered
        drafted += other.drafted
        acceptedDrafts += other.acceptedDrafts
        roundTrips += other.roundTrips
    }
}
