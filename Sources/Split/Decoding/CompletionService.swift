/// Something that serves completions: a local generator, the split edge node, or a test
/// double. Client front ends (the ZeroMQ client API, the OpenAI-compatible HTTP endpoint) are
/// written against this, so each strategy plugs in behind the same API.
public protocol CompletionService: Sendable {
    /// Model name shown to clients (`GET /v1/models`).
    var modelName: String { get }
    /// What Ollama's `GET /api/tags` and `POST /api/show` report about the model.
    var servedModel: ServedModel { get }
    /// Runs one completion, calling `onEvent` for each piece of text as it becomes final, then
    /// returns the summary. Called from any thread; implementations serialise as they need.
    /// - Throws: `CompletionError` (or the underlying error) with a message fit for a client.
    func complete(_ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) -> Void) async throws -> CompletionSummary
}

extension CompletionService {
    /// The model known by name only, for services without a model file of their own.
    public var servedModel: ServedModel { ServedModel(name: modelName) }
}

/// A streamed piece of a completion.
public enum CompletionEvent: Sendable, Equatable {
    /// New text, with the token ids that produced it and where each came from (split strategies).
    case text(String, tokens: [Int32], provenance: [TokenProvenance] = [])
}

/// The end of a completion: what was produced, how, and how fast.
public struct CompletionSummary: Sendable, Codable, Equatable {
    public var text: String
    public var promptTokenCount: Int
    public var completionTokenCount: Int
    public var finishReason: FinishReason
    /// The strategy that served it (e.g. "local", "split(k=4,f16)").
    public var strategy: String
    /// True when the cloud was unreachable and the request allowed an edge-only answer.
    public var degraded: Bool
    public var timeToFirstTokenSeconds: Double
    public var totalSeconds: Double
    /// Which side and layer produced each token (empty when not tracked, e.g. local).
    public var provenance: [TokenProvenance]
    /// Edge-answered tokens, drafts accepted and round trips of this completion.
    public var counts: ProvenanceCounts?
    /// Prompt tokens continued from a kept session instead of computed (prompt reuse); nil
    /// where the strategy keeps none (local).
    public var cachedPromptTokenCount: Int?

    public init(text: String, promptTokenCount: Int, completionTokenCount: Int, finishReason: FinishReason,
                strategy: String, degraded: Bool = false, timeToFirstTokenSeconds: Double, totalSeconds: Double,
                provenance: [TokenProvenance] = [], counts: ProvenanceCounts? = nil, cachedPromptTokenCount: Int? = nil) {
        self.cachedPromptTokenCount = cachedPromptTokenCount
        self.provenance = provenance
        self.counts = counts
        self.text = text
        self.promptTokenCount = promptTokenCount
        self.completionTokenCount = completionTokenCount
        self.finishReason = finishReason
        self.strategy = strategy
        self.degraded = degraded
        self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
        self.totalSeconds = totalSeconds
    }
}

/// Errors a completion can end with, each with a message a client can show.
public enum CompletionError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidRequest(String)
    case cloudUnavailable(String)
    case overloaded(String)
    case internalError(String)
    /// A newer request on the same slot took this one's place; it stopped within a step.
    case superseded(String)

    public var description: String {
        switch self {
        case .invalidRequest(let m): return "invalid request: \(m)"
        case .cloudUnavailable(let m): return "cloud unavailable: \(m)"
        case .overloaded(let m): return "overloaded: \(m)"
        case .internalError(let m): return "internal error: \(m)"
        case .superseded(let m): return "cancelled: \(m)"
        }
    }
}
