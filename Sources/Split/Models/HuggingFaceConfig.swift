import Foundation

/// A Hugging Face `config.json`, read with the checks Split needs: typed accessors, RoPE
/// scaling with either key spelling, and the refusal of settings that change the computation
/// but that the architecture being built does not implement.
struct HuggingFaceConfig {
    let json: [String: Any]

    func int(_ key: String) -> Int? { (json[key] as? NSNumber)?.intValue }
    func float(_ key: String) -> Float? { (json[key] as? NSNumber)?.floatValue }
    func bool(_ key: String) -> Bool? { json[key] as? Bool }
    func string(_ key: String) -> String? { json[key] as? String }

    /// - Throws: `ModelError.missingMetadata` naming the key.
    func required(_ key: String) throws -> Int {
        guard let value = int(key) else { throw ModelError.missingMetadata("config.json: \(key)") }
        return value
    }

    /// RoPE settings: `rope_parameters` (transformers ≥ 5) or `rope_scaling` (transformers ≤ 4),
    /// whichever asks for a scaling (a config may carry both, one of them the default).
    /// - Throws: `ModelError.unsupportedFeature` when both ask for different scalings.
    func ropeParameters() throws -> [String: Any]? {
        let parameters = json["rope_parameters"] as? [String: Any], scaling = json["rope_scaling"] as? [String: Any]
        func type(_ p: [String: Any]?) -> String { p?["rope_type"] as? String ?? p?["type"] as? String ?? "default" }
        switch (type(parameters), type(scaling)) {
        case (_, "default"): return parameters ?? scaling
        case ("default", _): return scaling
        case let (a, b):
            let sameFactor = (parameters?["factor"] as? NSNumber) == (scaling?["factor"] as? NSNumber)
            guard a == b, sameFactor else {
                throw ModelError.unsupportedFeature(what: "config.json rope_parameters (\(a)) and rope_scaling (\(b))",
                                                    reason: "they ask for different RoPE scalings")
            }
            return parameters
        }
    }

    /// The RoPE base, at the top level or inside `rope_parameters`.
    var ropeTheta: Float? {
        float("rope_theta") ?? ((json["rope_parameters"] as? [String: Any])?["rope_theta"] as? NSNumber)?.floatValue
    }

    /// The scaling a RoPE parameter dictionary asks for; its type is under `rope_type` or, in
    /// older configs, `type`.
    /// - Throws: `ModelError.unsupportedFeature` naming a type or parameter Split does not compute.
    func ropeScaling(_ parameters: [String: Any]?, theta: Float, dimensions: Int) throws -> RopeScaling {
        guard let parameters else { return .none }
        let type = parameters["rope_type"] as? String ?? parameters["type"] as? String ?? "default"
        func number(_ key: String) -> Double? { (parameters[key] as? NSNumber)?.doubleValue }
        // transformers ≥ 5 keeps the rotated fraction of each head here too.
        if let fraction = number("partial_rotary_factor"), fraction != 1 {
            throw ModelError.unsupportedFeature(what: "config.json rope_parameters.partial_rotary_factor: \(fraction)",
                                                reason: "partial rotary embeddings are not implemented from config.json")
        }
        let factor = number("factor") ?? 1
        let what = "config.json rope_scaling type '\(type)'"
        switch type {
        case "default":
            return .none
        case "linear":
            return factor == 1 ? .none : .linear(factor: Float(factor))
        case "llama3":
            let original = number("original_max_position_embeddings") ?? 8192
            let low = number("low_freq_factor") ?? 1, high = number("high_freq_factor") ?? 4
            guard low != high else {
                throw ModelError.unsupportedFeature(what: what, reason: "low_freq_factor equals high_freq_factor")
            }
            return .frequencyFactors(RopeScaling.llama3Factors(
                theta: theta, dimensions: dimensions, factor: factor, lowFrequencyFactor: low,
                highFrequencyFactor: high, originalContextLength: original))
        case "yarn":
            for key in ["mscale", "mscale_all_dim"] where number(key).map({ $0 != 0 && $0 != 1 }) ?? false {
                throw ModelError.unsupportedFeature(what: "\(what) with '\(key)'", reason: "DeepSeek's YaRN magnitude is not implemented")
            }
            if let truncate = parameters["truncate"] as? Bool, !truncate {
                throw ModelError.unsupportedFeature(what: "\(what) with 'truncate': false", reason: "only truncated YaRN ranges are implemented")
            }
            guard let original = (parameters["original_max_position_embeddings"] as? NSNumber)?.intValue
                    ?? int("original_max_position_embeddings") ?? int("max_position_embeddings") else {
                throw ModelError.missingMetadata("config.json: rope_scaling.original_max_position_embeddings")
            }
            let attention = number("attention_factor").map(Float.init)
            // HF's default attention factor is 0.1 ln(factor) + 1, which RotaryEmbedding applies;
            // an explicit one replaces it.
            let yarn = RopeScaling.YaRN(
                factor: Float(factor), originalContextLength: original,
                betaFast: Float(number("beta_fast") ?? 32), betaSlow: Float(number("beta_slow") ?? 1),
                attentionFactor: attention.map { $0 / (1 + 0.1 * Foundation.logf(Float(factor))) } ?? 1)
            return .yarn(yarn)
        default:
            throw ModelError.unsupportedFeature(what: what, reason: "this RoPE scaling is not implemented (default, linear, llama3, yarn are)")
        }
    }

