import Foundation

extension ModelConfiguration {
    /// Reads the configuration from a GGUF file's `{arch}.*` metadata, as llama.cpp writes it.
    /// Every `{arch}.*` key must be one Split reads: an unknown one may change the computation,
    /// so it is refused by name.
    /// - Throws: `ModelError.unsupportedArchitecture`, `.missingMetadata` or `.unsupportedFeature`
    ///   naming the key.
    public init(gguf file: GGUFFile) throws {
        guard let name = file.architecture else { throw ModelError.missingMetadata("general.architecture") }
        guard let architecture = Architecture(rawValue: name) else { throw ModelError.unsupportedArchitecture(name) }
        func required(_ key: String) throws -> Int {
            guard let value = file.int("\(name).\(key)") else { throw ModelError.missingMetadata("\(name).\(key)") }
            return value
        }
        let hidden = try required("embedding_length")
        let heads = try required("attention.head_count")
        guard heads > 0 else { throw ModelError.invalidConfiguration("\(name).attention.head_count is 0") }
        let headDimension = file.int("\(name).attention.key_length") ?? hidden / heads
        if let valueLength = file.int("\(name).attention.value_length"), valueLength != headDimension {
            throw ModelError.unsupportedFeature(
                what: "\(name).attention.value_length = \(valueLength)",
                reason: "value heads wider or narrower than key heads (\(headDimension)) are not implemented")
        }
        let embedding = file.tensorInfo("token_embd.weight")
        let vocabulary = file.int("\(name).vocab_size")
            ?? embedding?.shape.first
            ?? file.stringArray("tokenizer.ggml.tokens")?.count
        guard let vocabulary else { throw ModelError.missingMetadata("\(name).vocab_size") }
        let layerNorm = architecture == .gpt2 || architecture == .starcoder2
        let epsilonKey = layerNorm ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon"
        self.init(
            architecture: architecture, vocabularySize: vocabulary, hiddenSize: hidden,
            intermediateSize: try required("feed_forward_length"), layerCount: try required("block_count"),
            headCount: heads, kvHeadCount: file.int("\(name).attention.head_count_kv") ?? heads,
            headDimension: headDimension,
            normEpsilon: file.float("\(name).\(epsilonKey)") ?? 1e-5,
            normKind: layerNorm ? .layer : .rms,
            feedForward: layerNorm ? .gelu : .gatedSiLU,
            ropeTheta: file.float("\(name).rope.freq_base") ?? 10000,
            // llama.cpp permutes Llama Q/K at conversion (interleaved pairs); the others keep NeoX.
            ropeLayout: architecture == .llama ? .interleaved : .neox,
            ropeDimensions: file.int("\(name).rope.dimension_count") ?? headDimension,
            maxPositions: try required("context_length"),
            attentionBias: architecture == .qwen2 || file.tensorInfo("blk.0.attn_q.bias") != nil,
            tiedEmbeddings: file.tensorInfo("output.weight") == nil)
        inputDimensions = file.int("split.input_dimensions") ?? 0
        actionDimensions = file.int("split.action_dimensions") ?? 0
        actionHorizon = file.int("split.action_horizon") ?? 0
        policyRobot = file.string(PolicyTraining.metadataKey)

        var known = Self.commonGGUFKeys.union([epsilonKey])
        known.formUnion(architecture.ggufKeys)
        for key in file.metadataKeys where key.hasPrefix(name + ".") {
            let suffix = String(key.dropFirst(name.count + 1))
            guard known.contains(suffix) || Self.neutralGGUFKeys[suffix]?(file.value(forKey: key)) == true else {
                throw ModelError.unsupportedFeature(
                    what: "GGUF metadata '\(key)'", reason: "a hyper-parameter Split does not implement for \(name)")
            }
        }
        ropeScaling = try Self.ropeScaling(gguf: file, architecture: name, theta: ropeTheta, dimensions: ropeDimensions)
        limitContextToScaling()
        if let window = file.int("\(name).attention.sliding_window"), window > 0 {
            slidingWindow = window
        }
        try architecture.configure(&self, gguf: file)
    }

