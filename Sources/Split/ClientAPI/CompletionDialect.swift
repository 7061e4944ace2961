import Foundation
import Hummingbird

/// The request and response shapes of one completion API, so that one endpoint serves them
/// all: OpenAI's legacy completions (`OpenAICompletionDialect`) and chat completions
/// (`OpenAIChatDialect`), llama.cpp's `/infill` (`LlamaInfillDialect`) and Ollama's
/// `/api/generate` (`OllamaGenerateDialect`).
protocol CompletionDialect: Sendable {
    /// Parses and checks a body against `limits`.
    /// - Throws: `ClientAPIError` naming the field at fault.
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> DecodedCompletion
    /// The JSON body of a whole (non-streamed) answer.
    static func whole(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data
    /// The JSON of a streamed event carrying new text.
    static func chunk(_ text: String, _ meta: CompletionMeta) -> Data
    /// The JSON of the last streamed event (its text went out in earlier chunks).
    static func last(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data
    /// What ends the event stream after the last event, if anything.
    static var endOfStream: ByteBuffer? { get }
    /// How streamed events are framed.
    static var framing: StreamFraming { get }
    /// The JSON of an event sent before any text (OpenAI chat's `role` delta), if any.
    static func opening(_ meta: CompletionMeta) -> Data?
    /// The JSON of an event after the last one carrying the usage alone, sent when the
    /// client asked for it (`stream_options.include_usage`), if the dialect has one.
    static func usage(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data?
    /// The body of an error response, and of an error event in a stream.
    static func errorBody(_ error: ClientAPIError) -> Data
    /// What a response id starts with (`cmpl-`, `chatcmpl-`).
    static var idPrefix: String { get }
}

extension CompletionDialect {
    static var framing: StreamFraming { .serverSentEvents }
    static func opening(_ meta: CompletionMeta) -> Data? { nil }
    static func usage(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data? { nil }
    static func errorBody(_ error: ClientAPIError) -> Data { ClientAPIJSON.encode(OpenAIErrorBody(error)) }
    static var idPrefix: String { "cmpl-" }
}

/// A request body as a dialect read it: the completion, and how to answer it.
struct DecodedCompletion: Sendable {
    var request: CompletionRequest
    var stream: Bool
    /// OpenAI's `stream_options.include_usage`: one more event, with the usage, at the end.
    var includeUsage = false

    init(request: CompletionRequest, stream: Bool, includeUsage: Bool = false) {
        self.request = request
        self.stream = stream
        self.includeUsage = includeUsage
    }

    init(_ decoded: (request: CompletionRequest, stream: Bool)) {
        self.init(request: decoded.request, stream: decoded.stream)
    }
}

/// How a stream's events are written.
enum StreamFraming: Sendable {
    /// `data: <json>\n\n` with `Content-Type: text/event-stream` (OpenAI, llama.cpp).
    case serverSentEvents
    /// One JSON object a line with `Content-Type: application/x-ndjson` (Ollama).
    case jsonLines

    var contentType: String { self == .serverSentEvents ? "text/event-stream" : "application/x-ndjson" }

    /// One event carrying `json`.
    func event(_ json: Data) -> ByteBuffer {
        guard self == .jsonLines else { return ServerSentEvents.event(json: json) }
        var buffer = ByteBuffer(bytes: json)
        buffer.writeString("\n")
        return buffer
    }
}

/// What every response of one request repeats.
struct CompletionMeta: Sendable {
    var id: String
    /// Unix time in seconds.
    var created: Int
    var model: String
}

/// OpenAI's `POST /v1/completions`: `text_completion` objects, a stream ended by `[DONE]`.
enum OpenAICompletionDialect: CompletionDialect {
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> DecodedCompletion {
        DecodedCompletion(try OpenAICompletionRequest.decode(body, limits: limits))
    }

    static func whole(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OpenAICompletionResponse(id: meta.id, created: meta.created, model: meta.model,
                                                      text: summary.text, summary: summary))
    }

    static func chunk(_ text: String, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OpenAICompletionResponse(id: meta.id, created: meta.created, model: meta.model, chunk: text))
    }

    static func last(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OpenAICompletionResponse(id: meta.id, created: meta.created, model: meta.model,
                                                      text: "", summary: summary))
    }

    static var endOfStream: ByteBuffer? { ServerSentEvents.done }
}
