import Foundation

/// Gemma 3 (text): Gemma 2's layout without soft-capping by default, plus per-head query/key
/// norms; five sliding-window layers then one global (pattern 6), the sliding ones with their
/// own RoPE base (10 000) and no RoPE scaling, the global ones with `rope_theta` and the scaling.
enum Gemma3 {
    static let ggufKeys: Set<String> = ["attention.sliding_window"]

    static func configure(_ c: inout ModelConfiguration, gguf file: GGUFFile) throws {
        Gemma2.configureCommon(&c)
        c.queryKeyNorm = .perHead
        c.slidingWindowPattern = 6
        // llama.cpp: rope_freq_base_train_swa = 10000, rope_freq_scale_train_swa = 1.
        c.slidingRopeTheta = 10000
        guard c.slidingWindow != nil else { throw ModelError.missingMetadata("gemma3.attention.sliding_window") }
        c.attentionScale = Gemma2.ggufAttentionScale(c, is27B: c.layerCount == 62)
    }

    static func configure(_ c: inout ModelConfiguration, huggingFace config: HuggingFaceConfig) throws {
        Gemma2.configureCommon(&c)
        c.queryKeyNorm = .perHead
        c.slidingWindowPattern = config.int("sliding_window_pattern") ?? 6
        try Gemma2.configureHuggingFaceGemma(&c, config)
        let parameters = config.json["rope_parameters"] as? [String: Any]
        if let global = parameters?["full_attention"] as? [String: Any] {
            // transformers ≥ 5: one RoPE dictionary per layer type.
            let local = parameters?["sliding_attention"] as? [String: Any]
            c.ropeTheta = (global["rope_theta"] as? NSNumber)?.floatValue ?? c.ropeTheta
            c.ropeScaling = try config.ropeScaling(global, theta: c.ropeTheta, dimensions: c.ropeDimensions)
            let localScaling = try config.ropeScaling(local, theta: c.ropeTheta, dimensions: c.ropeDimensions)
            guard localScaling == .none else {
                throw ModelError.unsupportedFeature(what: "config.json rope_parameters.sliding_attention",
                                                    reason: "RoPE scaling on Gemma 3's sliding-window layers is not implemented")
            }
            c.slidingRopeTheta = (local?["rope_theta"] as? NSNumber)?.floatValue ?? 10000
        } else {
            c.slidingRopeTheta = config.float("rope_local_base_freq") ?? 10000
        }
    }
}
