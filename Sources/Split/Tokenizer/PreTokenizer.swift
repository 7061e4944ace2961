/// The split patterns of the byte-level BPE tokenizers Split supports. Each is a hand-written
/// scanner equivalent to the regex it names: no regex engine, linear time, deterministic.
public enum PreTokenizerPattern: String, Sendable, Equatable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// Qwen2: as Llama 3 but with `\p{N}` (one digit per piece) instead of `\p{N}{1,3}`.
    case qwen2

    /// The regex each pattern implements, as it appears in tokenizer.json files.
    public var regex: String {
        switch self {
        case .gpt2: return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// The pattern whose regex is `regex`, or nil.
    public init?(regex: String) {
        guard let match = Self.allCases.first(where: { $0.regex == regex }) else { return nil }
        self = match
    }
}

/// Splits text into the pieces BPE runs on, as HF `tokenizers`' pre-tokenizers do.
public struct PreTokenizer: Sendable, Equatable {
    /// The split pattern.
    public var pattern: PreTokenizerPattern
    /// Whether every digit is first made a piece of its own (HF `Digits(individual_digits: true)`,
    /// used by SmolLM and StarCoder) before the pattern runs on what is between.
    public var splitsDigits: Bool

    /// A pre-tokenizer with `pattern`, optionally isolating digits first.
    public init(pattern: PreTokenizerPattern = .gpt2, splitsDigits: Bool = false) {
        self.pattern = pattern
        self.splitsDigits = splitsDigits
    }

    /// The byte ranges of the pieces of `bytes`, in order, covering every byte exactly once.
    /// Invalid UTF-8 is kept, grouped like punctuation.
    public func pieces(of bytes: [UInt8]) -> [Range<Int>] {
        let units = TextUnit.units(of: bytes)
        var ranges: [Range<Int>] = []
        var scanner = Scanner(units: units, pattern: pattern)
        var start = 0
        while start < units.count {
            var end = units.count
            if splitsDigits {
                // The run up to the next digit, or the digit itself.
                end = units[start].kind == .number ? start + 1 : (units[start...].firstIndex { $0.kind == .number } ?? units.count)
            }
            scanner.limit = end
            var position = start
            while position < end {
                let next = scanner.pieceEnd(from: position)
                ranges.append(units[position].start..<units[next - 1].end)
                position = next
            }
            start = end
        }
        return ranges
    }
}

/// The scanner behind `PreTokenizer`: from a position, where the regex's leftmost match ends.
private struct Scanner {
    let units: [TextUnit]
    let pattern: PreTokenizerPattern
    /// Matches never run past this unit index.
    var limit: Int

    init(units: [TextUnit], pattern: PreTokenizerPattern) {
        self.units = units
        self.pattern = pattern
        limit = units.count
    }

    func kind(_ index: Int) -> TextUnit.Kind? { index < limit ? units[index].kind : nil }

    /// The first index at or after `index` whose unit is not of `kind`, looking at most `maximum` units.
    func skip(_ kind: TextUnit.Kind, from index: Int, maximum: Int = .max) -> Int {
        var end = index
        while end < limit, end - index < maximum, units[end].kind == kind { end += 1 }
        return end
    }

    func pieceEnd(from start: Int) -> Int {
        switch pattern {
        case .gpt2: return gpt2End(from: start)
        case .llama3: return llamaEnd(from: start, digitsPerPiece: 3)
        case .qwen2: return llamaEnd(from: start, digitsPerPiece: 1)
        }
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, case-insensitively when asked.
    func contractionEnd(from start: Int, caseInsensitive: Bool) -> Int? {
        guard units[start].isApostrophe, start + 1 < limit else { return nil }
        func letter(_ index: Int) -> UInt32? {
            guard index < limit else { return nil }
            let value = units[index].value
            return caseInsensitive && (0x41...0x5A).contains(value) ? value + 0x20 : value
        }
        let first = letter(start + 1)
        if first == 0x73 || first == 0x74 || first == 0x6D || first == 0x64 { return start + 2 }  // s t m d
        let second = letter(start + 2)
        switch (first, second) {
        case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C): return start + 3  // re ve ll
        default: return nil
        }
    }

    /// `\s+(?!\S)|\s+`: a whitespace run leaves its last unit to the piece after it, unless the
    /// run ends the text or is a single unit.
    func whitespaceEnd(from start: Int) -> Int {
        let runEnd = skip(.whitespace, from: start)
        if runEnd == limit || runEnd - 1 == start { return runEnd }
        return runEnd - 1
    }

    func gpt2End(from start: Int) -> Int {
        if let end = contractionEnd(from: start, caseInsensitive: false) { return end }
        // ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`
        let body = units[start].isSpace && start + 1 < limit ? start + 1 : start
        if let kind = kind(body), kind != .whitespace { return skip(kind, from: body) }
        return whitespaceEnd(from: start)
    }

    func llamaEnd(from start: Int, digitsPerPiece: Int) -> Int {
        if let end = contractionEnd(from: start, caseInsensitive: true) { return end }
        let first = units[start]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if first.kind == .letter { return skip(.letter, from: start) }
        if first.kind != .number, !first.isNewline, kind(start + 1) == .letter { return skip(.letter, from: start + 1) }
        // `\p{N}{1,3}` (or `\p{N}`)
        if first.kind == .number { return skip(.number, from: start, maximum: digitsPerPiece) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let body = first.isSpace && start + 1 < limit ? start + 1 : start
        if kind(body) == .other {
            var end = skip(.other, from: body)
            while end < limit, units[end].isNewline { end += 1 }
            return end
        }
        // `\s*[\r\n]+`: through the last newline of the whitespace run.
        let runEnd = skip(.whitespace, from: start)
        if let lastNewline = units[start..<runEnd].lastIndex(where: \.isNewline) { return lastNewline + 1 }
        return whitespaceEnd(from: start)
    }
}
