/// What one split generation did, beyond its text.
public struct SplitReport: Sendable {
    public var result: GenerationResult
    public var roundTrips: Int
    public var bytesSent: Int
    public var bytesReceived: Int
    /// Times the generation moved to another cloud node (or re-sent a lost session).
    public var failovers: Int
    public var rebuilds: Int
    /// True when no cloud could be reached and the edge answered alone (exit head at layer k).
    public var degraded: Bool
    /// The endpoint that served the last token.
    public var endpoint: String?
    /// Which side and layer produced each generated token.
    public var provenance: [TokenProvenance] = []
    /// Edge-answered tokens, drafts and their acceptance, round trips.
    public var counts = ProvenanceCounts()
    /// Prompt positions continued from a kept session rather than computed (prompt reuse).
    public var cachedPromptTokens = 0
}

/// How a split generation turns layer-k hidden states into tokens.
public enum SplitDecoding: Sendable, Equatable {
    /// One cloud round trip per token.
    case plain
    /// split-spec: draft `draftLength` tokens with the exit head at k, verify them in one batch.
    case speculative(draftLength: Int, adaptive: Bool)
    /// split-exit: answer on the edge when an exit head in [minLayer, k] is at least this confident.
    case earlyExit(ExitPolicy)
}

extension Strategy {
    /// How a split generation decodes under this strategy (`controller`: the model's trained
    /// stop/exit classifier for split-exit, if any).
    public func splitDecoding(controller: ExitController?) -> SplitDecoding {
        switch self {
        case .splitSpec(_, let gamma, let adaptive, _): return .speculative(draftLength: gamma, adaptive: adaptive)
        case .splitExit(let k, let tau, let minLayer, _):
            return .earlyExit(ExitPolicy(threshold: tau, minLayer: minLayer ?? k, controller: controller))
        case .local, .cloud, .split, .control: return .plain
        }
    }
}
