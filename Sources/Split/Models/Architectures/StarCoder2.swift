/// StarCoder2: LayerNorm with bias, biases on every projection (`use_bias`), a plain GELU
/// (tanh) MLP `c_fc` → `c_proj`, NeoX RoPE, and a sliding window on every layer in HF configs
/// (llama.cpp's GGUF files carry none).
enum StarCoder2 {
    static func configure(_ c: inout ModelConfiguration) {
        c.normKind = .layer
        c.feedForward = .gelu
    }

    static func configure(_ c: inout ModelConfiguration, huggingFace config: HuggingFaceConfig) throws {
        configure(&c)
        c.normEpsilon = config.float("norm_epsilon") ?? 1e-5
        c.attentionBias = config.bool("use_bias") ?? true
        c.slidingWindow = config.int("sliding_window")
        c.tiedEmbeddings = config.bool("tie_word_embeddings") ?? true
    }
}

/// StarCoder2 names: Llama's attention with biases, norms with biases, a two-matrix MLP.
public struct StarCoder2WeightNaming: LlamaDerivedWeightNaming {
    public let family: CheckpointFamily
    public let hasBiases: Bool

    public init(family: CheckpointFamily, hasBiases: Bool = true) {
        self.family = family
        self.hasBiases = hasBiases
    }

    public var base: LlamaWeightNaming { LlamaWeightNaming(family: family, hasQKVBias: hasBiases) }
    public var finalNorm: (weight: String, bias: String?) {
        family == .gguf ? ("output_norm.weight", "output_norm.bias") : ("model.norm.weight", "model.norm.bias")
    }

    public func block(_ layer: Int) -> BlockTensorNames {
        var names = base.block(layer)
        names.gate = nil
        func bias(_ weight: String) -> String? { hasBiases ? String(weight.dropLast("weight".count)) + "bias" : nil }
        names.attentionNorm = names.attentionNorm.map { ($0.weight, String($0.weight.dropLast("weight".count)) + "bias") }
        names.feedForwardNorm = names.feedForwardNorm.map { ($0.weight, String($0.weight.dropLast("weight".count)) + "bias") }
        if family == .huggingFace {
            names.up = "model.layers.\(layer).mlp.c_fc.weight"
            names.down = "model.layers.\(layer).mlp.c_proj.weight"
        }
        names.outputBias = bias(names.output)
        names.upBias = bias(names.up)
        names.downBias = bias(names.down)
        return names
    }
}
