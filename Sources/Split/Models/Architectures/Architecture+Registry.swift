import Foundation

/// The one place that lists what each architecture reads beyond the common transformer
/// settings, and how its tensors are named. Each non-Llama architecture's details live in its
/// own file (`Qwen3.swift`, `Gemma2.swift`, …).
extension ModelConfiguration.Architecture {
    /// `{arch}.` GGUF keys this architecture reads beyond `ModelConfiguration.commonGGUFKeys`.
    var ggufKeys: Set<String> {
        switch self {
        case .llama: return ["attention.sliding_window"]
        case .qwen2, .gpt2, .qwen3, .starcoder2, .olmo2: return []
        case .gemma2: return Gemma2.ggufKeys
        case .gemma3: return Gemma3.ggufKeys
        case .phi3: return Phi3.ggufKeys
        }
    }

    /// `config.json` settings from `HuggingFaceConfig.computationSettings` this architecture reads.
    var huggingFaceKeys: Set<String> {
        switch self {
        // Mistral's sliding window; Qwen's `sliding_window` only counts with `use_sliding_window`.
        case .llama, .qwen2, .qwen3: return ["sliding_window"]
        case .gpt2, .olmo2: return []
        case .gemma2, .gemma3: return ["attn_logit_softcapping", "final_logit_softcapping", "query_pre_attn_scalar", "sliding_window"]
        case .phi3, .starcoder2: return ["sliding_window"]
        }
    }

    /// Settings from GGUF metadata that the common reading does not cover.
    /// - Throws: `ModelError` naming a value Split cannot compute with.
    func configure(_ c: inout ModelConfiguration, gguf file: GGUFFile) throws {
        switch self {
        case .llama, .qwen2, .gpt2: break
        case .qwen3: Qwen3.configure(&c)
        case .gemma2: try Gemma2.configure(&c, gguf: file)
        case .gemma3: try Gemma3.configure(&c, gguf: file)
        case .phi3: Phi3.configure(&c)
        case .starcoder2: StarCoder2.configure(&c)
        case .olmo2: OLMo2.configure(&c)
        }
    }

    /// Settings from `config.json` that the common reading does not cover.
    /// - Throws: `ModelError` naming a value Split cannot compute with.
    func configure(_ c: inout ModelConfiguration, huggingFace config: HuggingFaceConfig) throws {
        switch self {
        case .llama:
            // Mistral: every layer slides.
            c.slidingWindow = config.int("sliding_window")
        case .qwen2, .gpt2:
            break
        case .qwen3:
            Qwen3.configure(&c)
            c.attentionBias = config.bool("attention_bias") ?? false
        case .gemma2: try Gemma2.configure(&c, huggingFace: config)
        case .gemma3: try Gemma3.configure(&c, huggingFace: config)
        case .phi3: try Phi3.configure(&c, huggingFace: config)
        case .starcoder2: try StarCoder2.configure(&c, huggingFace: config)
        case .olmo2: OLMo2.configure(&c)
        }
    }

    /// How this architecture's tensors are named in `family`'s files (`store` tells GPT-2's
    /// HF prefixes apart).
    func naming(family: CheckpointFamily, configuration c: ModelConfiguration, store: WeightStore) -> WeightNaming {
        switch self {
        case .llama, .qwen2:
            return LlamaWeightNaming(family: family, hasQKVBias: c.attentionBias)
        case .gpt2:
            let prefix = family == .huggingFace && store.contains("transformer.wte.weight") ? "transformer." : ""
            return GPT2WeightNaming(family: family, prefix: prefix)
        case .qwen3: return Qwen3WeightNaming(family: family, hasQKVBias: c.attentionBias)
        case .gemma2, .gemma3: return GemmaWeightNaming(family: family, hasQueryKeyNorm: self == .gemma3)
        case .phi3: return Phi3WeightNaming(family: family)
        case .starcoder2: return StarCoder2WeightNaming(family: family, hasBiases: c.attentionBias)
        case .olmo2: return OLMo2WeightNaming(family: family)
        }
    }
}
