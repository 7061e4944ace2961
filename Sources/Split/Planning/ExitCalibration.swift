import Foundation

/// Chooses split-exit's threshold τ and split-spec's draft length γ for a model from measured
/// line completion on held-out files (over loopback: agreement and round trips do not depend on
/// the link), and keeps them next to the model as `<model>.exit.json`, where the edge reads the
/// defaults for strategies that leave τ or γ out.
public struct ExitCalibration: Sendable, Codable, Equatable {
    /// The chosen defaults.
    public var splitLayer: Int
    public var threshold: Float
    public var draftLength: Int
    /// Smallest token agreement with the full model τ had to keep (the agreement rule).
    public var agreementTarget: Double
    /// How τ was chosen: "agreement" (the smallest τ keeping `agreementTarget`) or "line-match"
    /// (the most edge-answered tokens keeping line exact match and edit similarity within the
    /// tolerances of the full model's); nil in files written before the line-match rule.
    public var criterion: String?
    public var exactMatchTolerance: Double?
    public var editSimilarityTolerance: Double?
    /// The full model's line exact match and edit similarity on the same cases.
    public var fullLineExactMatch: Double?
    public var fullLineEditSimilarity: Double?
    /// Cases measured.
    public var cases: Int?
    /// Round trip the γ choice was made for.
    public var roundTripMilliseconds: Double
    /// What each candidate measured.
    public var thresholds: [Candidate]
    public var draftLengths: [Candidate]
    /// The trained exit heads (sidecar file name) the candidates were measured with; nil: the
    /// shared head. The planner's and selector's split-exit/split-spec predictions read these
    /// candidates, so they follow the heads the edge runs.
    public var exitHeads: String?

    /// One measured candidate.
    public struct Candidate: Sendable, Codable, Equatable {
        public var value: Double
        public var tokenAgreement: Double
        public var agreement: Double
        public var edgeAnsweredFraction: Double
        public var roundTripsPerToken: Double
        public var acceptanceRate: Double
        public var lineExactMatch: Double?
        public var lineEditSimilarity: Double?
        /// Loopback time per completion plus its round trips at `roundTripMilliseconds`.
        public var estimatedCompletionSeconds: Double
    }

    /// Where the calibration of a model file lives: `x.gguf` → `x.exit.json`.
    public static func path(forModel model: String) -> String {
        (model.hasSuffix(".gguf") ? String(model.dropLast(5)) : model) + ".exit.json"
    }

    /// The calibration stored next to `model`, or nil when there is none.
    /// - Throws: when the file exists but does not decode or holds values out of range.
    public static func load(forModel model: String) throws -> ExitCalibration? {
        let path = path(forModel: model)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let calibration = try decoder.decode(ExitCalibration.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        guard calibration.threshold > 0, calibration.threshold <= 1,
              (1...Strategy.maxDraftLength).contains(calibration.draftLength) else {
            throw ModelError.invalidConfiguration("calibration \(path): τ \(calibration.threshold) or γ \(calibration.draftLength) out of range")
        }
        return calibration
    }

    /// Writes the calibration as JSON.
    /// - Throws: file errors.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }

    /// How τ is chosen.
    public enum Criterion: Sendable, Equatable {
        /// The smallest τ whose token agreement with the full model reaches the target.
        case agreement(target: Double)
        /// The τ answering the most tokens on the edge while line exact match and edit
        /// similarity stay within these fractions (0.015 = 1.5 points) of the full model's.
        case lineMatch(exactMatchTolerance: Double, editSimilarityTolerance: Double)
    }

    /// The τ `criterion` picks among measured candidates, nil when none qualifies.
    public static func chooseThreshold(_ candidates: [Candidate], criterion: Criterion, fullLineExactMatch: Double,
                                       fullLineEditSimilarity: Double) -> Double? {
        let qualifying: [Candidate]
        switch criterion {
        case .agreement(let target):
            // The smallest qualifying τ answers the most tokens on the edge.
            return candidates.filter { $0.tokenAgreement >= target }.min { $0.value < $1.value }?.value
        case .lineMatch(let exactMatch, let editSimilarity):
            // A small slack for the rounding of fractions of the same case count.
            qualifying = candidates.filter {
                ($0.lineExactMatch ?? 0) >= fullLineExactMatch - exactMatch - 1e-9
                    && ($0.lineEditSimilarity ?? 0) >= fullLineEditSimilarity - editSimilarity - 1e-9
            }
        }
        // The most tokens on the edge; between equals, the higher τ (the more confident exits).
        return qualifying.max { ($0.edgeAnsweredFraction, $0.value) < ($1.edgeAnsweredFraction, $1.value) }?.value
    }
}
