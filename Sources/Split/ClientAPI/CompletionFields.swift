/// The completion fields the ZeroMQ and HTTP APIs share, as a client sent them (absent fields
/// are nil). `makeRequest` is the one place where they are checked and turned into a
/// `CompletionRequest`, so both APIs accept and refuse the same things.
public struct CompletionFields: Sendable, Equatable {
    public var prompt: String?
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var seed: UInt64?
    public var stop: [String]?
    public var strategy: String?
    public var allowDegraded: Bool?
    /// The output quality the selector must keep to: "exact" or "agreement>=X".
    public var quality: String?
    /// Fill-in-the-middle input (`/infill`, or `/v1/completions` with a `suffix`); when set,
    /// `prompt` is the text typed at the cursor and may be empty.
    public var infill: InfillInput?
    /// llama.cpp's `cache_prompt` (default true) and `id_slot` (-1 or absent: no slot).
    public var cachePrompt: Bool?
    public var slot: Int?
    /// A chat conversation (`/v1/chat/completions`, Ollama's `/api/generate` without `raw`),
    /// rendered with the model's chat template; `prompt` is not used.
    public var chat: [ChatMessage]?

    /// Fields as decoded from a request; every one may be absent.
    public init(prompt: String? = nil, maxTokens: Int? = nil, temperature: Double? = nil, topP: Double? = nil,
                topK: Int? = nil, seed: UInt64? = nil, stop: [String]? = nil, strategy: String? = nil,
                allowDegraded: Bool? = nil, quality: String? = nil, infill: InfillInput? = nil,
                cachePrompt: Bool? = nil, slot: Int? = nil,
                chat: [ChatMessage]? = nil) {
        self.cachePrompt = cachePrompt
        self.slot = slot
        self.chat = chat
        self.quality = quality
        self.infill = infill
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
        self.stop = stop
        self.strategy = strategy
        self.allowDegraded = allowDegraded
    }

