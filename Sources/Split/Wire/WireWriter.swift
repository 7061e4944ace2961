/// Appends little-endian fields to a growing message (the encoder's only output path).
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { append(value.littleEndian) }
    mutating func u32(_ value: UInt32) { append(value.littleEndian) }
    mutating func u64(_ value: UInt64) { append(value.littleEndian) }
    mutating func f32(_ value: Float) { append(value.bitPattern.littleEndian) }
    mutating func raw(_ value: [UInt8]) { bytes.append(contentsOf: value) }

    /// A count that must fit the 32-bit field it goes in (checked against limits beforehand).
    mutating func count32(_ value: Int) { u32(UInt32(truncatingIfNeeded: value)) }

    /// A string as a 16-bit byte length and its UTF-8 bytes; the caller checked the length.
    mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        u16(UInt16(truncatingIfNeeded: utf8.count))
        bytes.append(contentsOf: utf8)
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }
}
