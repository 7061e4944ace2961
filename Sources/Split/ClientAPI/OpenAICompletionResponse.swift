import Foundation

/// A `text_completion` object as OpenAI sends it: the whole answer of a non-streamed request,
/// or one chunk of a streamed one. Split adds a `split` object saying how it was served.
public struct OpenAICompletionResponse: Sendable, Codable, Equatable {
    /// One completion choice; Split always returns exactly one.
    public struct Choice: Sendable, Codable, Equatable {
        public var text: String
        public var index: Int
        /// Always null: log-probabilities are not offered.
        public var logprobs: String?
        /// `"stop"` or `"length"` at the end; null on a streamed chunk before the end.
        public var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case text, index, logprobs
            case finishReason = "finish_reason"
        }

        /// Writes `logprobs` and `finish_reason` as explicit nulls, as OpenAI does.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(text, forKey: .text)
            try c.encode(index, forKey: .index)
            try c.encode(logprobs, forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    /// Token counts.
    public struct Usage: Sendable, Codable, Equatable {
        public var promptTokens: Int
        public var completionTokens: Int
        public var totalTokens: Int
        /// OpenAI's `prompt_tokens_details`: how many prompt tokens came from the prompt cache.
        public var promptTokensDetails: PromptTokensDetails?

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
            case promptTokensDetails = "prompt_tokens_details"
        }
    }

    /// `usage.prompt_tokens_details`: prompt tokens continued from a kept session, not computed.
    public struct PromptTokensDetails: Sendable, Codable, Equatable {
        public var cachedTokens: Int

        enum CodingKeys: String, CodingKey {
            case cachedTokens = "cached_tokens"
        }
    }

    /// How Split served the completion.
    public struct SplitInfo: Sendable, Codable, Equatable {
        public var strategy: String
        public var degraded: Bool
        public var timeToFirstTokenSeconds: Double
        public var totalSeconds: Double
        /// Each token's side and layer ("cloud@8", "draft@4", "edge@3"), for split strategies.
        public var provenance: [String]?
        /// Edge-answered tokens, drafts accepted and round trips, for split strategies.
        public var counts: ProvenanceCounts?

        enum CodingKeys: String, CodingKey {
            case strategy, degraded, provenance, counts
            case timeToFirstTokenSeconds = "time_to_first_token_seconds", totalSeconds = "total_seconds"
        }

        /// How `summary`'s completion was served.
        public init(summary: CompletionSummary) {
            strategy = summary.strategy
            degraded = summary.degraded
            timeToFirstTokenSeconds = summary.timeToFirstTokenSeconds
            totalSeconds = summary.totalSeconds
            provenance = summary.provenance.isEmpty ? nil : summary.provenance.map(\.description)
            counts = summary.counts
        }
    }

    public var id: String
    public var object: String
    /// Unix time in seconds.
    public var created: Int
    public var model: String
    public var choices: [Choice]
    /// Present on a whole answer and on the last streamed chunk.
    public var usage: Usage?
    /// Present on a whole answer and on the last streamed chunk.
    public var split: SplitInfo?

    /// The whole answer of a non-streamed request, or the last chunk of a streamed one
    /// (`text` empty there: the text went out in earlier chunks).
    public init(id: String, created: Int, model: String, text: String, summary: CompletionSummary) {
        self.id = id
        self.object = "text_completion"
        self.created = created
        self.model = model
        choices = [Choice(text: text, index: 0, logprobs: nil, finishReason: summary.finishReason.openAIName)]
        usage = Usage(promptTokens: summary.promptTokenCount, completionTokens: summary.completionTokenCount,
                      totalTokens: summary.promptTokenCount + summary.completionTokenCount,
                      promptTokensDetails: PromptTokensDetails(cachedTokens: summary.cachedPromptTokenCount ?? 0))
        split = SplitInfo(summary: summary)
    }

    /// A streamed chunk carrying new text.
    public init(id: String, created: Int, model: String, chunk text: String) {
        self.id = id
        self.object = "text_completion"
        self.created = created
        self.model = model
        choices = [Choice(text: text, index: 0, logprobs: nil, finishReason: nil)]
    }
}

/// The body of `GET /v1/models`.
public struct OpenAIModelList: Sendable, Codable, Equatable {
    /// One model entry.
    public struct Model: Sendable, Codable, Equatable {
        public var id: String
        public var object: String
        public var created: Int
        public var ownedBy: String

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }
    }

    public var object: String
    public var data: [Model]

    /// The list holding the one model a node serves.
    public init(modelName: String, created: Int) {
        object = "list"
        data = [Model(id: modelName, object: "model", created: created, ownedBy: "split")]
    }
}
