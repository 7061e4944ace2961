import Foundation
import Testing
@testable import Split

/// config.json files shaped like the ones people download (Llama 3.2, Gemma 3, Qwen2.5-Coder,
/// Qwen3, Phi-3, StarCoder2) read into the settings their models compute with, or are refused
/// by name where Split cannot compute them.
@Suite("config.json of downloadable models")
struct HuggingFaceConfigTests {
    func configuration(_ json: String) throws -> ModelConfiguration {
        try ModelConfiguration(huggingFaceConfig: Data(json.utf8))
    }

    @Test("Llama 3.2's llama3 rope_scaling becomes per-frequency factors: 1 for short wavelengths, 32 for long")
    func llama32() throws {
        let c = try configuration("""
            {"architectures":["LlamaForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"head_dim":64,
             "hidden_act":"silu","hidden_size":2048,"intermediate_size":8192,"max_position_embeddings":131072,
             "mlp_bias":false,"model_type":"llama","num_attention_heads":32,"num_hidden_layers":16,"num_key_value_heads":8,
             "pretraining_tp":1,"rms_norm_eps":1e-05,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,
             "low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},"rope_theta":500000.0,
             "tie_word_embeddings":true,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":128256}
            """)
        guard case .frequencyFactors(let factors) = c.ropeScaling else {
            Issue.record("expected frequency factors, got \(c.ropeScaling)")
            return
        }
        #expect(factors.count == 32)
        #expect(factors.first == 1 && factors.last == 32)
        #expect(c.slidingWindow == nil)
    }

    @Test("Gemma 3 1B: 512-position windows on five layers of six, local RoPE base 10 000, √d embedding scale")
    func gemma3() throws {
        let c = try configuration("""
            {"architectures":["Gemma3ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"attn_logit_softcapping":null,
             "cache_implementation":"hybrid","final_logit_softcapping":null,"head_dim":256,"hidden_activation":"gelu_pytorch_tanh",
             "hidden_size":1152,"intermediate_size":6912,"max_position_embeddings":32768,"model_type":"gemma3_text",
             "num_attention_heads":4,"num_hidden_layers":26,"num_key_value_heads":1,"pad_token_id":0,"query_pre_attn_scalar":256,
             "rms_norm_eps":1e-06,"rope_local_base_freq":10000,"rope_scaling":null,"rope_theta":1000000,"sliding_window":512,
             "sliding_window_pattern":6,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":262144}
            """)
        #expect(c.architecture == .gemma3 && c.feedForward == .gatedGELU && c.normPlacement == .preAndPost)
        #expect(c.slidingWindow == 512 && c.slidingWindowPattern == 6 && c.slidingRopeTheta == 10000 && c.ropeTheta == 1_000_000)
        #expect(c.slidingWindow(layer: 4) == 512 && c.slidingWindow(layer: 5) == nil)
        #expect(c.embeddingScale == Float(1152).squareRoot() && c.attentionScale == 1 / 16)
        #expect(c.attentionSoftcap == nil && c.finalLogitSoftcap == nil)
    }

    @Test("Qwen2.5-Coder's YaRN under the older type key; its sliding_window is off without use_sliding_window")
    func qwen25Yarn() throws {
        let c = try configuration("""
            {"architectures":["Qwen2ForCausalLM"],"hidden_act":"silu","hidden_size":3584,"intermediate_size":18944,
             "max_position_embeddings":32768,"max_window_layers":28,"model_type":"qwen2","num_attention_heads":28,
             "num_hidden_layers":28,"num_key_value_heads":4,"rms_norm_eps":1e-06,"rope_theta":1000000.0,
             "sliding_window":131072,"tie_word_embeddings":false,"use_sliding_window":false,"vocab_size":152064,
             "rope_scaling":{"factor":4.0,"original_max_position_embeddings":32768,"type":"yarn"}}
            """)
        #expect(c.ropeScaling == .yarn(.init(factor: 4, originalContextLength: 32768)))
        #expect(c.slidingWindow == nil)
    }

