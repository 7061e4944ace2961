/// Finds added tokens (`<|endoftext|>`, ...) in raw bytes, longest match first, so that they
/// are never split by the pre-tokenizer.
struct AddedTokenMatcher: Sendable {
    /// A stretch of input: ordinary text to pre-tokenize, or one added token.
    enum Segment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// Candidates by first byte, longest first.
    private let candidates: [UInt8: [(bytes: [UInt8], id: Int32, stripsAfter: Bool)]]

    init(_ tokens: [AddedToken]) {
        var candidates: [UInt8: [(bytes: [UInt8], id: Int32, stripsAfter: Bool)]] = [:]
        for token in tokens {
            let bytes = Array(token.content.utf8)
            guard let first = bytes.first else { continue }
            candidates[first, default: []].append((bytes, token.id, token.stripsWhitespaceAfter))
        }
        self.candidates = candidates.mapValues { $0.sorted { $0.bytes.count > $1.bytes.count } }
    }

    /// `bytes` cut into text and added tokens, in order.
    func segments(of bytes: [UInt8]) -> [Segment] {
        guard !candidates.isEmpty else { return bytes.isEmpty ? [] : [.text(0..<bytes.count)] }
        var segments: [Segment] = []
        var textStart = 0
        var index = 0
        while index < bytes.count {
            if let options = candidates[bytes[index]],
                let match = options.first(where: { matches($0.bytes, in: bytes, at: index) })
            {
                if textStart < index { segments.append(.text(textStart..<index)) }
                segments.append(.token(match.id))
                index += match.bytes.count
                // C `isspace`, as llama.cpp strips: space, \t, \n, \v, \f, \r.
                while match.stripsAfter, index < bytes.count, bytes[index] == 0x20 || (0x09...0x0D).contains(bytes[index]) {
                    index += 1
                }
                textStart = index
            } else {
                index += 1
            }
        }
        if textStart < bytes.count { segments.append(.text(textStart..<bytes.count)) }
        return segments
    }

    private func matches(_ token: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        guard bytes.count - index >= token.count else { return false }
        for offset in 0..<token.count where bytes[index + offset] != token[offset] { return false }
        return true
    }
}