    /// Settings that change the computation, with the value that means "off". A config giving
    /// one another value for an architecture that does not read it is refused.
    static let computationSettings: [(key: String, neutral: @Sendable (Any) -> Bool)] = [
        ("attn_logit_softcapping", isNull), ("final_logit_softcapping", isNull),
        ("query_pre_attn_scalar", isNull), ("sliding_window", isNull), ("use_sliding_window", isFalse),
        ("partial_rotary_factor", { ($0 as? NSNumber)?.doubleValue == 1 }), ("mlp_bias", isFalse),
        ("logit_scale", isNull), ("embedding_multiplier", isNull), ("residual_multiplier", isNull),
        ("attention_multiplier", isNull), ("num_experts", isNullOrZero), ("num_local_experts", isNullOrZero),
        ("use_qk_norm", isFalse), ("qk_layernorm", isFalse), ("use_bidirectional_attention", isFalse)
    ]
    private static func isNull(_ value: Any) -> Bool { value is NSNull }
    private static func isFalse(_ value: Any) -> Bool { value is NSNull || (value as? Bool) == false }
    private static func isNullOrZero(_ value: Any) -> Bool { value is NSNull || (value as? NSNumber)?.intValue == 0 }

    /// Refuses a setting in `computationSettings` that `architecture` does not read, an
    /// activation other than the one it computes, and a `layer_types` list that disagrees with
    /// the sliding-window layers of `configuration`.
    /// - Throws: `ModelError.unsupportedFeature` naming the key.
    func refuseUnread(by configuration: ModelConfiguration) throws {
        let architecture = configuration.architecture
        let consumed = architecture.huggingFaceKeys
        for (key, neutral) in Self.computationSettings where !consumed.contains(key) {
            if let value = json[key], !neutral(value) {
                throw ModelError.unsupportedFeature(
                    what: "config.json '\(key)': \(value)", reason: "not implemented for \(architecture.rawValue)")
            }
        }
        let activationKey = json["hidden_activation"] != nil ? "hidden_activation" : (json["hidden_act"] != nil ? "hidden_act" : "activation_function")
        if let activation = json[activationKey] as? String {
            let expected: Set<String> = configuration.feedForward == .gatedSiLU
                ? ["silu", "swish"] : ["gelu_pytorch_tanh", "gelu_new", "gelu_fast"]
            guard expected.contains(activation) else {
                throw ModelError.unsupportedFeature(
                    what: "config.json '\(activationKey)': \(activation)",
                    reason: "\(architecture.rawValue) computes \(expected.sorted().joined(separator: " / "))")
            }
        }
        if let types = json["layer_types"] as? [String] {
            for (layer, type) in types.enumerated() {
                let sliding = configuration.slidingWindow(layer: layer) != nil
                guard type == (sliding ? "sliding_attention" : "full_attention") else {
                    throw ModelError.unsupportedFeature(
                        what: "config.json layer_types[\(layer)] = \(type)",
                        reason: "Split would run that layer with \(sliding ? "sliding-window" : "full") attention")
                }
            }
        }
    }
}
