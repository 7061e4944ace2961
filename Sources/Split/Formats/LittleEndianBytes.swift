/// Appending little-endian primitives to a byte buffer, for the format writers.
extension Array where Element == UInt8 {
    /// Appends `value` in little-endian byte order.
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Appends zero bytes until the count is a multiple of `alignment`.
    mutating func padToMultiple(of alignment: Int) {
        let remainder = count % alignment
        if remainder != 0 { append(contentsOf: repeatElement(0, count: alignment - remainder)) }
    }
}
