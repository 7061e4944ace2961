import Foundation

extension ModelConfiguration {
    /// Reads the configuration from a GGUF file's `{arch}.*` metadata, as llama.cpp writes it.
    /// - Throws: `ModelError.unsupportedArchitecture` or `.missingMetadata` naming the key.
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
        let embedding = file.tensorInfo("token_embd.weight")
        let vocabulary = file.int("\(name).vocab_size")
            ?? embedding?.shape.first
            ?? file.stringArray("tokenizer.ggml.tokens")?.count
        guard let vocabulary else { throw ModelError.missingMetadata("\(name).vocab_size") }
        let isGPT2 = architecture == .gpt2
        self.init(
            architecture: architecture, vocabularySize: vocabulary, hiddenSize: hidden,
            intermediateSize: try required("feed_forward_length"), layerCount: try required("block_count"),
            headCount: heads, kvHeadCount: file.int("\(name).attention.head_count_kv") ?? heads,
            headDimension: headDimension,
            normEpsilon: (isGPT2 ? file.float("\(name).attention.layer_norm_epsilon")
                                 : file.float("\(name).attention.layer_norm_rms_epsilon")) ?? 1e-5,
            normKind: isGPT2 ? .layer : .rms, feedForward: isGPT2 ? .gelu : .gatedSiLU,
            ropeTheta: file.float("\(name).rope.freq_base") ?? 10000,
            // llama.cpp permutes Llama Q/K at conversion (interleaved pairs); Qwen2 keeps NeoX.
            ropeLayout: architecture == .llama ? .interleaved : .neox,
            ropeDimensions: file.int("\(name).rope.dimension_count") ?? headDimension,
            maxPositions: try required("context_length"),
            attentionBias: architecture == .qwen2 || file.tensorInfo("blk.0.attn_q.bias") != nil,
            tiedEmbeddings: file.tensorInfo("output.weight") == nil)
        inputDimensions = file.int("split.input_dimensions") ?? 0
        actionDimensions = file.int("split.action_dimensions") ?? 0
        actionHorizon = file.int("split.action_horizon") ?? 0
    }

    /// Reads the configuration from a Hugging Face `config.json`.
    /// - Throws: `ModelError` naming the missing or unsupported field.
    public init(huggingFaceConfig data: Data) throws {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError.invalidConfiguration("config.json is not a JSON object")
        }
        func int(_ key: String) -> Int? { (json[key] as? NSNumber)?.intValue }
        func float(_ key: String) -> Float? { (json[key] as? NSNumber)?.floatValue }
        func required(_ key: String) throws -> Int {
            guard let value = int(key) else { throw ModelError.missingMetadata("config.json: \(key)") }
            return value
        }
        // transformers ≥ 5 nests RoPE settings under "rope_parameters".
        func ropeParameter(_ key: String) -> Float? {
            ((json["rope_parameters"] as? [String: Any])?[key] as? NSNumber)?.floatValue
        }
        if let ropeType = (json["rope_parameters"] as? [String: Any])?["rope_type"] as? String
            ?? (json["rope_scaling"] as? [String: Any])?["rope_type"] as? String,
           ropeType != "default" {
            throw ModelError.invalidConfiguration("RoPE scaling '\(ropeType)' is not supported")
        }
        let modelType = json["model_type"] as? String ?? "?"
        switch modelType {
        case "llama", "mistral", "qwen2":
            let architecture: Architecture = modelType == "qwen2" ? .qwen2 : .llama
            let hidden = try required("hidden_size")
            let heads = try required("num_attention_heads")
            guard heads > 0 else { throw ModelError.invalidConfiguration("num_attention_heads is 0") }
            let headDimension = int("head_dim") ?? hidden / heads
            self.init(
                architecture: architecture, vocabularySize: try required("vocab_size"), hiddenSize: hidden,
                intermediateSize: try required("intermediate_size"), layerCount: try required("num_hidden_layers"),
                headCount: heads, kvHeadCount: int("num_key_value_heads") ?? heads, headDimension: headDimension,
                normEpsilon: float("rms_norm_eps") ?? 1e-6, normKind: .rms, feedForward: .gatedSiLU,
                ropeTheta: float("rope_theta") ?? ropeParameter("rope_theta") ?? 10000, ropeLayout: .neox, ropeDimensions: headDimension,
                maxPositions: int("max_position_embeddings") ?? 2048,
                attentionBias: architecture == .qwen2 || (json["attention_bias"] as? Bool ?? false),
                tiedEmbeddings: json["tie_word_embeddings"] as? Bool ?? false)
        case "gpt2":
            let hidden = try required("n_embd")
            let heads = try required("n_head")
            guard heads > 0 else { throw ModelError.invalidConfiguration("n_head is 0") }
            self.init(
                architecture: .gpt2, vocabularySize: try required("vocab_size"), hiddenSize: hidden,
                intermediateSize: int("n_inner") ?? 4 * hidden, layerCount: try required("n_layer"),
                headCount: heads, kvHeadCount: heads, headDimension: hidden / heads,
                normEpsilon: float("layer_norm_epsilon") ?? 1e-5, normKind: .layer, feedForward: .gelu,
                ropeTheta: 0, ropeLayout: .neox, ropeDimensions: 0,
                maxPositions: int("n_positions") ?? int("n_ctx") ?? 1024,
                attentionBias: true, tiedEmbeddings: json["tie_word_embeddings"] as? Bool ?? true)
        default:
            throw ModelError.unsupportedArchitecture(modelType)
        }
    }
}
