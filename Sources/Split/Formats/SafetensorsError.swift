/// Everything that can be wrong with a safetensors file or a sharded checkpoint.
public enum SafetensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The declared JSON header length is larger than Split accepts.
    case headerTooLarge(path: String, length: UInt64, limit: Int)
    /// The file is shorter than its header claims.
    case truncated(path: String, needed: UInt64, fileSize: Int)
    /// The JSON header could not be parsed or has the wrong structure.
    case invalidHeader(path: String, reason: String)
    /// A tensor's dtype is one Split cannot compute with.
    case unsupportedDtype(name: String, dtype: String)
    /// A tensor's shape, dtype and data offsets do not agree.
    case invalidTensor(name: String, reason: String)
    /// A tensor's data offsets lie outside the data section.
    case tensorOutOfBounds(name: String, begin: Int, end: Int, dataSize: Int)
    /// The model asked for a tensor no file has.
    case missingTensor(String)
    /// A directory holds neither `model.safetensors` nor `model.safetensors.index.json`.
    case noWeights(directory: String)
    /// The shard index is malformed or names a tensor its shard does not hold.
    case invalidIndex(path: String, reason: String)

    /// A message for the user saying what is wrong and where.
    public var description: String {
        switch self {
        case let .headerTooLarge(path, length, limit):
            return "\(path): safetensors header claims \(length) bytes, more than the limit of \(limit)"
        case let .truncated(path, needed, fileSize):
            return "\(path): file is truncated: the header needs \(needed) bytes but the file has \(fileSize)"
        case let .invalidHeader(path, reason):
            return "\(path): invalid safetensors header: \(reason)"
        case let .unsupportedDtype(name, dtype):
            return "tensor '\(name)' has dtype \(dtype), which Split cannot load (F32, F16 and BF16 are supported)"
        case let .invalidTensor(name, reason):
            return "tensor '\(name)': \(reason)"
        case let .tensorOutOfBounds(name, begin, end, dataSize):
            return "tensor '\(name)' occupies bytes \(begin)..<\(end), outside the data section (\(dataSize) bytes)"
        case let .missingTensor(name):
            return "the checkpoint has no tensor named '\(name)'"
        case let .noWeights(directory):
            return "\(directory) has neither model.safetensors nor model.safetensors.index.json"
        case let .invalidIndex(path, reason):
            return "\(path): invalid shard index: \(reason)"
        }
    }
}