    @Test("Qwen3 0.6B: per-head q/k norms, no bias, no window")
    func qwen3() throws {
        let c = try configuration("""
            {"architectures":["Qwen3ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,"head_dim":128,"hidden_act":"silu",
             "hidden_size":1024,"intermediate_size":3072,"max_position_embeddings":40960,"max_window_layers":28,"model_type":"qwen3",
             "num_attention_heads":16,"num_hidden_layers":28,"num_key_value_heads":8,"rms_norm_eps":1e-06,"rope_scaling":null,
             "rope_theta":1000000,"sliding_window":null,"tie_word_embeddings":true,"use_sliding_window":false,"vocab_size":151936}
            """)
        #expect(c.queryKeyNorm == .perHead && !c.attentionBias && c.slidingWindow == nil && c.headDimension == 128)
    }

    @Test("Phi-3 mini 4k slides every layer over 2047 positions; the 128k model runs LongRoPE within its original 4k context")
    func phi3() throws {
        let base = """
            "architectures":["Phi3ForCausalLM"],"attention_dropout":0.0,"embd_pdrop":0.0,"hidden_act":"silu","hidden_size":3072,
            "intermediate_size":8192,"model_type":"phi3","num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":32,
            "resid_pdrop":0.0,"rms_norm_eps":1e-05,"rope_theta":10000.0,"tie_word_embeddings":false,"vocab_size":32064,
            "pad_token_id":32000
            """
        let mini = try configuration("""
            {\(base),"max_position_embeddings":4096,"original_max_position_embeddings":4096,"rope_scaling":null,"sliding_window":2047}
            """)
        #expect(mini.slidingWindow == 2047 && mini.slidingWindow(layer: 31) == 2047)
        let factors = "[" + Array(repeating: "1.05", count: 48).joined(separator: ",") + "]"
        let long = try configuration("""
            {\(base),"max_position_embeddings":131072,"original_max_position_embeddings":4096,"sliding_window":262144,
             "rope_scaling":{"type":"longrope","long_factor":\(factors),"short_factor":\(factors)}}
            """)
        guard case .longRoPE(let scaling) = long.ropeScaling else {
            Issue.record("expected LongRoPE, got \(long.ropeScaling)")
            return
        }
        // sqrt(1 + ln(131072 / 4096) / ln 4096)
        #expect(abs(scaling.attentionFactor - 1.1902381) < 1e-6)
        #expect(long.maxPositions == 4096 && scaling.shortFactors.count == 48)
        // Factors that do not cover the rotated dimensions are refused by name.
        let error = #expect(throws: ModelError.self) {
            _ = try configuration("""
                {\(base),"max_position_embeddings":131072,"original_max_position_embeddings":4096,"sliding_window":262144,
                 "rope_scaling":{"type":"longrope","long_factor":[1.0,1.0],"short_factor":[1.0,1.0]}}
                """)
        }
        #expect(error?.description.contains("longrope") == true)
    }

    @Test("StarCoder2 3B: LayerNorm with biases, GELU MLP, a 4096-position window on every layer")
    func starcoder2() throws {
        let c = try configuration("""
            {"architectures":["Starcoder2ForCausalLM"],"attention_dropout":0.1,"embedding_dropout":0.1,"hidden_act":"gelu_pytorch_tanh",
             "hidden_size":3072,"intermediate_size":12288,"max_position_embeddings":16384,"model_type":"starcoder2","norm_epsilon":1e-05,
             "num_attention_heads":24,"num_hidden_layers":30,"num_key_value_heads":2,"residual_dropout":0.1,
             "rope_theta":999999.4420358813,"sliding_window":4096,"use_bias":true,"vocab_size":49152}
            """)
        #expect(c.normKind == .layer && c.feedForward == .gelu && c.attentionBias && c.slidingWindow == 4096)
        #expect(c.tiedEmbeddings)
    }
}
