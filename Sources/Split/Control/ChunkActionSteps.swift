/// How much of each chunk the robot runs in VLASH's chunk cycle before the next chunk takes over
/// (VLASH's `n_action_steps`, counted in the chunk's own actions, before `action_quant_ratio`'s
/// thinning, as VLASH counts them). Running less of a chunk acts on fresher observations; running
/// fewer periods than the delay leaves the robot idle while the next chunk is in flight.
public enum ChunkActionSteps: Sendable, Hashable, ControlSettingText {
    /// VLASH's `n_action_steps`, whatever the delay.
    case fixed(Int)
    /// In VLASH's cycle (the async modes), half the chunk, or as many periods as the client's
    /// delay estimate d̂ when that is longer (so that the next chunk, asked for d̂ before the end,
    /// is back in time); a blend, whose chunk is aligned by its observation and loses the d̂
    /// periods it spent in flight, adds them. Sync runs whole chunks: each chunk there costs a
    /// stall of d, and half chunks would double the stalls (the sweep: a slower path at every
    /// d ≥ 4, BENCHMARKS.md).
    case adaptive

    /// What the live client (`split-bench robot-loop`) runs unless told otherwise: adaptive. The
    /// sweep (BENCHMARKS.md, "Robot control") found future-state async beats naive async at every
    /// delay with it, and not with whole chunks at r = 1, d = 20.
    public static let liveDefault = ChunkActionSteps.adaptive

    /// The actions to run from each chunk of `horizon` thinned by `quantRatio` in `mode`, when the
    /// delay estimate is `delayEstimateSteps` (read only when adaptive and async); between
    /// `quantRatio` (one period) and `horizon`.
    public func actions(horizon: Int, quantRatio: Int, mode: ControlMode, alignedByObservation: Bool,
                        delayEstimateSteps: @autoclosure () -> Int) -> Int {
        let r = max(1, quantRatio)
        let wanted: Int
        switch self {
        case .fixed(let actions):
            wanted = actions
        case .adaptive where mode == .sync:
            wanted = horizon
        case .adaptive:
            let d = max(0, delayEstimateSteps())
            wanted = r * (max(horizon / (2 * r), d) + (alignedByObservation ? d : 0))
        }
        return min(max(r, wanted), max(r, horizon))
    }

    /// "16" for a fixed count, "adaptive".
    public var description: String {
        switch self {
        case .fixed(let actions): return "\(actions)"
        case .adaptive: return "adaptive"
        }
    }

    /// Parses `description`'s forms: a positive whole number of actions, or "adaptive".
    /// - Throws: `ControlError.invalidActionSteps` for anything else.
    public init(parsing text: String) throws(ControlError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "adaptive" {
            self = .adaptive
        } else if let actions = Int(trimmed), actions > 0 {
            self = .fixed(actions)
        } else {
            throw .invalidActionSteps(text)
        }
    }
}
