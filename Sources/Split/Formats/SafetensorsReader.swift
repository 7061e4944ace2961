import Foundation

/// One entry of a safetensors header, as the format defines it.
public struct SafetensorsTensorInfo: Sendable, Equatable, Decodable {
    /// The dtype name ("F32", "BF16", "I64", ...).
    public let dtype: String
    /// Dimensions, outermost first (PyTorch order).
    public let shape: [Int]
    /// Start and end of the data, relative to the start of the data section.
    public let dataOffsets: [Int]

    enum CodingKeys: String, CodingKey {
        case dtype, shape
        case dataOffsets = "data_offsets"
    }

    /// Bytes per element of each dtype the format defines (sub-byte dtypes are left out).
    static let elementSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
        "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    ]

    /// The `WeightType` for the dtype, or nil when Split cannot compute with it.
    public var weightType: WeightType? {
        switch dtype {
        case "F32": return .f32
        case "F16": return .f16
        case "BF16": return .bf16
        default: return nil
        }
    }
}

/// A safetensors file, memory-mapped: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the data. All of it is checked on open.
public final class SafetensorsFile: WeightStore {
    /// Largest JSON header accepted (real checkpoints have headers of a few hundred KB).
    public static let maxHeaderLength = 100 << 20

    /// The path the file was opened from.
    public let path: String
    /// The tensor entries, by name (`__metadata__` is not a tensor and is left out).
    public let tensors: [String: SafetensorsTensorInfo]
    /// Names of every tensor, sorted.
    public let tensorNames: [String]
    /// Offset of the data section in the file.
    public let dataOffset: Int
    private let file: MappedFile

    /// Maps and parses the safetensors file at `path`.
    /// - Throws: `MappedFileError` when it cannot be opened, `SafetensorsError` when it is malformed.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        self.path = path
        guard file.size >= 8 else { throw SafetensorsError.truncated(path: path, needed: 8, fileSize: file.size) }
        let declared = try file.readLittleEndian(UInt64.self, at: 0)
        guard declared <= UInt64(Self.maxHeaderLength) else {
            throw SafetensorsError.headerTooLarge(path: path, length: declared, limit: Self.maxHeaderLength)
        }
        let headerLength = Int(declared)
        guard 8 + headerLength <= file.size else {
            throw SafetensorsError.truncated(path: path, needed: 8 + declared, fileSize: file.size)
        }
        dataOffset = 8 + headerLength
        let json = Data(try file.slice(offset: 8, count: headerLength))
        let header: SafetensorsHeader
        do {
            header = try JSONDecoder().decode(SafetensorsHeader.self, from: json)
        } catch {
            throw SafetensorsError.invalidHeader(path: path, reason: Self.describe(error))
        }
        let dataSize = file.size - dataOffset
        for (name, info) in header.tensors { try Self.check(info, name: name, dataSize: dataSize) }
        file.adviseHugePages(from: dataOffset)
        tensors = header.tensors
        tensorNames = header.tensors.keys.sorted()
    }

    /// Checks that a tensor's shape, dtype and offsets agree and lie inside the data section.
    private static func check(_ info: SafetensorsTensorInfo, name: String, dataSize: Int) throws {
        guard info.dataOffsets.count == 2 else {
            throw SafetensorsError.invalidTensor(name: name, reason: "data_offsets must be [begin, end]")
        }
        let (begin, end) = (info.dataOffsets[0], info.dataOffsets[1])
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw SafetensorsError.tensorOutOfBounds(name: name, begin: begin, end: end, dataSize: dataSize)
        }
        var elementCount = 1
        for dimension in info.shape {
            let product = elementCount.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !product.overflow else {
                throw SafetensorsError.invalidTensor(name: name, reason: "shape \(info.shape) is not a valid shape")
            }
            elementCount = product.partialValue
        }
        // Unknown dtypes cannot be sized; they are refused when the tensor is requested.
        guard let elementSize = SafetensorsTensorInfo.elementSizes[info.dtype] else { return }
        let (expected, overflow) = elementCount.multipliedReportingOverflow(by: elementSize)
        guard !overflow, expected == end - begin else {
            throw SafetensorsError.invalidTensor(
                name: name,
                reason: "shape \(info.shape) of \(info.dtype) needs \(elementCount) × \(elementSize) bytes "
                    + "but data_offsets span \(end - begin)")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.dataCorrupted(context): return context.debugDescription
        case let DecodingError.keyNotFound(key, context):
            return "missing '\(key.stringValue)' at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: return "\(error)"
        }
    }

    /// A view of the tensor called `name`.
    /// - Throws: `SafetensorsError.missingTensor` or `.unsupportedDtype` naming the dtype.
    public func weight(_ name: String) throws -> WeightView {
        guard let info = tensors[name] else { throw SafetensorsError.missingTensor(name) }
        guard let type = info.weightType else { throw SafetensorsError.unsupportedDtype(name: name, dtype: info.dtype) }
        let begin = info.dataOffsets[0]
        let bytes = try file.slice(offset: dataOffset + begin, count: info.dataOffsets[1] - begin)
        return WeightView(name: name, shape: info.shape, type: type, bytes: bytes, owner: file)
    }
}

/// The JSON header: tensor entries under arbitrary names, plus an ignored `__metadata__`.
private struct SafetensorsHeader: Decodable {
    let tensors: [String: SafetensorsTensorInfo]


    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: DynamicCodingKey.self)
        var tensors: [String: SafetensorsTensorInfo] = [:]
        for key in container.allKeys where key.stringValue != "__metadata__" {
            tensors[key.stringValue] = try container.decode(SafetensorsTensorInfo.self, forKey: key)
        }
        self.tensors = tensors
    }
}
