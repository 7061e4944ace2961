/// Reads little-endian fields from a received message, throwing `WireError.truncated` naming
/// the field instead of reading past the end. It never allocates more than it has checked.
struct WireReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes not read yet.
    var remaining: Int { bytes.count - offset }

    mutating func u8(_ field: String) throws(WireError) -> UInt8 { try load(field) }
    mutating func u16(_ field: String) throws(WireError) -> UInt16 { UInt16(littleEndian: try load(field)) }
    mutating func u32(_ field: String) throws(WireError) -> UInt32 { UInt32(littleEndian: try load(field)) }
    mutating func u64(_ field: String) throws(WireError) -> UInt64 { UInt64(littleEndian: try load(field)) }
    mutating func f32(_ field: String) throws(WireError) -> Float { Float(bitPattern: try u32(field)) }

    /// A 32-bit count, checked against `limit` before anyone sizes a buffer with it.
    mutating func count32(_ field: String, limit: Int) throws(WireError) -> Int {
        let value = Int(try u32(field))
        guard value <= limit else { throw .limitExceeded(field: field, value: value, limit: limit) }
        return value
    }

    /// `count` raw bytes; checks that they are there first.
    mutating func raw(_ field: String, count: Int) throws(WireError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw .truncated(field: field) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A 16-bit length and that many UTF-8 bytes, the length checked against `maxLength`.
    mutating func string(_ field: String, maxLength: Int) throws(WireError) -> String {
        let length = Int(try u16(field))
        guard length <= maxLength else { throw .limitExceeded(field: field, value: length, limit: maxLength) }
        let utf8 = try raw(field, count: length)
        guard let text = String(validating: utf8, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return text
    }

    private mutating func load<T: FixedWidthInteger>(_ field: String) throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { throw .truncated(field: field) }
        defer { offset += size }
        return bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
    }
}
