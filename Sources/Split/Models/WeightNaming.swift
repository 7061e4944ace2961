/// Where a model's tensors live in a file: one mapping per architecture and file family.
///
/// Every name the runtime looks up goes through one of these, so supporting a new checkpoint
/// layout means adding one conformance, not editing the model.
public protocol WeightNaming: Sendable {
    /// Token embedding `[vocab × hidden]`.
    var tokenEmbedding: String { get }
    /// Learned absolute position embedding `[positions × hidden]` (GPT-2), nil for RoPE models.
    var positionEmbedding: String? { get }
    /// Final norm weight and bias (bias nil for RMSNorm).
    var finalNorm: (weight: String, bias: String?) { get }
    /// LM head `[vocab × hidden]`; falls back to the token embedding when absent (tied).
    var outputHead: String { get }
    /// The tensors of layer `layer`.
    func block(_ layer: Int) -> BlockTensorNames
    /// Whether linear weights are stored `[in, out]` (GPT-2 Conv1D in HF checkpoints) and so
    /// must be transposed at load time.
    var linearWeightsTransposed: Bool { get }
    /// Added to every stored norm weight at load time (HF Gemma keeps w for its (1 + w) RMSNorm;
    /// its GGUF files hold 1 + w already).
    var normWeightOffset: Float { get }
}

extension WeightNaming {
    public var normWeightOffset: Float { 0 }

    /// Every tensor name a whole model of `configuration` may read. A file holding any other
    /// tensor holds something Split would not compute with (a bias, a norm, a scaling table),
    /// so `ModelFile` refuses it by name instead of running without it.
    public func knownTensorNames(_ configuration: ModelConfiguration) -> Set<String> {
        var names: Set<String> = [tokenEmbedding, finalNorm.weight, outputHead]
        if let positionEmbedding { names.insert(positionEmbedding) }
        if let bias = finalNorm.bias { names.insert(bias) }
        if configuration.isPolicy {
            names.formUnion([inputProjection.weight, inputProjection.bias, actionHead.weight, actionHead.bias])
        }
        for layer in 0..<configuration.layerCount {
            let n = block(layer)
            let optional: [String?] = [
                n.attentionNorm?.weight, n.attentionNorm?.bias, n.query, n.key, n.value, n.fusedQKV,
                n.queryBias, n.keyBias, n.valueBias, n.fusedQKVBias, n.queryNorm?.weight, n.keyNorm?.weight,
                n.output, n.outputBias, n.postAttentionNorm?.weight, n.postAttentionNorm?.bias,
                n.feedForwardNorm?.weight, n.feedForwardNorm?.bias, n.postFeedForwardNorm?.weight,
                n.postFeedForwardNorm?.bias, n.gate, n.up, n.upBias, n.down, n.downBias,
            ]
            names.formUnion(optional.compactMap { $0 })
        }
        return names
    }
}

extension WeightNaming {
    /// Robot policies: the input projection `[hidden × inputDimensions]` and its bias.
    public var inputProjection: (weight: String, bias: String) { ("input_proj.weight", "input_proj.bias") }
    /// Robot policies: the action head `[horizon·actionDimensions × hidden]` and its bias.
    public var actionHead: (weight: String, bias: String) { ("action_head.weight", "action_head.bias") }
}

/// Names of one layer's tensors. Attention is either separate Q/K/V or one fused QKV matrix.
/// Norms are optional where a layout has none (OLMo 2 has no pre-norms).
public struct BlockTensorNames: Sendable {
    public var attentionNorm: (weight: String, bias: String?)?
    public var query: String?
    public var key: String?
    public var value: String?
    public var fusedQKV: String?
    public var queryBias: String?
    public var keyBias: String?
    public var valueBias: String?
    public var fusedQKVBias: String?
    /// RMSNorm weights of queries and keys (per head or full width, as the configuration says).
    public var queryNorm: (weight: String, bias: String?)?
    public var keyNorm: (weight: String, bias: String?)?
    public var output: String
    public var outputBias: String?
    public var postAttentionNorm: (weight: String, bias: String?)?
    public var feedForwardNorm: (weight: String, bias: String?)?
    public var postFeedForwardNorm: (weight: String, bias: String?)?
    public var gate: String?
    /// With `fusedGateUp`, the `[2·ff × d]` matrix holding the gate's rows then the up rows.
    public var up: String
    public var fusedGateUp = false
    public var upBias: String?
    public var down: String
    public var downBias: String?
}

/// The file family a checkpoint came from.
public enum CheckpointFamily: String, Sendable {
    case gguf, huggingFace
}

/// Llama-family names (Llama, SmolLM, TinyLlama, Qwen2 with its QKV bias).
public struct LlamaWeightNaming: WeightNaming {
    public let family: CheckpointFamily
    public let hasQKVBias: Bool

    public init(family: CheckpointFamily, hasQKVBias: Bool) {
        self.family = family
        self.hasQKVBias = hasQKVBias
    }

