/// When, in VLASH's chunk cycle, the client asks for the next chunk: with this many buffered
/// actions left (VLASH's `inference_overlap_steps`). A fixed overlap shorter than the delay lets
/// the buffer run dry for `d − overlap` steps of every cycle, and the future state then rests on
/// a guessed hold; the adaptive overlap asks early enough for the delay the client has measured.
public enum ChunkOverlap: Sendable, Hashable, ControlSettingText, ExpressibleByIntegerLiteral {
    /// VLASH's `inference_overlap_steps`, whatever the delay.
    case fixed(Int)
    /// `max(minimum, d̂)`, d̂ the client's delay estimate from the latencies it measured on
    /// earlier chunks (`DelayEstimator`; before any, its initial guess): what a real client
    /// knows, not the true delay.
    case adaptive(minimum: Int)

    /// What the live client (`split-bench robot-loop`) runs unless told otherwise: adaptive,
    /// never below VLASH's 4. The overlap sweep (BENCHMARKS.md, "Robot control") found it beats
    /// every fixed overlap for future-state async at the delays a fixed 4 cannot cover.
    public static let liveDefault = ChunkOverlap.adaptive(minimum: 4)

    /// A fixed overlap of `value` steps (`overlap: 4`).
    public init(integerLiteral value: Int) { self = .fixed(value) }

    /// The overlap in steps when the delay estimate is `delayEstimateSteps` (read only when
    /// adaptive: the estimate is a quantile over recent latencies, asked every control step).
    public func steps(delayEstimateSteps: @autoclosure () -> Int) -> Int {
        switch self {
        case .fixed(let steps): return max(0, steps)
        case .adaptive(let minimum): return max(minimum, delayEstimateSteps(), 0)
        }
    }

    /// "4" for a fixed overlap, "adaptive" (minimum 4) or "adaptive>=N".
    public var description: String {
        switch self {
        case .fixed(let steps): return "\(steps)"
        case .adaptive(let minimum): return minimum == 4 ? "adaptive" : "adaptive>=\(minimum)"
        }
    }

    /// Parses `description`'s forms: a whole number of steps, "adaptive" or "adaptive>=N".
    /// - Throws: `ControlError.invalidOverlap` for anything else or a negative count.
    public init(parsing text: String) throws(ControlError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "adaptive" {
            self = .adaptive(minimum: 4)
        } else if trimmed.hasPrefix("adaptive>="), let minimum = Int(trimmed.dropFirst("adaptive>=".count)), minimum >= 0 {
            self = .adaptive(minimum: minimum)
        } else if let steps = Int(trimmed), steps >= 0 {
            self = .fixed(steps)
        } else {
            throw .invalidOverlap(text)
        }
    }
}