    /// A LongRoPE model runs only within its original context, where its short factors hold.
    mutating func limitContextToScaling() {
        if case .longRoPE(let long) = ropeScaling { maxPositions = min(maxPositions, long.originalContextLength) }
    }

    /// `{arch}.` keys every RoPE transformer may carry (each either read or checked harmless).
    static let commonGGUFKeys: Set<String> = [
        "context_length", "embedding_length", "block_count", "feed_forward_length", "vocab_size",
        "attention.head_count", "attention.head_count_kv", "attention.key_length", "attention.value_length",
        "rope.freq_base", "rope.dimension_count", "rope.scaling.type", "rope.scaling.factor",
        "rope.scaling.original_context_length", "rope.scaling.finetuned", "rope.scaling.attn_factor",
        "rope.scaling.yarn_beta_fast", "rope.scaling.yarn_beta_slow",
    ]

    /// `{arch}.` keys accepted when they say the model is a plain one: no experts, causal
    /// attention; `tensor_data_layout` (old conversions of Meta's files) llama.cpp never reads.
    static let neutralGGUFKeys: [String: @Sendable (GGUFValue?) -> Bool] = [
        "expert_count": { $0?.intValue == 0 },
        "expert_used_count": { $0?.intValue == 0 },
        "attention.causal": { $0 == .bool(true) },
        "tensor_data_layout": { _ in true },
    ]

