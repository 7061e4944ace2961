/// The shape and numerics of a transformer, independent of the file it came from.
public struct ModelConfiguration: Sendable, Equatable, Codable {
    /// Architecture families the runtime can run. Each has one weight-name mapping.
    public enum Architecture: String, Sendable, Codable, CaseIterable {
        case llama, qwen2, gpt2
    }

    public enum NormKind: String, Sendable, Codable { case rms, layer }
    public enum FeedForwardKind: String, Sendable, Codable { case gatedSiLU, gelu }

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

    /// Whether this is a robot policy (input projection and action head instead of token
    /// embedding and LM head).
    public var isPolicy: Bool { inputDimensions > 0 }

    /// Width of all query heads together.
    public var queryWidth: Int { headCount * headDimension }
    /// Width of all key (or value) heads together.
    public var kvWidth: Int { kvHeadCount * headDimension }
    /// Whether positions come from learned absolute embeddings (GPT-2) rather than RoPE.
    public var usesLearnedPositions: Bool { architecture == .gpt2 }

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
    case contextOverflow(position: Int, limit: Int)
    case layerRangeOutOfBounds(requested: Range<Int>, loaded: Range<Int>)
    case notLoaded(String)
    case invalidToken(Int32, vocabularySize: Int)
    /// A quantized matrix whose rows are not whole blocks of its type (a row could not start at a block).
    case partialBlocks(tensor: String, type: String, columns: Int, blockSize: Int)
    /// A quantized tensor with fewer bytes than its shape needs.
    case truncatedTensor(tensor: String, type: String, needed: Int, found: Int)

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
        }
    }
}