    /// The sampling and routing fields OpenAI's completions and chat completions share, read by
    /// their wire names: `temperature`, `top_p`, `top_k`, `seed`, `stop`, Split's
    /// `strategy`, `allow_degraded`, `quality`, and llama.cpp's `cache_prompt` and `id_slot`.
    /// - Throws: `ClientAPIError.invalidRequest` naming a field of the wrong type.
    init(openAIFieldsFrom decoder: any Decoder, maxTokens: Int?) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        func field<Value: Decodable>(_ type: Value.Type, _ name: String) throws -> Value? {
            try c.decodeField(type, forKey: AnyCodingKey(stringValue: name))
        }
        self.init(maxTokens: maxTokens, temperature: try field(Double.self, "temperature"), topP: try field(Double.self, "top_p"),
                  topK: try field(Int.self, "top_k"), seed: try field(UInt64.self, "seed"),
                  stop: try field(StringOrStrings.self, "stop")?.strings, strategy: try field(String.self, "strategy"),
                  allowDegraded: try field(Bool.self, "allow_degraded"), quality: try field(String.self, "quality"),
                  cachePrompt: try field(Bool.self, "cache_prompt"), slot: try field(Int.self, "id_slot"))
    }

    /// What an API assumes for fields a client leaves out.
    public struct Defaults: Sendable, Equatable {
        public var maxTokens: Int
        public var temperature: Double

        /// Defaults for `max_tokens` and `temperature`.
        public init(maxTokens: Int, temperature: Double) {
            self.maxTokens = maxTokens
            self.temperature = temperature
        }

        /// OpenAI's legacy completions: 16 tokens, temperature 1.
        public static let openAI = Defaults(maxTokens: 16, temperature: 1)
        /// Split's own socket API: 64 tokens, greedy (exact in every strategy).
        public static let socket = Defaults(maxTokens: 64, temperature: 0)
        /// llama.cpp's `/infill`: 128 tokens (llama.vim's and llama.vscode's `n_predict`), greedy.
        /// llama.cpp itself has no limit (-1) and samples at 0.8; an editor waiting on a
        /// suggestion is better served by a bounded, repeatable one.
        public static let infill = Defaults(maxTokens: 128, temperature: 0)
    }

    /// Slots a client may name (`id_slot` 0…1023): the edge keeps a small record per slot used.
    public static let slotCount = 1024

    /// Checks every field against `limits` and builds the request. A sampled request without a
    /// seed gets a random one, as OpenAI clients expect.
    /// - Throws: `ClientAPIError` naming the first field at fault.
    public func makeRequest(limits: ClientAPILimits, defaults: Defaults) throws -> CompletionRequest {
        let prompt: String
        if let infill {
            // An infill's prompt may be empty (llama.vim's warm-up request sends only input_extra).
            prompt = infill.prompt
            let bytes = infill.extraFiles.reduce(infill.prefix.utf8.count + infill.suffix.utf8.count + prompt.utf8.count) {
                $0 + $1.filename.utf8.count + $1.text.utf8.count
            }
            guard bytes <= limits.maxPromptBytes else {
                throw ClientAPIError(.tooLarge, "prefix, suffix, prompt and extra files are \(bytes) bytes; the limit is \(limits.maxPromptBytes)",
                                     parameter: "input_prefix")
            }
        } else if let chat {
            guard !chat.isEmpty else {
                throw ClientAPIError(.invalidRequest, "messages must hold at least one message", parameter: "messages")
            }
            let bytes = chat.reduce(0) { $0 + $1.role.utf8.count + $1.content.utf8.count }
            guard bytes <= limits.maxPromptBytes else {
                throw ClientAPIError(.tooLarge, "the messages are \(bytes) bytes; the limit is \(limits.maxPromptBytes)",
                                     parameter: "messages")
            }
            // Ollama's /api/generate sends its prompt too, used as is when the model has no template.
            prompt = self.prompt ?? ""
        } else {
            guard let text = self.prompt else { throw ClientAPIError(.invalidRequest, "prompt is required", parameter: "prompt") }
            guard !text.isEmpty else { throw ClientAPIError(.invalidRequest, "prompt must not be empty", parameter: "prompt") }
            guard text.utf8.count <= limits.maxPromptBytes else {
                throw ClientAPIError(.tooLarge, "prompt is \(text.utf8.count) bytes; the limit is \(limits.maxPromptBytes)",
                                     parameter: "prompt")
            }
            prompt = text
        }
        let maxTokens = maxTokens ?? defaults.maxTokens
        guard (1...limits.maxTokens).contains(maxTokens) else {
            throw ClientAPIError(.invalidRequest, "max_tokens must be between 1 and \(limits.maxTokens), not \(maxTokens)",
                                 parameter: "max_tokens")
        }
        let temperature = temperature ?? defaults.temperature
        guard temperature.isFinite, (0...2).contains(temperature) else {
            throw ClientAPIError(.invalidRequest, "temperature must be between 0 and 2, not \(temperature)",
                                 parameter: "temperature")
        }
        let topP = topP ?? 1
        guard topP.isFinite, topP > 0, topP <= 1 else {
            throw ClientAPIError(.invalidRequest, "top_p must be in (0, 1], not \(topP)", parameter: "top_p")
        }
        let topK = topK ?? 0
        guard topK >= 0 else {
            throw ClientAPIError(.invalidRequest, "top_k must be 0 (all tokens) or more, not \(topK)", parameter: "top_k")
        }
        let stop = try checkedStop(limits: limits)
        if let strategy {
            guard !strategy.isEmpty, strategy.utf8.count <= limits.maxStrategyBytes else {
                throw ClientAPIError(.invalidRequest, "strategy must be 1 to \(limits.maxStrategyBytes) bytes",
                                     parameter: "strategy")
            }
        }
        if let quality {
            guard quality.utf8.count <= limits.maxStrategyBytes, (try? QualityRequirement.parse(quality)) != nil else {
                throw ClientAPIError(.invalidRequest, "quality must be \"exact\" or \"agreement>=X\" with X in [0, 1]",
                                     parameter: "quality")
            }
        }
        if let slot, !(-1..<Self.slotCount).contains(slot) {
            throw ClientAPIError(.invalidRequest, "id_slot must be -1 (none) or a slot from 0 to \(Self.slotCount - 1), not \(slot)",
                                 parameter: "id_slot")
        }
        let sampling = SamplingParameters(
            temperature: Float(temperature), topK: topK, topP: Float(topP),
            seed: seed ?? (temperature > 0 ? UInt64.random(in: 0...UInt64.max) : 0))
        return CompletionRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling, stop: stop,
                                 strategy: strategy, allowDegraded: allowDegraded ?? false, quality: quality, infill: infill,
                                 cachePrompt: cachePrompt ?? true, slot: slot.flatMap { $0 >= 0 ? $0 : nil },
                                 chat: chat)
    }

    private func checkedStop(limits: ClientAPILimits) throws -> [String] {
        let stop = stop ?? []
        guard stop.count <= limits.maxStopSequences else {
            throw ClientAPIError(.invalidRequest, "at most \(limits.maxStopSequences) stop strings, not \(stop.count)",
                                 parameter: "stop")
        }
        for string in stop {
            guard !string.isEmpty, string.utf8.count <= limits.maxStopBytes else {
                throw ClientAPIError(.invalidRequest, "each stop string must be 1 to \(limits.maxStopBytes) bytes",
                                     parameter: "stop")
            }
        }
        return stop
    }
}
