/// Everything that can be wrong with a GGUF file, each case saying what and where.
public enum GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file does not start with "GGUF".
    case badMagic(found: UInt32)
    /// Only GGUF versions 2 and 3 are read.
    case unsupportedVersion(UInt32)
    /// The file ends before `needed` bytes could be read at `offset`.
    case truncated(at: Int, needed: Int)
    /// A tensor's data lies (partly) outside the file.
    case tensorOutOfBounds(name: String, offset: Int, size: Int, fileSize: Int)
    /// The model asked for a tensor the file does not have.
    case missingTensor(String)
    /// The tensor is stored in a ggml type Split cannot compute with.
    case unsupportedTensorType(name: String, typeCode: UInt32, typeName: String)
    /// Several tensors have unsupported types (from `validateTensorTypes()`): type name → count.
    case unsupportedTensorTypes(counts: [String: Int], firstName: String)
    /// A count or size read from the file is larger than Split accepts.
    case limitExceeded(what: String, value: UInt64, limit: UInt64)
    /// A string at `offset` is not valid UTF-8.
    case invalidUTF8(at: Int)
    /// Two tensors share a name.
    case duplicateTensor(name: String)
    /// Two metadata entries share a key.
    case duplicateKey(String)
    /// A metadata value type code that GGUF does not define.
    case unknownValueType(code: UInt32, at: Int)
    /// A tensor's dimensions are impossible (zero, too many, or not whole blocks of its type).
    case invalidShape(name: String, dimensions: [UInt64], reason: String)
    /// A tensor's data offset is not a multiple of the file's alignment.
    case misalignedTensor(name: String, offset: Int, alignment: Int)
    /// `general.alignment` is not a power of two.
    case invalidAlignment(Int)
    /// A metadata key the caller needs is missing or has another type.
    case missingMetadata(key: String, expected: String)

    /// A message for the user saying what is wrong and where.
    public var description: String {
        switch self {
        case let .badMagic(found):
            let hex = "0x" + String(found, radix: 16, uppercase: true)
            return "not a GGUF file: the first four bytes are \(hex), expected \"GGUF\" (0x46554747)"
        case let .unsupportedVersion(version):
            return "GGUF version \(version) is not supported (only versions 2 and 3 are)"
        case let .truncated(offset, needed):
            return "GGUF file is truncated: needed \(needed) bytes at offset \(offset)"
        case let .tensorOutOfBounds(name, offset, size, fileSize):
            return "tensor '\(name)' (\(size) bytes at offset \(offset)) lies past the end of the file (\(fileSize) bytes)"
        case let .missingTensor(name):
            return "the model file has no tensor named '\(name)'"
        case let .unsupportedTensorType(name, code, typeName):
            return "tensor '\(name)' has type \(typeName) (ggml type \(code)), which Split cannot load; "
                + "convert the model to F32, F16, BF16 or Q8_0"
        case let .unsupportedTensorTypes(counts, firstName):
            let list = counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            return "the file has tensors of types Split cannot load (\(list); first: '\(firstName)'); "
                + "convert the model to F32, F16, BF16 or Q8_0"
        case let .limitExceeded(what, value, limit):
            return "GGUF \(what) is \(value), more than the limit of \(limit): the file is corrupt or hostile"
        case let .invalidUTF8(offset):
            return "GGUF string at offset \(offset) is not valid UTF-8"
        case let .duplicateTensor(name):
            return "GGUF file has two tensors named '\(name)'"
        case let .duplicateKey(key):
            return "GGUF file has two metadata entries with key '\(key)'"
        case let .unknownValueType(code, offset):
            return "GGUF metadata value at offset \(offset) has unknown type code \(code)"
        case let .invalidShape(name, dimensions, reason):
            return "tensor '\(name)' has invalid dimensions \(dimensions): \(reason)"
        case let .misalignedTensor(name, offset, alignment):
            return "tensor '\(name)' starts at data offset \(offset), not a multiple of the alignment \(alignment)"
        case let .invalidAlignment(value):
            return "general.alignment is \(value); it must be a positive power of two"
        case let .missingMetadata(key, expected):
            return "GGUF metadata '\(key)' is missing or is not \(expected)"
        }
    }
}
