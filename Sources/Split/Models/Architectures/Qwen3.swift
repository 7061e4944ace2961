/// Qwen3: Qwen2's layout without the QKV bias, plus an RMSNorm of each query and key head
/// (`attn_q_norm`/`attn_k_norm`, `self_attn.q_norm`/`k_norm`) before RoPE.
enum Qwen3 {
    static func configure(_ c: inout ModelConfiguration) {
        c.queryKeyNorm = .perHead
    }
}

/// Qwen3 names: Llama's, plus the per-head query and key norms.
public struct Qwen3WeightNaming: LlamaDerivedWeightNaming {
    public let base: LlamaWeightNaming

    public init(family: CheckpointFamily, hasQKVBias: Bool = false) {
        base = LlamaWeightNaming(family: family, hasQKVBias: hasQKVBias)
    }


    public func block(_ layer: Int) -> BlockTensorNames {
        var names = base.block(layer)
        switch base.family {
        case .gguf:
            names.queryNorm = ("blk.\(layer).attn_q_norm.weight", nil)
            names.keyNorm = ("blk.\(layer).attn_k_norm.weight", nil)
        case .huggingFace:
            names.queryNorm = ("model.layers.\(layer).self_attn.q_norm.weight", nil)
            names.keyNorm = ("model.layers.\(layer).self_attn.k_norm.weight", nil)
        }
        return names
    }
}