    /// RoPE scaling from `{arch}.rope.scaling.*` and the `rope_freqs` tensor.
    /// - Throws: `ModelError.unsupportedFeature` for a scaling type Split does not compute.
    static func ropeScaling(gguf file: GGUFFile, architecture name: String, theta: Float, dimensions: Int) throws -> RopeScaling {
        let type = file.string("\(name).rope.scaling.type") ?? "none"
        let factor = file.float("\(name).rope.scaling.factor") ?? 1
        let attentionFactor = file.float("\(name).rope.scaling.attn_factor") ?? 1
        /// A 1-D f32 tensor of `dimensions / 2` values.
        func factors(_ tensor: String) throws -> [Float] {
            let view = try file.weight(tensor)
            guard view.type == .f32, view.elementCount == dimensions / 2, let base = view.bytes.baseAddress,
                  view.bytes.count >= dimensions / 2 * 4 else {
                throw ModelError.shapeMismatch(tensor: tensor, expected: [dimensions / 2], found: view.shape)
            }
            var values = [Float](repeating: 0, count: dimensions / 2)
            values.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: dimensions / 2 * 4)) }
            return values
        }
        if file.tensorInfo("rope_factors_short.weight") != nil {
            // Phi-3 LongRoPE (Phi3MiniModel writes no scaling type, only these tensors and attn_factor).
            guard type == "none" || type == "longrope" else {
                throw ModelError.unsupportedFeature(
                    what: "tensor 'rope_factors_short.weight' with \(name).rope.scaling.type = \(type)",
                    reason: "LongRoPE factors combined with another RoPE scaling are not implemented")
            }
            guard let original = file.int("\(name).rope.scaling.original_context_length") else {
                throw ModelError.missingMetadata("\(name).rope.scaling.original_context_length")
            }
            return .longRoPE(.init(shortFactors: try factors("rope_factors_short.weight"), attentionFactor: attentionFactor,
                                   originalContextLength: original))
        }
        if file.tensorInfo("rope_freqs.weight") != nil {
            guard type == "none" || type == "linear" && factor == 1 else {
                throw ModelError.unsupportedFeature(
                    what: "tensor 'rope_freqs.weight' with \(name).rope.scaling.type = \(type)",
                    reason: "frequency factors combined with another RoPE scaling are not implemented")
            }
            return .frequencyFactors(try factors("rope_freqs.weight"))
        }
        if type != "yarn" && attentionFactor != 1 {
            throw ModelError.unsupportedFeature(what: "GGUF metadata '\(name).rope.scaling.attn_factor' = \(attentionFactor)",
                                                reason: "a RoPE attention factor is only implemented with YaRN")
        }
        switch type {
        case "none":
            return .none
        case "linear":
            return factor == 1 ? .none : .linear(factor: factor)
        case "yarn":
            let original = file.int("\(name).rope.scaling.original_context_length") ?? (file.int("\(name).context_length") ?? 0)
            return .yarn(.init(factor: factor, originalContextLength: original,
                               betaFast: file.float("\(name).rope.scaling.yarn_beta_fast") ?? 32,
                               betaSlow: file.float("\(name).rope.scaling.yarn_beta_slow") ?? 1,
                               attentionFactor: attentionFactor))
        default:
            throw ModelError.unsupportedFeature(what: "GGUF metadata '\(name).rope.scaling.type' = \(type)",
                                                reason: "this RoPE scaling is not implemented (none, linear, yarn are)")
        }
    }

    /// Reads the configuration from a Hugging Face `config.json`. Settings that change the
    /// computation and that Split does not implement are refused by name.
    /// - Throws: `ModelError` naming the missing or unsupported field.
    public init(huggingFaceConfig data: Data) throws {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError.invalidConfiguration("config.json is not a JSON object")
        }
        let config = HuggingFaceConfig(json: json)
        let modelType = json["model_type"] as? String ?? "?"
        switch modelType {
        case "gpt2":
            let hidden = try config.required("n_embd")
            let heads = try config.required("n_head")
            guard heads > 0 else { throw ModelError.invalidConfiguration("n_head is 0") }
            self.init(
                architecture: .gpt2, vocabularySize: try config.required("vocab_size"), hiddenSize: hidden,
                intermediateSize: config.int("n_inner") ?? 4 * hidden, layerCount: try config.required("n_layer"),
                headCount: heads, kvHeadCount: heads, headDimension: hidden / heads,
                normEpsilon: config.float("layer_norm_epsilon") ?? 1e-5, normKind: .layer, feedForward: .gelu,
                ropeTheta: 0, ropeLayout: .neox, ropeDimensions: 0,
                maxPositions: config.int("n_positions") ?? config.int("n_ctx") ?? 1024,
                attentionBias: true, tiedEmbeddings: json["tie_word_embeddings"] as? Bool ?? true)
            try config.refuseUnread(by: self)
            return
        default:
            guard let architecture = Architecture(huggingFaceModelType: modelType) else {
                throw ModelError.unsupportedArchitecture(modelType)
            }
            let hidden = try config.required("hidden_size")
            let heads = try config.required("num_attention_heads")
            guard heads > 0 else { throw ModelError.invalidConfiguration("num_attention_heads is 0") }
            let headDimension = config.int("head_dim") ?? hidden / heads
            self.init(
                architecture: architecture, vocabularySize: try config.required("vocab_size"), hiddenSize: hidden,
                intermediateSize: try config.required("intermediate_size"), layerCount: try config.required("num_hidden_layers"),
                headCount: heads, kvHeadCount: config.int("num_key_value_heads") ?? heads, headDimension: headDimension,
                normEpsilon: config.float("rms_norm_eps") ?? 1e-6, normKind: .rms, feedForward: .gatedSiLU,
                ropeTheta: config.ropeTheta ?? 10000, ropeLayout: .neox, ropeDimensions: headDimension,
                maxPositions: config.int("max_position_embeddings") ?? 2048,
                attentionBias: architecture == .qwen2 || config.bool("attention_bias") == true,
                tiedEmbeddings: config.bool("tie_word_embeddings") ?? false)
            try architecture.configure(&self, huggingFace: config)
            if ropeScaling == .none { ropeScaling = try config.ropeScaling(try config.ropeParameters(), theta: ropeTheta, dimensions: ropeDimensions) }
            limitContextToScaling()
            try config.refuseUnread(by: self)
        }
    }
}

extension ModelConfiguration.Architecture {
    /// The architecture of a Hugging Face `model_type` (Mistral is Llama with a sliding window).
    init?(huggingFaceModelType type: String) {
        switch type {
        case "llama", "mistral": self = .llama
        case "gemma3_text": self = .gemma3
        default: self.init(rawValue: type)
        }
    }
}
