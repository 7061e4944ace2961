import Foundation

/// Why a generation ended.
public enum FinishReason: String, Sendable, Codable {
    /// The token budget or the context ran out; a stop string; the end-of-text token; the
    /// split-exit stop rule judged the rest of the completion likely wrong.
    case length, stop, endOfText, controllerStop
}

/// The outcome of a generation, with its timings.
public struct GenerationResult: Sendable {
    public var promptTokens: [Int32]
    public var tokens: [Int32]
    public var text: String
    public var finishReason: FinishReason
    public var prefillSeconds: Double
    public var decodeSeconds: Double

    /// Generated tokens per second after the first.
    public var decodeTokensPerSecond: Double {
        tokens.count > 1 && decodeSeconds > 0 ? Double(tokens.count - 1) / decodeSeconds : 0
    }
}

/// A completion request, whatever strategy serves it.
public struct CompletionRequest: Sendable, Codable, Equatable {
    public var prompt: String
    public var maxTokens: Int
    public var sampling: SamplingParameters
    public var stop: [String]
    /// A strategy the client asks for by name (e.g. "local", "split(k=4)"); nil lets the
    /// selector choose.
    public var strategy: String?
    /// Whether an edge-only answer, flagged as degraded, is acceptable when no cloud is reachable.
    public var allowDegraded: Bool
    /// The output quality the selector must keep to ("exact", "agreement>=0.9"); nil: exact.
    public var quality: String?
    /// Fill-in-the-middle input: when set, the prompt is built from it with the model's FIM
    /// tokens (`FIMPrompt`) and `prompt` is not used.
    public var infill: InfillInput?
    /// A chat conversation: when set, the prompt is the model's chat template rendered with it
    /// (ending where the assistant's reply starts). `prompt` is used only when it is not empty
    /// and the model has no template (Ollama's `/api/generate`: a model without a template
    /// takes the prompt as it is).
    public var chat: [ChatMessage]?
    /// A generated line (after the first) indented by fewer spaces or tabs than this ends the
    /// completion there (llama.cpp's `n_indent`); 0: no rule.
    public var minimumIndent: Int
    /// Once a line break has been generated, generating longer than this after the first token
    /// ends the completion (llama.cpp's `t_max_predict_ms`); nil: no limit.
    public var predictTimeLimitSeconds: Double?
    /// Whether the edge may continue a kept session sharing a prefix with this prompt and keep
    /// this one for the next request (llama.cpp's `cache_prompt`; on by default, as there).
    /// The output is the same either way; only the work and the time to the first token differ.
    public var cachePrompt: Bool
    /// The client's slot (llama.cpp's `id_slot`): its kept session is continued, and a newer
    /// request on the same slot cancels this one. nil: no slot (the kept session sharing the
    /// longest prefix is continued; nothing is cancelled).
    public var slot: Int?

    public init(prompt: String, maxTokens: Int = 64, sampling: SamplingParameters = .greedy, stop: [String] = [],
                strategy: String? = nil, allowDegraded: Bool = false, quality: String? = nil, infill: InfillInput? = nil,
                minimumIndent: Int = 0, predictTimeLimitSeconds: Double? = nil, cachePrompt: Bool = true, slot: Int? = nil,
                chat: [ChatMessage]? = nil) {
        self.cachePrompt = cachePrompt
        self.slot = slot
        self.quality = quality
        self.chat = chat
        self.minimumIndent = minimumIndent
        self.predictTimeLimitSeconds = predictTimeLimitSeconds
        self.infill = infill
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.strategy = strategy
        self.allowDegraded = allowDegraded
    }

    private enum CodingKeys: String, CodingKey {
        case prompt, maxTokens, sampling, stop, strategy, allowDegraded, quality, infill, minimumIndent, predictTimeLimitSeconds
        case cachePrompt, slot, chat
    }

