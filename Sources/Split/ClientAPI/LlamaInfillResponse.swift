import Foundation
import Hummingbird

/// An answer of `POST /infill` in llama.cpp's shape: the whole answer, or one streamed event
/// (`{"content": ..., "stop": false}`, and a last one with `"stop": true` and the counts).
/// Split adds the `split` object its completions carry (strategy, per-token provenance).
public struct LlamaInfillResponse: Sendable, Codable, Equatable {
    /// llama.cpp's timings, in milliseconds.
    public struct Timings: Sendable, Codable, Equatable {
        /// Prompt tokens continued from a kept session (llama.cpp's `cache_n`); `prompt_n`
        /// counts those computed.
        public var cacheN: Int
        public var promptN: Int
        public var promptMS: Double
        public var promptPerSecond: Double
        public var predictedN: Int
        public var predictedMS: Double
        public var predictedPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case cacheN = "cache_n", promptN = "prompt_n", promptMS = "prompt_ms", promptPerSecond = "prompt_per_second"
            case predictedN = "predicted_n", predictedMS = "predicted_ms", predictedPerSecond = "predicted_per_second"
        }
    }

    /// The text: all of it in a whole answer, the new piece in a streamed event.
    public var content: String
    /// False on streamed pieces; true on the whole answer and the last event.
    public var stop: Bool
    public var model: String?
    /// Generated and prompt tokens (on the end only).
    public var tokensPredicted: Int?
    public var tokensEvaluated: Int?
    /// Prompt tokens continued from a kept session (llama.cpp's `tokens_cached`).
    public var tokensCached: Int?
    /// Why it ended, in llama.cpp's words: "eos", "word" (a stop string or the indentation
    /// rule), "limit" (the budget or time limit).
    public var stopType: String?
    public var timings: Timings?
    /// How Split served it, as in `/v1/completions`.
    public var split: OpenAICompletionResponse.SplitInfo?

    enum CodingKeys: String, CodingKey {
        case content, stop, model, timings, split
        case tokensPredicted = "tokens_predicted", tokensEvaluated = "tokens_evaluated", stopType = "stop_type"
        case tokensCached = "tokens_cached"
    }

    /// A streamed piece.
    public init(piece: String) {
        content = piece
        stop = false
    }

    /// The whole answer (`content` all the text) or the last streamed event (`content` empty).
    public init(content: String, model: String, summary: CompletionSummary) {
        self.content = content
        stop = true
        self.model = model
        tokensPredicted = summary.completionTokenCount
        tokensEvaluated = summary.promptTokenCount
        let cached = summary.cachedPromptTokenCount ?? 0
        tokensCached = cached
        stopType = switch summary.finishReason {
        case .endOfText: "eos"
        case .stop: "word"
        case .length, .controllerStop: "limit"
        }
        let promptSeconds = summary.timeToFirstTokenSeconds
        let predictSeconds = max(0, summary.totalSeconds - promptSeconds)
        let computed = summary.promptTokenCount - cached
        timings = Timings(
            cacheN: cached, promptN: computed, promptMS: promptSeconds * 1e3,
            promptPerSecond: promptSeconds > 0 ? Double(computed) / promptSeconds : 0,
            predictedN: summary.completionTokenCount, predictedMS: predictSeconds * 1e3,
            predictedPerSecond: predictSeconds > 0 ? Double(summary.completionTokenCount) / predictSeconds : 0)
        split = OpenAICompletionResponse.SplitInfo(summary: summary)
    }
}

/// llama.cpp's `POST /infill`: a FIM request, answered in llama.cpp's shape; the stream has no
/// `[DONE]` (its last event says `"stop": true`).
enum LlamaInfillDialect: CompletionDialect {
    static func decode(_ body: Data, limits: ClientAPILimits) throws -> DecodedCompletion {
        DecodedCompletion(try LlamaInfillRequest.decode(body, limits: limits))
    }

    static func whole(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(LlamaInfillResponse(content: summary.text, model: meta.model, summary: summary))
    }

    static func chunk(_ text: String, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(LlamaInfillResponse(piece: text))
    }

    static func last(_ summary: CompletionSummary, _ meta: CompletionMeta) -> Data {
        ClientAPIJSON.encode(LlamaInfillResponse(content: "", model: meta.model, summary: summary))
    }

    static var endOfStream: ByteBuffer? { nil }
}
