/// The shape and numerics of a transformer, independent of the file it came from.
public struct ModelConfiguration: Sendable, Equatable, Codable {
    /// Architecture families the runtime can run. Each has one weight-name mapping.
    public enum Architecture: String, Sendable, Codable, CaseIterable {
        case llama, qwen2, gpt2, qwen3, gemma2, gemma3, phi3, starcoder2, olmo2
    }

    public enum NormKind: String, Sendable, Codable { case rms, layer }
    /// `gatedSiLU`: down(silu(gate) · up); `gatedGELU`: down(gelu(gate) · up) (Gemma);
    /// `gelu`: down(gelu(up)) — GELU always the tanh approximation.
    public enum FeedForwardKind: String, Sendable, Codable { case gatedSiLU, gatedGELU, gelu }
    /// Where a layer's norms sit: before each sub-layer (most models), before and after
    /// (Gemma 2/3: the sub-layer's output is normed before the residual add), or only after (OLMo 2).
    public enum NormPlacement: String, Sendable, Codable { case pre, preAndPost, post }
    /// RMSNorm of queries and keys after their projections: none, each head on its own with a
    /// `headDimension` weight (Qwen3, Gemma 3), or all heads together with a full-width weight (OLMo 2).
    public enum QueryKeyNorm: String, Sendable, Codable { case none, perHead, whole }

    public var architecture: Architecture
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDimension: Int
    public var normEpsilon: Float
    public var normKind: NormKind
    public var feedForward: FeedForwardKind
    /// RoPE base; unused by GPT-2 (learned absolute positions).
    public var ropeTheta: Float
    public var ropeLayout: RotaryEmbedding.Layout
    public var ropeDimensions: Int
    public var maxPositions: Int
    public var attentionBias: Bool
    public var tiedEmbeddings: Bool
    /// Robot policies: features of one input token (the input projection's width); 0 for
    /// language models, which embed token ids instead.
    public var inputDimensions: Int = 0
    /// Robot policies: values per action (e.g. 2 for a planar position command).
    public var actionDimensions: Int = 0
    /// Robot policies: actions per chunk; the action head outputs `actionHorizon × actionDimensions`.
    public var actionHorizon: Int = 0
    /// Robot policies: the robot and demonstrations it was trained on (GGUF `split.policy.robot`,
    /// see `PolicyTraining`); nil when the file does not say.
    public var policyRobot: String? = nil
    /// How RoPE is stretched past the training context (on sliding-window layers of a model with
    /// `slidingRopeTheta` it is not: Gemma 3's local layers use plain RoPE).
    public var ropeScaling: RopeScaling = .none
    /// RoPE base of sliding-window layers when it differs from `ropeTheta` (Gemma 3: 10 000).
    public var slidingRopeTheta: Float? = nil
    /// Positions a sliding-window layer's query sees: itself and `slidingWindow − 1` before it;
    /// nil when every layer attends to every earlier position.
    public var slidingWindow: Int? = nil
    /// Which layers slide when `slidingWindow` is set, as llama.cpp's `set_swa_pattern`: with
    /// pattern n > 0, layer i slides when i % n < n − 1 (Gemma 2: 2, Gemma 3: 6); 0: every layer.
    public var slidingWindowPattern: Int = 0
    public var queryKeyNorm: QueryKeyNorm = .none
    public var normPlacement: NormPlacement = .pre
    /// Factor on token embeddings (Gemma: √hiddenSize); nil for none.
    public var embeddingScale: Float? = nil
    /// Attention score scale; nil for 1/√headDimension (Gemma: 1/√query_pre_attn_scalar).
    public var attentionScale: Float? = nil
    /// Attention scores become cap · tanh(score / cap) (Gemma 2); nil for none.
    public var attentionSoftcap: Float? = nil
    /// Logits become cap · tanh(logit / cap) (Gemma 2); nil for none.
    public var finalLogitSoftcap: Float? = nil

    /// Whether this is a robot policy (input projection and action head instead of token
    /// embedding and LM head).
    public var isPolicy: Bool { inputDimensions > 0 }

    /// Width of all query heads together.
    public var queryWidth: Int { headCount * headDimension }
    /// Width of all key (or value) heads together.
    public var kvWidth: Int { kvHeadCount * headDimension }
    /// Whether positions come from learned absolute embeddings (GPT-2) rather than RoPE.
    public var usesLearnedPositions: Bool { architecture == .gpt2 }

    /// The attention window of layer `layer` (nil: every earlier position).
    public func slidingWindow(layer: Int) -> Int? {
        guard let slidingWindow else { return nil }
        let n = slidingWindowPattern
        return n <= 0 || layer % n < n - 1 ? slidingWindow : nil
    }

    /// The rotary embedding of layer `layer` (nil for learned positions).
    public func rotaryEmbedding(layer: Int) -> RotaryEmbedding? {
        if usesLearnedPositions { return nil }
        if slidingWindow(layer: layer) != nil, let slidingRopeTheta {
            return RotaryEmbedding(layout: ropeLayout, dimensions: ropeDimensions, headDimension: headDimension,
                                   theta: slidingRopeTheta)
        }
        return RotaryEmbedding(layout: ropeLayout, dimensions: ropeDimensions, headDimension: headDimension,
                               theta: ropeTheta, scaling: ropeScaling)
    }

