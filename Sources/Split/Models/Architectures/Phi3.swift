/// Phi-3: Llama's computation with Q, K and V in one matrix (`attn_qkv`, `qkv_proj`) and the
/// MLP's gate and up projections in one (`ffn_up`, `gate_up_proj`, gate rows first); every
/// layer slides when a window is set (a GGUF window of 0 means none: Phi-4). Phi-4-mini rotates
/// only part of each head (`partial_rotary_factor`; GGUF `rope.dimension_count`).
enum Phi3 {
    static let ggufKeys: Set<String> = ["attention.sliding_window"]

    static func configure(_ c: inout ModelConfiguration) {}

    static func configure(_ c: inout ModelConfiguration, huggingFace config: HuggingFaceConfig) throws {
        c.slidingWindow = config.int("sliding_window")
        // HF Phi3RotaryEmbedding: int(head_dim · partial_rotary_factor) leading dimensions rotate.
        c.ropeDimensions = Int(Double(c.headDimension) * config.partialRotaryFactor)
    }
}

/// Phi-3 names: fused QKV and fused gate/up.
public struct Phi3WeightNaming: LlamaDerivedWeightNaming {
    public let family: CheckpointFamily

    public init(family: CheckpointFamily) { self.family = family }

    public var base: LlamaWeightNaming { LlamaWeightNaming(family: family, hasQKVBias: false) }

    public func block(_ layer: Int) -> BlockTensorNames {
        var names = base.block(layer)
        names.query = nil
        names.key = nil
        names.value = nil
        names.gate = nil
        names.fusedGateUp = true
        switch family {
        case .gguf:
            names.fusedQKV = "blk.\(layer).attn_qkv.weight"
        case .huggingFace:
            names.fusedQKV = "model.layers.\(layer).self_attn.qkv_proj.weight"
            names.up = "model.layers.\(layer).mlp.gate_up_proj.weight"
        }
        return names
    }
}
