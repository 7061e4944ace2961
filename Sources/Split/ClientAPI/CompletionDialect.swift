import Foundation
import Hummingbird

/// The request and response shapes of one completion API, so that one endpoint serves them
/// all: OpenAI's legacy completions (`OpenAICompletionDialect`) and llama.cpp's `/infill`
/// (`LlamaInfillDialect`).
protocol CompletionDialect: Sendable {
    /// Parses and checks a body against `limits`.
    /// - Throws: `ClientAPIError` naming the field at fault.
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> (request: CompletionRequest, stream: Bool)
    /// The JSON body of a whole (non-streamed) answer.
    static func whole(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data
    /// The JSON of a streamed event carrying new text.
    static func chunk(_ text: String, _ meta: CompletionMeta) -> Data
    /// The JSON of the last streamed event (its text went out in earlier chunks).
    static func last(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data
    /// What ends the event stream after the last event, if anything.
    static var endOfStream: ByteBuffer? { get }
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
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> (request: CompletionRequest, stream: Bool) {
        try OpenAICompletionRequest.decode(body, limits: limits)
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