    public var tokenEmbedding: String { family == .gguf ? "token_embd.weight" : "model.embed_tokens.weight" }
    public var positionEmbedding: String? { nil }
    public var finalNorm: (weight: String, bias: String?) {
        (family == .gguf ? "output_norm.weight" : "model.norm.weight", nil)
    }
    public var outputHead: String { family == .gguf ? "output.weight" : "lm_head.weight" }
    public var linearWeightsTransposed: Bool { false }

    public func block(_ layer: Int) -> BlockTensorNames {
        switch family {
        case .gguf:
            let p = "blk.\(layer)."
            return BlockTensorNames(
                attentionNorm: (p + "attn_norm.weight", nil),
                query: p + "attn_q.weight", key: p + "attn_k.weight", value: p + "attn_v.weight",
                queryBias: hasQKVBias ? p + "attn_q.bias" : nil,
                keyBias: hasQKVBias ? p + "attn_k.bias" : nil,
                valueBias: hasQKVBias ? p + "attn_v.bias" : nil,
                output: p + "attn_output.weight",
                feedForwardNorm: (p + "ffn_norm.weight", nil),
                gate: p + "ffn_gate.weight", up: p + "ffn_up.weight", down: p + "ffn_down.weight")
        case .huggingFace:
            let p = "model.layers.\(layer)."
            return BlockTensorNames(
                attentionNorm: (p + "input_layernorm.weight", nil),
                query: p + "self_attn.q_proj.weight", key: p + "self_attn.k_proj.weight",
                value: p + "self_attn.v_proj.weight",
                queryBias: hasQKVBias ? p + "self_attn.q_proj.bias" : nil,
                keyBias: hasQKVBias ? p + "self_attn.k_proj.bias" : nil,
                valueBias: hasQKVBias ? p + "self_attn.v_proj.bias" : nil,
                output: p + "self_attn.o_proj.weight",
                feedForwardNorm: (p + "post_attention_layernorm.weight", nil),
                gate: p + "mlp.gate_proj.weight", up: p + "mlp.up_proj.weight", down: p + "mlp.down_proj.weight")
        }
    }
}

/// GPT-2 names. HF checkpoints come with or without the `transformer.` prefix.
public struct GPT2WeightNaming: WeightNaming {
    public let family: CheckpointFamily
    /// "transformer." for checkpoints saved from `GPT2LMHeadModel`, "" for the original ones.
    public let prefix: String

    public init(family: CheckpointFamily, prefix: String = "") {
        self.family = family
        self.prefix = prefix
    }

    public var tokenEmbedding: String { family == .gguf ? "token_embd.weight" : prefix + "wte.weight" }
    public var positionEmbedding: String? { family == .gguf ? "position_embd.weight" : prefix + "wpe.weight" }
    public var finalNorm: (weight: String, bias: String?) {
        family == .gguf ? ("output_norm.weight", "output_norm.bias") : (prefix + "ln_f.weight", prefix + "ln_f.bias")
    }
    public var outputHead: String { family == .gguf ? "output.weight" : "lm_head.weight" }
    public var linearWeightsTransposed: Bool { family == .huggingFace }

    public func block(_ layer: Int) -> BlockTensorNames {
        switch family {
        case .gguf:
            let p = "blk.\(layer)."
            return BlockTensorNames(
                attentionNorm: (p + "attn_norm.weight", p + "attn_norm.bias"),
                fusedQKV: p + "attn_qkv.weight", fusedQKVBias: p + "attn_qkv.bias",
                output: p + "attn_output.weight", outputBias: p + "attn_output.bias",
                feedForwardNorm: (p + "ffn_norm.weight", p + "ffn_norm.bias"),
                up: p + "ffn_up.weight", upBias: p + "ffn_up.bias",
                down: p + "ffn_down.weight", downBias: p + "ffn_down.bias")
        case .huggingFace:
            let p = prefix + "h.\(layer)."
            return BlockTensorNames(
                attentionNorm: (p + "ln_1.weight", p + "ln_1.bias"),
                fusedQKV: p + "attn.c_attn.weight", fusedQKVBias: p + "attn.c_attn.bias",
                output: p + "attn.c_proj.weight", outputBias: p + "attn.c_proj.bias",
                feedForwardNorm: (p + "ln_2.weight", p + "ln_2.bias"),
                up: p + "mlp.c_fc.weight", upBias: p + "mlp.c_fc.bias",
                down: p + "mlp.c_proj.weight", downBias: p + "mlp.c_proj.bias")
        }
    }
}

/// An architecture whose tensors are named as Llama's but for some of a block's (Qwen3's q/k
/// norms, Gemma's extra norms, Phi-3's fused projections …): embedding, final norm and head come
/// from `base`, and the architecture writes only its `block`.
public protocol LlamaDerivedWeightNaming: WeightNaming {
    /// Llama's names for the same checkpoint family.
    var base: LlamaWeightNaming { get }
}

extension LlamaDerivedWeightNaming {
    public var tokenEmbedding: String { base.tokenEmbedding }
    public var positionEmbedding: String? { nil }
    public var finalNorm: (weight: String, bias: String?) { base.finalNorm }
    public var outputHead: String { base.outputHead }
    public var linearWeightsTransposed: Bool { false }
}