    /// Decodes a request; fields added after the first version (`strategy`, `allowDegraded`,
    /// `quality`, `infill`, `minimumIndent`, `predictTimeLimitSeconds`, `cachePrompt`, `slot`, `chat`) may be absent and take
    /// their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prompt = try c.decode(String.self, forKey: .prompt)
        maxTokens = try c.decode(Int.self, forKey: .maxTokens)
        sampling = try c.decode(SamplingParameters.self, forKey: .sampling)
        stop = try c.decodeIfPresent([String].self, forKey: .stop) ?? []
        strategy = try c.decodeIfPresent(String.self, forKey: .strategy)
        allowDegraded = try c.decodeIfPresent(Bool.self, forKey: .allowDegraded) ?? false
        quality = try c.decodeIfPresent(String.self, forKey: .quality)
        infill = try c.decodeIfPresent(InfillInput.self, forKey: .infill)
        minimumIndent = try c.decodeIfPresent(Int.self, forKey: .minimumIndent) ?? 0
        predictTimeLimitSeconds = try c.decodeIfPresent(Double.self, forKey: .predictTimeLimitSeconds)
        cachePrompt = try c.decodeIfPresent(Bool.self, forKey: .cachePrompt) ?? true
        slot = try c.decodeIfPresent(Int.self, forKey: .slot)
        chat = try c.decodeIfPresent([ChatMessage].self, forKey: .chat)
    }
}

/// Runs the whole model in this process (the "local" strategy).
public final class LocalGenerator {
    public let model: TransformerModel
    public let tokenizer: TextTokenizer
    private let workspace = Workspace()

    /// - Throws: when `model` is only a part (it needs the embedding, every layer and the head).
    public init(model: TransformerModel, tokenizer: TextTokenizer) throws {
        guard model.hasEmbedding, model.hasHead, model.layers == 0..<model.configuration.layerCount else {
            throw ModelError.notLoaded("whole model (local generation needs every layer)")
        }
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Tokenizes a prompt, adding the BOS token when the tokenizer asks for it.
    public func promptTokens(_ prompt: String) -> [Int32] {
        var tokens = tokenizer.encode(prompt)
        if tokenizer.addsBOSToken, let bos = tokenizer.bosTokenID, tokens.first != bos { tokens.insert(bos, at: 0) }
        return tokens
    }

    /// Generates a completion, calling `onText` with each chunk of text as it becomes final.
    /// - Throws: `ModelError` (e.g. the prompt is longer than the context).
    public func generate(_ request: CompletionRequest, onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        let prompt = promptTokens(request.prompt)
        return try generate(promptTokens: prompt, request: request, onText: onText)
    }

    /// Generates from already tokenized input, ending also at `bounds.endTokens`.
    /// - Throws: `CancellationError` when `bounds.cancellation` is set between two tokens.
    public func generate(promptTokens prompt: [Int32], request: CompletionRequest, bounds: GenerationBounds = .none,
                         onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        let cache = model.makeCache()
        var sampler = Sampler(request.sampling)
        var stream = TextStream(stopStrings: request.stop, minimumIndent: request.minimumIndent)
        var generated: [Int32] = []
        var finish = FinishReason.length
        let c = model.configuration
        let budget = min(request.maxTokens, c.maxPositions - prompt.count)
        guard !prompt.isEmpty else { throw ModelError.invalidConfiguration("empty prompt") }

        let prefillStart = DispatchTime.now()
        var hidden = try model.embed(prompt, startPosition: 0)
        try model.forward(&hidden, rows: prompt.count, startPosition: 0, layers: model.layers, cache: cache, workspace: workspace)
        let lastRow = Array(hidden[((prompt.count - 1) * c.hiddenSize)...])
        var logits = try model.logits(lastRow, rows: 1, workspace: workspace)
        let prefillSeconds = Self.seconds(since: prefillStart)
        let decodeStart = DispatchTime.now()

        var position = prompt.count
        var row = [Float](repeating: 0, count: c.hiddenSize)
        while generated.count < budget {
            if bounds.isCancelled { throw CancellationError() }
            let next = logits.withUnsafeBufferPointer { sampler.sample($0) }.token
            if next == tokenizer.eosTokenID || bounds.ends(at: next) { finish = .endOfText; break }
            generated.append(next)
            onText(stream.append(tokenizer.tokenBytes(next)))
            if stream.stopped { finish = .stop; break }
            if let limit = request.predictTimeLimitSeconds, stream.sawLineBreak, Self.seconds(since: decodeStart) > limit { break }
            if generated.count == budget { break }
            try model.decodeStep(next, position: position, cache: cache, workspace: workspace, row: &row, logits: &logits)
            position += 1
        }
        onText(stream.finish())
        return GenerationResult(
            promptTokens: prompt, tokens: generated, text: stream.emitted, finishReason: finish,
            prefillSeconds: prefillSeconds, decodeSeconds: Self.seconds(since: decodeStart))
    }

    public static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
