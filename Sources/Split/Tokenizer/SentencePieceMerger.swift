/// SentencePiece BPE as llama.cpp runs it (`llm_tokenizer_spm_session`): the text is cut into
/// UTF-8 characters, then the adjacent pair whose joined text is the token of highest score is
/// merged, leftmost on ties, until no joined pair is a token. What is left and is not a token
/// becomes one byte token per byte (`<0xXX>`).
struct SentencePieceMerger {
    private struct Symbol {
        var start: Int
        var length: Int  // 0 once merged into the symbol on its left
        var previous: Int
        var next: Int  // -1 at the end
    }

    private struct Bigram: QueueOrdered {
        let left: Int
        let right: Int
        let score: Float
        let length: Int

        /// Whether this bigram is taken before `other`: higher score, then the one further left.
        func precedes(_ other: Bigram) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    /// The ids of `text` (spaces already written as "▁"), appended to `output`. `tokenID` finds
    /// the token spelled by some bytes, `score` gives a token's score, `byteToken` the token for
    /// one byte (nil when the vocabulary has none: the byte is dropped, as llama.cpp cannot encode it).
    static func tokenize(
        _ text: [UInt8], tokenID: (ArraySlice<UInt8>) -> Int32?, score: (Int32) -> Float, byteToken: (UInt8) -> Int32?,
        into output: inout [Int32]
    ) {
        guard !text.isEmpty else { return }
        var symbols: [Symbol] = []
        symbols.reserveCapacity(text.count)
        var offset = 0
        while offset < text.count {
            // The character's length from its lead byte alone, as llama.cpp's `unicode_len_utf8`.
            let length = min(Self.characterLength(text[offset]), text.count - offset)
            symbols.append(Symbol(start: offset, length: length, previous: symbols.count - 1,
                                  next: offset + length == text.count ? -1 : symbols.count + 1))
            offset += length
        }
        var queue = PriorityQueue<Bigram>()
        func addBigram(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let start = symbols[left].start
            let length = symbols[left].length + symbols[right].length
            guard let id = tokenID(text[start..<(start + length)]) else { return }
            queue.push(Bigram(left: left, right: right, score: score(id), length: length))
        }
        for index in 1..<symbols.count { addBigram(index - 1, index) }
        while let bigram = queue.pop() {
            let left = symbols[bigram.left]
            let right = symbols[bigram.right]
            // Skip a bigram made stale by an earlier merge of either side.
            guard left.length > 0, right.length > 0, left.length + right.length == bigram.length else { continue }
            symbols[bigram.left].length += right.length
            symbols[bigram.right].length = 0
            symbols[bigram.left].next = right.next
            if right.next >= 0 { symbols[right.next].previous = bigram.left }
            addBigram(symbols[bigram.left].previous, bigram.left)
            addBigram(bigram.left, symbols[bigram.left].next)
        }
        var index = 0
        while index != -1 {
            let symbol = symbols[index]
            let bytes = text[symbol.start..<(symbol.start + symbol.length)]
            // Every merge made a token, so only a single character can fail to be one.
            if let id = tokenID(bytes) {
                output.append(id)
            } else {
                for byte in bytes { if let id = byteToken(byte) { output.append(id) } }
            }
            index = symbol.next
        }
    }

    /// 1–4 from the high bits of a lead byte; continuation and invalid bytes count as 1.
    static func characterLength(_ byte: UInt8) -> Int {
        switch byte >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }
}
