/// Many short byte strings in one buffer (a vocabulary's 50–250 K token spellings): the bytes end
/// to end plus where each string ends. An array of `[UInt8]` or `String` costs a heap object or
/// 16 bytes per entry on top of the bytes; this costs 4.
struct PackedByteStrings: Sendable {
    private var bytes: [UInt8] = []
    private var ends: [UInt32] = []

    /// Room for `count` strings of `totalBytes` bytes in all.
    init(reservingCount count: Int = 0, totalBytes: Int = 0) {
        ends.reserveCapacity(count)
        bytes.reserveCapacity(totalBytes)
    }

    /// Number of strings.
    var count: Int { ends.count }

    /// Appends one string's bytes.
    /// - Throws: `TokenizerError.unsupported` past 4 GiB of strings in all (the ends are 32-bit;
    ///   a file's counts and lengths are bounded one by one, not their sum).
    mutating func append<Bytes: Sequence>(_ string: Bytes) throws(TokenizerError) where Bytes.Element == UInt8 {
        bytes.append(contentsOf: string)
        guard let end = UInt32(exactly: bytes.count) else {
            throw TokenizerError.unsupported("token strings of more than 4 GiB in all")
        }
        ends.append(end)
    }

    /// String `index`'s bytes (`index` in `0 ..< count`).
    subscript(index: Int) -> ArraySlice<UInt8> {
        let start = index == 0 ? 0 : Int(ends[index - 1])
        return bytes[start..<Int(ends[index])]
    }

    /// String `index` decoded as UTF-8 (the bytes are valid UTF-8 when they came from a `String`).
    func string(_ index: Int) -> String { String(decoding: self[index], as: UTF8.self) }
}
