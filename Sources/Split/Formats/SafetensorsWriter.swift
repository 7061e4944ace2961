import Foundation

/// Builds safetensors files (header sorted by name, data in insertion order), for tests and exports.
public struct SafetensorsWriter: Sendable {
    /// Free-form string metadata, written as `__metadata__`.
    public var metadata: [String: String] = [:]
    private var tensors: [(name: String, dtype: String, shape: [Int], data: [UInt8])] = []

    /// An empty file.
    public init() {}

    /// Adds a tensor of `shape` (outermost first) from float values, stored as `type` (F32, F16 or BF16).
    /// - Throws: `SafetensorsError.invalidTensor` when the shape does not hold the values or the type is a GGML block type.
    public mutating func addTensor(name: String, shape: [Int], values: [Float], type: WeightType = .f32) throws {
        guard shape.reduce(1, *) == values.count else {
            throw SafetensorsError.invalidTensor(name: name, reason: "shape \(shape) does not hold \(values.count) values")
        }
        guard !type.isBlockQuantized, let data = WeightEncoding.encode(values, as: type) else {
            throw SafetensorsError.invalidTensor(name: name, reason: "safetensors has no \(type) dtype")
        }
        addTensor(name: name, shape: shape, dtype: type.rawValue.uppercased(), data: data)
    }

    /// Adds a tensor whose bytes are already encoded as `dtype`; nothing is checked.
    public mutating func addTensor(name: String, shape: [Int], dtype: String, data: [UInt8]) {
        tensors.append((name, dtype, shape, data))
    }

    /// The whole file as bytes.
    /// - Throws: `EncodingError` only if JSON encoding fails, which plain strings and ints cannot.
    public func serialized() throws -> [UInt8] {
        var entries: [String: Entry] = [:]
        var offset = 0
        for tensor in tensors {
            entries[tensor.name] = Entry(dtype: tensor.dtype, shape: tensor.shape, offsets: [offset, offset + tensor.data.count])
            offset += tensor.data.count
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var header = Array(try encoder.encode(Header(tensors: entries, metadata: metadata)))
        // The reference implementation pads the header with spaces to a multiple of 8.
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(UInt64(header.count))
        bytes += header
        for tensor in tensors { bytes += tensor.data }
        return bytes
    }

    /// Writes the file to `path`.
    /// - Throws: `MappedFileError.systemCall` naming the failing call.
    public func write(to path: String) throws {
        let output = try OutputFile(path: path)
        try output.append(try serialized())
        try output.finish()
    }

    private struct Entry: Encodable {
        let dtype: String
        let shape: [Int]
        let offsets: [Int]
        enum CodingKeys: String, CodingKey { case dtype, shape, offsets = "data_offsets" }
    }

    private struct Header: Encodable {
        let tensors: [String: Entry]
        let metadata: [String: String]


        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: DynamicCodingKey.self)
            if !metadata.isEmpty { try container.encode(metadata, forKey: DynamicCodingKey(stringValue: "__metadata__")) }
            for (name, entry) in tensors { try container.encode(entry, forKey: DynamicCodingKey(stringValue: name)) }
        }
    }
}
