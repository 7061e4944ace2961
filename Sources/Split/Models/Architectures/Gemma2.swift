import Foundation

/// Gemma 2: embeddings scaled by √d, a norm before and after each sub-layer, a GELU-gated
/// MLP, (1 + w) RMSNorm (GGUF files hold 1 + w already: `convert_hf_to_gguf.py` adds the 1),
/// every other layer a sliding window (even layers), and soft-capped attention scores and logits.
enum Gemma2 {
    static let ggufKeys: Set<String> = ["attention.sliding_window", "attention.sliding_window_pattern", "rope.freq_base_swa",
                                        "attn_logit_softcapping", "final_logit_softcapping"]

    /// What Gemma 2 and 3 share.
    static func configureCommon(_ c: inout ModelConfiguration) {
        c.feedForward = .gatedGELU
        c.normPlacement = .preAndPost
        c.embeddingScale = Float(c.hiddenSize).squareRoot()
    }

    /// llama.cpp's attention scale for Gemma GGUF files: 1/√(d / heads) for the 27B model
    /// (`query_pre_attn_scalar` is d / heads there), else 1/√headDimension.
    static func ggufAttentionScale(_ c: ModelConfiguration, is27B: Bool) -> Float? {
        is27B ? 1 / (Float(c.hiddenSize / c.headCount)).squareRoot() : nil
    }

    /// The sliding-window layer pattern from `{arch}.attention.sliding_window_pattern` (a count
    /// or one flag per layer), else `default`.
    /// - Throws: `ModelError.unsupportedFeature` for per-layer flags no count reproduces.
    static func ggufSlidingPattern(_ c: ModelConfiguration, _ file: GGUFFile, default n: Int) throws -> Int {
        let key = "\(c.architecture.rawValue).attention.sliding_window_pattern"
        if let pattern = file.int(key) { return pattern }
        guard case .array(_, let values)? = file.value(forKey: key) else { return n }
        let flags = values.map { $0.intValue.map { $0 != 0 } ?? ($0 == .bool(true)) }
        var probe = c
        for candidate in 0...c.layerCount {
            probe.slidingWindowPattern = candidate
            if flags == (0..<c.layerCount).map({ probe.slidingWindow(layer: $0) != nil }) { return candidate }
        }
        throw ModelError.unsupportedFeature(what: "GGUF metadata '\(key)'",
                                            reason: "per-layer sliding flags without a repeating pattern are not implemented")
    }

    static func configure(_ c: inout ModelConfiguration, gguf file: GGUFFile) throws {
        configureCommon(&c)
        // llama.cpp's defaults when the keys are absent.
        c.slidingWindow = c.slidingWindow ?? 4096
        c.slidingWindowPattern = try ggufSlidingPattern(c, file, default: 2)
        // Gemma 2's sliding layers keep the RoPE scaling (llama.cpp: freq_scale_swa = freq_scale).
        if let base = file.float("gemma2.rope.freq_base_swa"), base != c.ropeTheta {
            guard c.ropeScaling == .none else {
                throw ModelError.unsupportedFeature(what: "GGUF metadata 'gemma2.rope.freq_base_swa' with RoPE scaling",
                                                    reason: "a scaled sliding-window RoPE with its own base is not implemented")
            }
            c.slidingRopeTheta = base
        }
        c.attentionSoftcap = file.float("gemma2.attn_logit_softcapping") ?? 50
        c.finalLogitSoftcap = file.float("gemma2.final_logit_softcapping") ?? 30
        c.attentionScale = ggufAttentionScale(c, is27B: c.layerCount == 46)
    }

    static func configure(_ c: inout ModelConfiguration, huggingFace config: HuggingFaceConfig) throws {
        configureCommon(&c)
        c.slidingWindowPattern = 2
        try configureHuggingFaceGemma(&c, config)
    }

    /// The `config.json` settings Gemma 2 and 3 share.
    static func configureHuggingFaceGemma(_ c: inout ModelConfiguration, _ config: HuggingFaceConfig) throws {
        c.slidingWindow = config.int("sliding_window")
        c.attentionSoftcap = config.float("attn_logit_softcapping")
        c.finalLogitSoftcap = config.float("final_logit_softcapping")
        if let scalar = config.float("query_pre_attn_scalar") { c.attentionScale = 1 / scalar.squareRoot() }
        c.tiedEmbeddings = config.bool("tie_word_embeddings") ?? true
    }
}

/// Gemma 2 and 3 names: a norm before and after attention and the MLP; Gemma 3 adds per-head
/// query and key norms.
public struct GemmaWeightNaming: LlamaDerivedWeightNaming {
    public let family: CheckpointFamily
    public let hasQueryKeyNorm: Bool

    public init(family: CheckpointFamily, hasQueryKeyNorm: Bool) {
        self.family = family
        self.hasQueryKeyNorm = hasQueryKeyNorm
    }

    public var base: LlamaWeightNaming { LlamaWeightNaming(family: family, hasQKVBias: false) }
    public var normWeightOffset: Float { family == .huggingFace ? 1 : 0 }

    public func block(_ layer: Int) -> BlockTensorNames {
        var names = base.block(layer)
        switch family {
        case .gguf:
            let p = "blk.\(layer)."
            names.postAttentionNorm = (p + "post_attention_norm.weight", nil)
            names.feedForwardNorm = (p + "ffn_norm.weight", nil)
            names.postFeedForwardNorm = (p + "post_ffw_norm.weight", nil)
            if hasQueryKeyNorm {
                names.queryNorm = (p + "attn_q_norm.weight", nil)
                names.keyNorm = (p + "attn_k_norm.weight", nil)
            }
        case .huggingFace:
            let p = "model.layers.\(layer)."
            names.postAttentionNorm = (p + "post_attention_layernorm.weight", nil)
            names.feedForwardNorm = (p + "pre_feedforward_layernorm.weight", nil)
            names.postFeedForwardNorm = (p + "post_feedforward_layernorm.weight", nil)
            if hasQueryKeyNorm {
                names.queryNorm = (p + "self_attn.q_norm.weight", nil)
                names.keyNorm = (p + "self_attn.k_norm.weight", nil)
            }
        }
        return names
    }
}
