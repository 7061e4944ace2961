/// The split patterns of the byte-level BPE tokenizers Split supports, named as llama.cpp's
/// pre-tokenizer types. Each is hand-written (`Scanner`, `PreTokenizerStep`) to split where
/// llama.cpp's regexes do: no regex engine, linear time, deterministic.
public enum PreTokenizerPattern: String, Sendable, Equatable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// Qwen2: as Llama 3 but with `\p{N}` (one digit per piece) instead of `\p{N}{1,3}`.
    case qwen2
    /// DeepSeek Coder: newlines, `\s?\p{L}+`, `\s?\p{P}+`, CJK runs, single digits, in turn.
    case deepSeekCoder
    /// DeepSeek LLM: newlines, `\s?` + explicit letter ranges, `\s?` + ASCII/full-width
    /// punctuation, trailing whitespace, CJK runs, digit runs, in turn.
    case deepSeekLLM
    /// Falcon: punctuation runs, then GPT-2, then groups of three ASCII digits.
    case falcon
    /// llama.cpp's default for a GGUF file without `tokenizer.ggml.pre` (GPT-NeoX files):
    /// punctuation runs, GPT-2, digit runs, groups of three ASCII digits.
    case llamaDefault

    /// The regex a tokenizer.json `Split` step uses for this pattern; nil for the patterns
    /// that are a sequence of regexes (only read from GGUF).
    public var regex: String? {
        switch self {
        case .gpt2: return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .deepSeekCoder, .deepSeekLLM, .falcon, .llamaDefault: return nil
        }
    }

    /// The pattern whose regex is `regex`, or nil.
    public init?(regex: String) {
        guard let match = Self.allCases.first(where: { $0.regex == regex }) else { return nil }
        self = match
    }
}

/// Splits text into the pieces BPE runs on, as llama.cpp's and HF `tokenizers`' pre-tokenizers do.
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
        guard !units.isEmpty else { return [] }
        var pieces = [0..<units.count]  // unit indices
        var scanner = Scanner(units: units)
        for step in PreTokenizerStep.steps(for: pattern, splitsDigits: splitsDigits) {
            var next: [Range<Int>] = []
            next.reserveCapacity(pieces.count * 2)
            for piece in pieces {
                switch step {
                case .gpt2, .llama3:
                    scanner.limit = piece.upperBound
                    var position = piece.lowerBound
                    while position < piece.upperBound {
                        let end = scanner.pieceEnd(from: position, step: step)
                        next.append(position..<end)
                        position = end
                    }
                default:
                    // Matches and the stretches between them, as `unicode_regex_split` keeps both.
                    var position = piece.lowerBound
                    var gapStart = position
                    while position < piece.upperBound {
                        if let end = step.matchEnd(in: units, from: position, limit: piece.upperBound) {
                            if gapStart < position { next.append(gapStart..<position) }
                            next.append(position..<end)
                            position = end
                            gapStart = end
                        } else {
                            position += 1
                        }
                    }
                    if gapStart < piece.upperBound { next.append(gapStart..<piece.upperBound) }
                }
            }
            pieces = next
        }
        return pieces.map { units[$0.lowerBound].start..<units[$0.upperBound - 1].end }
    }
}

/// The scanner behind `PreTokenizer`: from a position, where the regex's leftmost match ends.
private struct Scanner {
    let units: [TextUnit]
    /// Matches never run past this unit index.
    var limit: Int

    init(units: [TextUnit]) {
        self.units = units
        limit = units.count
    }

    func kind(_ index: Int) -> TextUnit.Kind? { index < limit ? units[index].kind : nil }

    /// The first index at or after `index` whose unit is not of `kind`, looking at most `maximum` units.
    func skip(_ kind: TextUnit.Kind, from index: Int, maximum: Int = .max) -> Int {
        var end = index
        while end < limit, end - index < maximum, units[end].kind == kind { end += 1 }
        return end
    }

    /// Where the piece starting at `start` ends under a scanner step (`.gpt2` or `.llama3`).
    func pieceEnd(from start: Int, step: PreTokenizerStep) -> Int {
        if case let .llama3(digits) = step { return llamaEnd(from: start, digitsPerPiece: digits) }
        return gpt2End(from: start)
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
