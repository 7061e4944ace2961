import Foundation
import Hummingbird

/// A `chat.completion` object (the whole answer) or a `chat.completion.chunk` (one streamed
/// event) as OpenAI sends them. Split adds the `split` object its completions carry (strategy,
/// per-token provenance) on the whole answer and the last chunk.
public struct OpenAIChatResponse: Sendable, Codable, Equatable {
    /// The assistant's message (whole answer) or the new part of it (chunk).
    public struct Message: Sendable, Codable, Equatable {
        public var role: String?
        public var content: String?
    }

    /// One choice; Split always returns exactly one.
    public struct Choice: Sendable, Codable, Equatable {
        public var index: Int
        public var message: Message?
        public var delta: Message?
        /// Always null: log-probabilities are not offered.
        public var logprobs: String?
        /// `"stop"` or `"length"` at the end; null on chunks before it.
        public var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, message, delta, logprobs
            case finishReason = "finish_reason"
        }

        /// Writes `logprobs` and `finish_reason` as explicit nulls, as OpenAI does.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encodeIfPresent(message, forKey: .message)
            try c.encodeIfPresent(delta, forKey: .delta)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    public var id: String
    /// `chat.completion` or `chat.completion.chunk`.
    public var object: String
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: OpenAICompletionResponse.Usage?
    public var split: OpenAICompletionResponse.SplitInfo?

    /// The whole answer of a non-streamed request.
    init(meta: CompletionMeta, summary: CompletionSummary) {
        self.init(meta: meta, object: "chat.completion", choices: [
            Choice(index: 0, message: Message(role: "assistant", content: summary.text), finishReason: summary.finishReason.openAIName),
        ])
        usage = OpenAICompletionResponse.Usage(summary: summary)
        split = OpenAICompletionResponse.SplitInfo(summary: summary)
    }

    /// A streamed chunk whose delta is `delta`, ending the choice with `finishReason` when given.
    init(meta: CompletionMeta, delta: Message, finishReason: String? = nil) {
        self.init(meta: meta, object: "chat.completion.chunk", choices: [Choice(index: 0, delta: delta, finishReason: finishReason)])
    }

    private init(meta: CompletionMeta, object: String, choices: [Choice]) {
        id = meta.id
        self.object = object
        created = meta.created
        model = meta.model
        self.choices = choices
    }

    /// The chunk `stream_options.include_usage` asks for: no choices, the usage.
    static func usageChunk(meta: CompletionMeta, summary: CompletionSummary) -> OpenAIChatResponse {
        var chunk = OpenAIChatResponse(meta: meta, object: "chat.completion.chunk", choices: [])
        chunk.usage = OpenAICompletionResponse.Usage(summary: summary)
        return chunk
    }
}

extension OpenAICompletionResponse.Usage {
    /// The counts of `summary`'s completion.
    init(summary: CompletionSummary) {
        self.init(promptTokens: summary.promptTokenCount, completionTokens: summary.completionTokenCount,
                  totalTokens: summary.promptTokenCount + summary.completionTokenCount)
    }
}

/// OpenAI's `POST /v1/chat/completions`: `chat.completion` objects; a stream of
/// `chat.completion.chunk`s whose first delta carries the role, then the content, a last one
/// with the finish reason (and Split's provenance), the usage alone when asked for, `[DONE]`.
enum OpenAIChatDialect: CompletionDialect {
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> DecodedCompletion {
        let (request, stream, includeUsage) = try OpenAIChatRequest.decode(body, limits: limits)
        return DecodedCompletion(request: request, stream: stream, includeUsage: includeUsage)
    }

    static func whole(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OpenAIChatResponse(meta: meta, summary: summary))
    }

    static func opening(_ meta: CompletionMeta) -> Data? {
        ClientAPIJSON.encode(OpenAIChatResponse(meta: meta, delta: .init(role: "assistant", content: "")))
    }

    static func chunk(_ text: String, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(OpenAIChatResponse(meta: meta, delta: .init(content: text)))
    }

    static func last(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        var chunk = OpenAIChatResponse(meta: meta, delta: .init(), finishReason: summary.finishReason.openAIName)
        chunk.split = OpenAICompletionResponse.SplitInfo(summary: summary)
        return ClientAPIJSON.encode(chunk)
    }

    static func usage(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data? {
        ClientAPIJSON.encode(OpenAIChatResponse.usageChunk(meta: meta, summary: summary))
    }

    static var endOfStream: ByteBuffer? { ServerSentEvents.done }
    static var idPrefix: String { "chatcmpl-" }
}
