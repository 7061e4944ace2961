/// Builds GGUF version 3 files: metadata of every type, tensors from floats or raw bytes,
/// data aligned to `alignment`. Used to export models and, in tests, to make good and bad files.
public struct GGUFWriter: Sendable {
    /// Alignment of tensor data; written as `general.alignment` when it is not the default 32.
    public var alignment: Int
    /// Metadata entries in the order they will be written.
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    private var tensors: [(name: String, dimensions: [Int], typeCode: UInt32, data: [UInt8])] = []

    /// An empty file with the given alignment.
    public init(alignment: Int = GGUFFile.defaultAlignment) {
        self.alignment = alignment
    }

    /// Sets (or replaces) the metadata entry `key`.
    public mutating func setMetadata(_ key: String, _ value: GGUFValue) {
        if let index = metadata.firstIndex(where: { $0.key == key }) {
            metadata[index].value = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Adds a tensor of `shape` (PyTorch order, outermost first) from float values, stored as `type`.
    /// - Throws: `GGUFError.invalidShape` when the shape does not match the values or the type's
    ///   blocks, or the type is one Split does not write (the quantized types other than Q8_0).
    public mutating func addTensor(name: String, shape: [Int], values: [Float], type: WeightType = .f32) throws {
        let dimensions = shape.map { UInt64(max($0, 0)) }
        guard shape.reduce(1, *) == values.count else {
            throw GGUFError.invalidShape(name: name, dimensions: dimensions, reason: "shape does not hold \(values.count) values")
        }
        guard let data = WeightEncoding.encode(values, as: type), (shape.last ?? 1) % type.blockSize == 0 else {
            throw GGUFError.invalidShape(name: name, dimensions: dimensions, reason: "rows are not whole blocks of \(type)")
        }
        addTensor(name: name, shape: shape, typeCode: GGMLType.code(for: type), data: data)
    }

    /// Adds a tensor whose bytes are already encoded as ggml type `typeCode`. No checks are
    /// made, so tests can write files with unknown types or wrong sizes.
    public mutating func addTensor(name: String, shape: [Int], typeCode: UInt32, data: [UInt8]) {
        tensors.append((name, Array(shape.reversed()), typeCode, data))
    }

    /// The whole file as bytes.
    public func serialized() -> [UInt8] {
        var bytes = header()
        for tensor in tensors {
            bytes.append(contentsOf: tensor.data)
            bytes.padToMultiple(of: alignment)
        }
        return bytes
    }

    /// Writes the file to `path`, tensor by tensor.
    /// - Throws: `MappedFileError.systemCall` naming the failing call.
    public func write(to path: String) throws {
        let output = try OutputFile(path: path)
        try output.append(header())
        for tensor in tensors {
            try output.append(tensor.data)
            let padding = (alignment - tensor.data.count % alignment) % alignment
            try output.append([UInt8](repeating: 0, count: padding))
        }
        try output.finish()
    }

    /// Everything before the tensor data: header, metadata, tensor table and padding.
    private func header() -> [UInt8] {
        var entries = metadata
        if alignment != GGUFFile.defaultAlignment, !entries.contains(where: { $0.key == "general.alignment" }) {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(UInt32(0x4655_4747))  // "GGUF"
        bytes.appendLittleEndian(UInt32(3))
        bytes.appendLittleEndian(UInt64(tensors.count))
        bytes.appendLittleEndian(UInt64(entries.count))
        for (key, value) in entries {
            Self.append(string: key, to: &bytes)
            bytes.appendLittleEndian(value.type.rawValue)
            Self.append(value: value, to: &bytes)
        }
        var offset = 0
        for tensor in tensors {
            Self.append(string: tensor.name, to: &bytes)
            bytes.appendLittleEndian(UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { bytes.appendLittleEndian(UInt64(dimension)) }
            bytes.appendLittleEndian(tensor.typeCode)
            bytes.appendLittleEndian(UInt64(offset))
            offset += (tensor.data.count + alignment - 1) / alignment * alignment
        }
        bytes.padToMultiple(of: alignment)
        return bytes
    }

    private static func append(string: String, to bytes: inout [UInt8]) {
        let utf8 = Array(string.utf8)
        bytes.appendLittleEndian(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    private static func append(value: GGUFValue, to bytes: inout [UInt8]) {
        switch value {
        case let .uint8(v): bytes.appendLittleEndian(v)
        case let .int8(v): bytes.appendLittleEndian(v)
        case let .uint16(v): bytes.appendLittleEndian(v)
        case let .int16(v): bytes.appendLittleEndian(v)
        case let .uint32(v): bytes.appendLittleEndian(v)
        case let .int32(v): bytes.appendLittleEndian(v)
        case let .uint64(v): bytes.appendLittleEndian(v)
        case let .int64(v): bytes.appendLittleEndian(v)
        case let .float32(v): bytes.appendLittleEndian(v.bitPattern)
        case let .float64(v): bytes.appendLittleEndian(v.bitPattern)
        case let .bool(v): bytes.append(v ? 1 : 0)
        case let .string(v): append(string: v, to: &bytes)
        case let .array(elementType, elements):
            bytes.appendLittleEndian(elementType.rawValue)
            bytes.appendLittleEndian(UInt64(elements.count))
            for element in elements { append(value: element, to: &bytes) }
        }
    }
}
