/// Reads GGUF's little-endian primitives one after another from a byte buffer, with every
/// read checked against the end of the buffer and every count checked against a limit.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let limits: GGUFLimits
    private(set) var offset: Int = 0

    init(bytes: UnsafeRawBufferPointer, limits: GGUFLimits, offset: Int = 0) {
        self.bytes = bytes
        self.limits = limits
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw GGUFError.truncated(at: offset, needed: count) }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        T(littleEndian: try take(MemoryLayout<T>.size).loadUnaligned(as: T.self))
    }

    /// A count that must be ≤ `limit` and whose elements (≥ `minimumSize` bytes each) must fit
    /// in what is left of the file, checked before anything is allocated for them.
    mutating func readCount(_ what: String, limit: Int, minimumSize: Int) throws -> Int {
        let value = try read(UInt64.self)
        guard value <= UInt64(limit) else {
            throw GGUFError.limitExceeded(what: what, value: value, limit: UInt64(limit))
        }
        let count = Int(value)
        let (needed, overflow) = count.multipliedReportingOverflow(by: minimumSize)
        guard !overflow, needed <= remaining else { throw GGUFError.truncated(at: offset, needed: needed) }
        return count
    }

    mutating func readString() throws -> String {
        let length = try readCount("string length", limit: limits.maxStringLength, minimumSize: 1)
        let start = offset
        let raw = try take(length)
        guard let string = String(validating: raw, as: UTF8.self) else { throw GGUFError.invalidUTF8(at: start) }
        return string
    }

    mutating func readValueType() throws -> GGUFValueType {
        let at = offset
        let code = try read(UInt32.self)
        guard let type = GGUFValueType(rawValue: code) else { throw GGUFError.unknownValueType(code: code, at: at) }
        return type
    }

    /// After an array's type code: when it holds at least `minimumLength` elements of a scalar
    /// or string type, checks every element as `readValue` would (without keeping them), moves
    /// past the array and returns its element type, length and where its elements start. Otherwise
    /// moves nothing and returns nil (the caller reads the array with `readValue`).
    mutating func skipLongArray(minimumLength: Int) throws -> (type: GGUFValueType, count: Int, offset: Int)? {
        let start = offset
        let elementType = try readValueType()
        let count = try readCount("array length", limit: limits.maxArrayLength, minimumSize: elementType.minimumEncodedSize)
        guard count >= minimumLength, elementType != .array else {
            offset = start
            return nil
        }
        let elements = offset
        if elementType == .string {
            for _ in 0..<count {
                let length = try readCount("string length", limit: limits.maxStringLength, minimumSize: 1)
                let at = offset
                guard String(validating: try take(length), as: UTF8.self) != nil else { throw GGUFError.invalidUTF8(at: at) }
            }
        } else {
            _ = try take(count * elementType.minimumEncodedSize)  // fixed-size elements: bounds already checked
        }
        return (elementType, count, elements)
    }

    mutating func readValue(of type: GGUFValueType, depth: Int = 0) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self))
        case .int8: return .int8(try read(Int8.self))
        case .uint16: return .uint16(try read(UInt16.self))
        case .int16: return .int16(try read(Int16.self))
        case .uint32: return .uint32(try read(UInt32.self))
        case .int32: return .int32(try read(Int32.self))
        case .uint64: return .uint64(try read(UInt64.self))
        case .int64: return .int64(try read(Int64.self))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self)))
        case .bool: return .bool(try read(UInt8.self) != 0)
        case .string: return .string(try readString())
        case .array:
            guard depth < limits.maxArrayNesting else {
                throw GGUFError.limitExceeded(
                    what: "array nesting depth", value: UInt64(depth + 1), limit: UInt64(limits.maxArrayNesting))
            }
            let elementType = try readValueType()
            let count = try readCount(
                "array length", limit: limits.maxArrayLength, minimumSize: elementType.minimumEncodedSize)
            var elements: [GGUFValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try readValue(of: elementType, depth: depth + 1)) }
            return .array(elementType, elements)
        }
    }
}

/// Upper bounds on what a GGUF file may declare, checked before anything is allocated.
public struct GGUFLimits: Sendable {
    /// Most metadata entries.
    public var maxMetadataCount = 1 << 20
    /// Most tensors.
    public var maxTensorCount = 1 << 20
    /// Longest string, in bytes (chat templates are tens of KB; 16 MiB is generous).
    public var maxStringLength = 1 << 24
    /// Longest array (vocabularies and merge lists are ~150–260 K entries). Each element costs
    /// ~24 bytes in memory, so this also bounds what a small hostile file can make us allocate.
    public var maxArrayLength = 1 << 22
    /// Deepest nesting of arrays inside arrays.
    public var maxArrayNesting = 8
    /// Most dimensions of a tensor (ggml's GGML_MAX_DIMS).
    public var maxDimensions = 4
    /// Largest `general.alignment`.
    public var maxAlignment = 1 << 16

    /// The limits used unless a caller passes its own.
    public static let standard = GGUFLimits()

    /// Limits with the defaults.
    public init() {}
}
