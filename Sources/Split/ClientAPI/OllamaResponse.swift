import Foundation
import Hummingbird

/// An answer of Ollama's `POST /api/generate` or `POST /api/chat`: one line of the NDJSON
/// stream (`{"model", "created_at", "response", "done": false}`, or for chat
/// `"message": {"role": "assistant", "content"}` in place of `response`), or the last line and
/// the whole answer with `done: true`, `done_reason` and Ollama's counts and durations
/// (nanoseconds), as docs.ollama.com/api/generate and /api/chat (ollama docs/api.md) give them.
/// Split adds the `split` object its completions carry (strategy, per-token provenance).
public struct OllamaResponse: Sendable, Codable, Equatable {
    /// Which route answers: `/api/generate` carries text in `response`, `/api/chat` in `message`.
    enum Route: Sendable {
        case generate, chat
    }

    public var model: String
    /// RFC 3339 time of the answer.
    public var createdAt: String
    /// `/api/generate`'s text: all of it in a whole answer, the new piece on a stream line.
    public var response: String?
    /// `/api/chat`'s assistant message, its content as `response` would be.
    public var message: ChatMessage?
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
        case model, response, message, done, split
        case createdAt = "created_at", doneReason = "done_reason", totalDuration = "total_duration"
        case loadDuration = "load_duration", promptEvalCount = "prompt_eval_count"
        case promptEvalDuration = "prompt_eval_duration", evalCount = "eval_count", evalDuration = "eval_duration"
    }

    /// A stream line of `route` carrying `piece`.
    init(_ route: Route, meta: CompletionMeta, piece: String) {
        model = meta.model
        createdAt = Self.rfc3339(Date(timeIntervalSince1970: TimeInterval(meta.created)))
        switch route {
        case .generate: response = piece
        case .chat: message = ChatMessage(role: "assistant", content: piece)
        }
        done = false
    }

    /// The whole answer (`text` all of it) or the last stream line (`text` empty).
    init(_ route: Route, meta: CompletionMeta, text: String, summary: CompletionSummary) {
        self.init(route, meta: meta, piece: text)
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

    /// `date` as RFC 3339 in UTC, as Ollama's `created_at` and `modified_at`.
    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// Ollama's error body, `{"error": "..."}`.
struct OllamaErrorBody: Codable, Equatable {
    var error: String
}

/// Ollama's answers, shared by `/api/generate` and `/api/chat`: NDJSON stream lines, a last
/// line with `done: true`, no end marker; errors as `{"error": ...}`.
protocol OllamaDialect: CompletionDialect {
    /// Where the route's text goes.
    static var route: OllamaResponse.Route { get }
}

extension OllamaDialect {
    static func whole(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OllamaResponse(route, meta: meta, text: summary.text, summary: summary))
    }

    static func chunk(_ text: String, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OllamaResponse(route, meta: meta, piece: text))
    }

    static func last(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OllamaResponse(route, meta: meta, text: "", summary: summary))
    }

    static func errorBody(_ error: ClientAPIError) -> Data {
        ClientAPIJSON.encode(OllamaErrorBody(error: error.message))
    }

    static var endOfStream: ByteBuffer? { nil }
    static var framing: StreamFraming { .jsonLines }
}

/// Ollama's `POST /api/generate`: the text in `response`.
enum OllamaGenerateDialect: OllamaDialect {
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> DecodedCompletion {
        DecodedCompletion(try OllamaGenerateRequest.decode(body, limits: limits))
    }

    static var route: OllamaResponse.Route { .generate }
}
