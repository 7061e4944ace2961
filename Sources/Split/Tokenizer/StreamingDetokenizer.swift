/// Turns tokens into text one at a time for streaming output. A token can end in the middle
/// of a UTF-8 character (byte-level BPE splits emoji and CJK across tokens), so bytes of an
/// unfinished character are held back until the token that completes them arrives.
/// The concatenated output equals `tokenizer.decode(allIDs)`, except that a SentencePiece
/// `decode` also drops the space encoding put before the text: a stream continues text, so it
/// keeps every space.
public struct StreamingDetokenizer: Sendable {
    /// The tokenizer whose ids are decoded.
    public let tokenizer: BPETokenizer
    /// Whether special tokens are left out of the text.
    public let skipsSpecialTokens: Bool
    private var pending: [UInt8] = []

    /// A detokenizer with nothing held back.
    public init(tokenizer: BPETokenizer, skipsSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipsSpecialTokens = skipsSpecialTokens
    }

    /// The text that token `id` completes (possibly empty while a character is unfinished).
    public mutating func append(_ id: Int32) -> String {
        if skipsSpecialTokens, tokenizer.isSpecial(id) { return "" }
        pending += tokenizer.tokenBytes(id)
        let complete = Self.completePrefixLength(pending)
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is still held back, with an unfinished character shown as U+FFFD.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// The length of `bytes` without a trailing character that is started but not finished.
    /// Invalid bytes are not held back: no later byte could make them valid.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        // Look back at most 3 bytes for the lead byte of the last character.
        var index = bytes.count - 1
        while index >= 0, index >= bytes.count - 4 {
            let byte = bytes[index]
            if byte & 0xC0 != 0x80 {  // not a continuation byte
                let length: Int
                switch byte {
                case 0xC2...0xDF: length = 2
                case 0xE0...0xEF: length = 3
                case 0xF0...0xF4: length = 4
                default: return bytes.count  // ASCII or an invalid lead byte
                }
                return bytes.count - index < length ? index : bytes.count
            }
            index -= 1
        }
        return bytes.count
    }
}
