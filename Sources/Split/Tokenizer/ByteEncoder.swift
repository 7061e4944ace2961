/// GPT-2's reversible map between bytes and printable Unicode characters, used by byte-level
/// BPE so that every byte sequence has a spelling in the vocabulary ("Ġ" is the space byte).
public enum ByteEncoder {
    /// The character standing for each byte value, indexed by byte.
    public static let characterOfByte: [Unicode.Scalar] = {
        // Printable Latin-1 bytes stand for themselves; the rest are moved to U+0100 onwards.
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            let value = printable ? UInt32(byte) : next
            if !printable { next += 1 }
            table[byte] = Unicode.Scalar(value) ?? "\0"  // Values stay below U+0144: always valid.
        }
        return table
    }()

    /// The byte each table character stands for.
    public static let byteOfCharacter: [Unicode.Scalar: UInt8] = {
        var inverse: [Unicode.Scalar: UInt8] = [:]
        for (byte, character) in characterOfByte.enumerated() { inverse[character] = UInt8(byte) }
        return inverse
    }()

    /// The byte-level spelling of `bytes` (one character per byte).
    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var result = String.UnicodeScalarView()
        for byte in bytes { result.append(characterOfByte[Int(byte)]) }
        return String(result)
    }

    /// The bytes a byte-level spelling stands for; nil when it has a character outside the table.
    public static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard let byte = byteOfCharacter[scalar] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
