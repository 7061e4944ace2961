/// OLMo 2: no norm before attention or the MLP; instead each sub-layer's output is normed
/// before the residual add, and queries and keys get one RMSNorm over all their heads
/// together (full-width weights) before RoPE.
enum OLMo2 {
    static func configure(_ c: inout ModelConfiguration) {
        c.normPlacement = .post
        c.queryKeyNorm = .whole
    }
}

/// OLMo 2 names: post-attention and post-feed-forward norms, full-width query/key norms.
public struct OLMo2WeightNaming: LlamaDerivedWeightNaming {
    public let family: CheckpointFamily

    public init(family: CheckpointFamily) { self.family = family }

    public var base: LlamaWeightNaming { LlamaWeightNaming(family: family, hasQKVBias: false) }

    public func block(_ layer: Int) -> BlockTensorNames {
        var names = base.block(layer)
        names.attentionNorm = nil
        names.feedForwardNorm = nil
        switch family {
        case .gguf:
            let p = "blk.\(layer)."
            names.queryNorm = (p + "attn_q_norm.weight", nil)
            names.keyNorm = (p + "attn_k_norm.weight", nil)
            names.postAttentionNorm = (p + "post_attention_norm.weight", nil)
            names.postFeedForwardNorm = (p + "post_ffw_norm.weight", nil)
        case .huggingFace:
            let p = "model.layers.\(layer)."
            names.queryNorm = (p + "self_attn.q_norm.weight", nil)
            names.keyNorm = (p + "self_attn.k_norm.weight", nil)
            names.postAttentionNorm = (p + "post_attention_layernorm.weight", nil)
            names.postFeedForwardNorm = (p + "post_feedforward_layernorm.weight", nil)
        }
        return names
    }
}
