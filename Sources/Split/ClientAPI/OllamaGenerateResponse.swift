import Foundation
import Hummingbird

/// An answer of Ollama's `POST /api/generate`: one line of the NDJSON stream
/// (`{"model", "created_at", "response", "done": false}`), or the last line and the whole
/// answer with `done: true`, `done_reason` and Ollama's counts and durations (nanoseconds).
/// Split adds the `split` object its completions carry (strategy, per-token provenance).
public struct OllamaGenerateResponse: Sendable, Codable, Equatable {
    public var model: String
    /// RFC 3339 time of the answer.
    public var createdAt: String
    /// The text: all of it in a whole answer, the new piece on a stream line.
    public var response: String
    public var done: Bool
    /// "stop" (end of text or a stop string) or "length" (the budget); on the last line only.
    public var doneReason: String?
    public var totalDuration: Int64?
    public var loadDuration: Int64?
    public var promptEvalCount: Int?
    public var promptEvalDuration: Int64?
    public var evalCount: Int?
    public var evalDuration: Int64?
    public var split: OpenAICompletionResponse.SplitInfo?

    enum CodingKeys: String, CodingKey {
        case model, response, done, split
        case createdAt = "created_at", doneReason = "done_reason", totalDuration = "total_duration"
        case loadDuration = "load_duration", promptEvalCount = "prompt_eval_count"
        case promptEvalDuration = "prompt_eval_duration", evalCount = "eval_count", evalDuration = "eval_duration"
    }

    /// A stream line carrying `piece`.
    init(meta: CompletionMeta, piece: String) {
        model = meta.model
        createdAt = Self.rfc3339(meta.created)
        response = piece
        done = false
    }

    /// The whole answer (`text` all of it) or the last stream line (`text` empty).
    init(meta: CompletionMeta, text: String, summary: CompletionSummary) {
        self.init(meta: meta, piece: text)
        done = true
        doneReason = summary.finishReason == .length ? "length" : "stop"
        let nanoseconds = { (seconds: Double) in Int64(max(0, seconds) * 1e9) }
        totalDuration = nanoseconds(summary.totalSeconds)
        loadDuration = 0  // the edge keeps its model loaded
        promptEvalCount = summary.promptTokenCount
        promptEvalDuration = nanoseconds(summary.timeToFirstTokenSeconds)
        evalCount = summary.completionTokenCount
        evalDuration = nanoseconds(summary.totalSeconds - summary.timeToFirstTokenSeconds)
        split = OpenAICompletionResponse.SplitInfo(summary: summary)
    }

    private static func rfc3339(_ unixSeconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(unixSeconds)))
    }
}

/// Ollama's error body, `{"error": "..."}`.
struct OllamaErrorBody: Codable, Equatable {
    var error: String
}

/// Ollama's `POST /api/generate`: NDJSON stream lines, a last line with `done: true`, no end
/// marker; errors as `{"error": ...}`.
enum OllamaGenerateDialect: CompletionDialect {
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> DecodedCompletion {
        DecodedCompletion(try OllamaGenerateRequest.decode(body, limits: limits))
    }

    static func whole(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OllamaGenerateResponse(meta: meta, text: summary.text, summary: summary))
    }

    static func chunk(_ text: String, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OllamaGenerateResponse(meta: meta, piece: text))
    }

    static func last(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OllamaGenerateResponse(meta: meta, text: "", summary: summary))
    }

    static func errorBody(_ error: ClientAPIError) -> Data {
        ClientAPIJSON.encode(OllamaErrorBody(error: error.message))
    }

    static var endOfStream: ByteBuffer? { nil }
    static var framing: StreamFraming { .jsonLines }
}