    /// Checks the numbers are mutually consistent and within sane bounds.
    /// - Throws: `ModelError.invalidConfiguration` naming the offending field.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw ModelError.invalidConfiguration(message) }
        }
        try check((vocabularySize > 0 || isPolicy) && vocabularySize >= 0 && vocabularySize <= 1 << 22,
                  "vocabulary size \(vocabularySize) out of range")
        if isPolicy {
            try check(inputDimensions <= 1 << 12, "input dimensions \(inputDimensions) out of range")
            try check(actionDimensions > 0 && actionHorizon > 0 && actionDimensions * actionHorizon <= 1 << 16,
                      "action chunk \(actionHorizon) × \(actionDimensions) out of range")
        }
        try check(hiddenSize > 0 && hiddenSize <= 1 << 16, "hidden size \(hiddenSize) out of range")
        try check(intermediateSize > 0 && intermediateSize <= 1 << 18, "intermediate size \(intermediateSize) out of range")
        try check(layerCount > 0 && layerCount <= 1024, "layer count \(layerCount) out of range")
        try check(headCount > 0 && kvHeadCount > 0 && headCount % kvHeadCount == 0,
                  "head count \(headCount) is not a multiple of KV head count \(kvHeadCount)")
        try check(headDimension > 0 && headDimension % 2 == 0, "head dimension \(headDimension) must be even")
        try check(ropeDimensions <= headDimension && ropeDimensions % 2 == 0, "RoPE dimensions \(ropeDimensions) invalid")
        try check(maxPositions > 0 && maxPositions <= 1 << 20, "context length \(maxPositions) out of range")
        if let slidingWindow { try check(slidingWindow > 0, "sliding window \(slidingWindow) must be positive") }
        try check(slidingWindowPattern >= 0, "sliding window pattern \(slidingWindowPattern) must not be negative")
        if let slidingRopeTheta { try check(slidingRopeTheta.isFinite && slidingRopeTheta > 0, "sliding-window RoPE base \(slidingRopeTheta) must be positive") }
        for (name, value) in [("attention soft-cap", attentionSoftcap), ("final logit soft-cap", finalLogitSoftcap),
                              ("attention scale", attentionScale), ("embedding scale", embeddingScale)] {
            if let value { try check(value.isFinite && value > 0, "\(name) \(value) must be positive") }
        }
        switch ropeScaling {
        case .none: break
        case .linear(let factor):
            try check(factor.isFinite && factor > 0, "RoPE linear scaling factor \(factor) must be positive")
        case .frequencyFactors(let factors):
            try check(factors.count == ropeDimensions / 2 && factors.allSatisfy { $0.isFinite && $0 > 0 },
                      "RoPE frequency factors: \(factors.count) values, expected \(ropeDimensions / 2) positive ones")
        case .longRoPE(let long):
            try check(long.shortFactors.count == ropeDimensions / 2 && long.shortFactors.allSatisfy { $0.isFinite && $0 > 0 }
                      && long.attentionFactor.isFinite && long.attentionFactor > 0 && maxPositions <= long.originalContextLength,
                      "LongRoPE: \(long.shortFactors.count) short factors (expected \(ropeDimensions / 2)), attention factor \(long.attentionFactor), context \(maxPositions) of \(long.originalContextLength)")
        case .yarn(let yarn):
            try check(yarn.factor.isFinite && yarn.factor > 0 && yarn.originalContextLength > 0
                      && yarn.betaFast > 0 && yarn.betaSlow > 0 && yarn.attentionFactor > 0,
                      "YaRN parameters \(yarn) out of range")
        }
    }
}

/// Errors from building or running a model.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case missingMetadata(String)
    case missingTensor(String)
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    case unsupportedWeightType(tensor: String, type: String)
    case unsupportedArchitecture(String)
    /// A setting or tensor that changes the model's computation and that Split does not
    /// implement: refused rather than run into silently wrong outputs.
    case unsupportedFeature(what: String, reason: String)
    case contextOverflow(position: Int, limit: Int)
    case layerRangeOutOfBounds(requested: Range<Int>, loaded: Range<Int>)
    case notLoaded(String)
    case invalidToken(Int32, vocabularySize: Int)
    /// A quantized matrix whose rows are not whole blocks of its type (a row could not start at a block).
    case partialBlocks(tensor: String, type: String, columns: Int, blockSize: Int)
    /// A quantized tensor with fewer bytes than its shape needs.
    case truncatedTensor(tensor: String, type: String, needed: Int, found: Int)
    /// Memory for weights rewritten at load time (`what`) could not be allocated.
    case outOfMemory(what: String, bytes: Int)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message): return "invalid model configuration: \(message)"
        case .missingMetadata(let key): return "model file lacks required metadata '\(key)'"
        case .missingTensor(let name): return "model file lacks tensor '\(name)'"
        case .shapeMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' has shape \(found), expected \(expected)"
        case .unsupportedWeightType(let tensor, let type):
            return "tensor '\(tensor)' has weight type \(type), which this runtime cannot compute with"
        case .unsupportedArchitecture(let name):
            return "architecture '\(name)' is not supported (supported: \(ModelConfiguration.Architecture.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .unsupportedFeature(let what, let reason):
            return "\(what): \(reason); Split refuses the model rather than compute something else"
        case .contextOverflow(let position, let limit):
            return "position \(position) is past the context length \(limit)"
        case .layerRangeOutOfBounds(let requested, let loaded):
            return "layers \(requested) requested but this part holds layers \(loaded)"
        case .notLoaded(let what): return "this model part does not hold the \(what)"
        case .invalidToken(let token, let vocabularySize):
            return "token id \(token) is outside the vocabulary of \(vocabularySize)"
        case .partialBlocks(let tensor, let type, let columns, let blockSize):
            return "tensor '\(tensor)' is \(type) with rows of \(columns) values, not whole blocks of \(blockSize)"
        case .truncatedTensor(let tensor, let type, let needed, let found):
            return "tensor '\(tensor)' (\(type)) holds \(found) bytes, its shape needs \(needed)"
        case .outOfMemory(let what, let bytes):
            return "out of memory for \(what) (\(bytes) bytes)"
        }
    }
}
