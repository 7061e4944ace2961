import Foundation

/// What a strategy promises about its output compared with the full model run locally.
public enum OutputGuarantee: String, Sendable, Codable {
    /// The same tokens as the full model (bit-identical hidden states, or drafts the full model
    /// verified).
    case exact
    /// Close to the full model's output but not guaranteed equal: edge exits (split-exit), or
    /// hidden states rounded on the link (f16, int8).
    case approximate
}

extension Strategy {
    /// What the strategy guarantees: exact only when nothing is skipped (not split-exit) and
    /// nothing is rounded (local, or f32 activations on the link).
    public var guarantee: OutputGuarantee {
        guard isExact else { return .approximate }
        switch encoding {
        case nil, .f32?: return .exact
        default: return .approximate
        }
    }
}

/// The quality a request asks for: the full model's exact output, or at least a given fraction
/// of tokens agreeing with it.
public enum QualityRequirement: Sendable, Equatable, Hashable, CustomStringConvertible, Codable {
    case exact
    /// Token agreement with the full model of at least this fraction (0…1).
    case agreement(Double)

    /// "exact" or "agreement>=0.9"; `parse` reads it back.
    public var description: String {
        switch self {
        case .exact: return "exact"
        case .agreement(let x): return "agreement>=\(x)"
        }
    }

    /// Reads "exact", "agreement>=X" or "agreement=X" (X in [0, 1]).
    /// - Throws: `CompletionError.invalidRequest` naming what could not be read.
    public static func parse(_ text: String) throws -> QualityRequirement {
        let text = text.lowercased().replacingOccurrences(of: " ", with: "")
        if text == "exact" { return .exact }
        for prefix in ["agreement>=", "agreement="] where text.hasPrefix(prefix) {
            if let x = Double(text.dropFirst(prefix.count)), x >= 0, x <= 1 { return .agreement(x) }
        }
        throw CompletionError.invalidRequest("quality '\(text)': expected 'exact' or 'agreement>=X' with X in [0, 1]")
    }

    /// Whether a strategy may serve a request with this requirement, given the agreement with
    /// the full model it is expected to reach. An exact request admits exact strategies only,
    /// whatever the expectation says; async control only a request that allows any agreement
    /// ("agreement>=0"): its chunks are computed from a state other than the one the robot
    /// observed, so no agreement with the sync policy's actions is promised, however close the
    /// placement's chunks are to the local policy's.
    public func admits(_ strategy: Strategy, expectedAgreement: Double) -> Bool {
        switch (self, strategy.guarantee) {
        case (_, .exact): return true
        case (.exact, .approximate): return false
        case (.agreement(let x), .approximate):
            if case .control(let mode, _) = strategy, mode != .sync { return x == 0 }
            return expectedAgreement >= x
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try Self.parse(text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A strategy the selector may serve a request with: the only way to make one checks the
/// request's requirement, so an approximate strategy never reaches an exact request.
public struct AdmittedStrategy: Sendable, Equatable {
    public let strategy: Strategy
    public let requirement: QualityRequirement

    /// The strategy, when `requirement` admits it at `expectedAgreement`; nil otherwise.
    public init?(_ strategy: Strategy, for requirement: QualityRequirement, expectedAgreement: Double) {
        guard requirement.admits(strategy, expectedAgreement: expectedAgreement) else { return nil }
        self.strategy = strategy
        self.requirement = requirement
    }
}
