/// One split in llama.cpp's sequence of pre-tokenizer regexes (`llm_tokenizer_bpe` in
/// `llama-vocab.cpp`). Each step cuts every piece left by the steps before it: a scanner step
/// covers its piece with matches; a regex step makes pieces of its matches and of the stretches
/// between them, as `unicode_regex_split` does. Hand-written, like `PreTokenizerPattern`: no
/// regex engine, linear time.
enum PreTokenizerStep: Equatable {
    /// The GPT-2 regex, as llama.cpp's `unicode_regex_split_custom_gpt2`.
    case gpt2
    /// The Llama 3 regex with runs of at most `digits` digits (Qwen2: 1).
    case llama3(digits: Int)
    /// `class` or `\s?class+`: one unit of the class, or a run of it, optionally after one whitespace.
    case match(CharacterClass, run: Bool, leadingWhitespace: Bool)
    /// `\s+$`: the whitespace that ends a piece.
    case trailingWhitespace
    /// `[0-9][0-9][0-9]`.
    case asciiDigitTriple

    /// The character classes of llama.cpp's split regexes.
    enum CharacterClass: Equatable {
        case newline  // [\r\n]
        case letter  // \p{L}
        case number  // \p{N}
        case punctuation  // \p{P}
        /// Falcon's `[\p{P}\$\+<=>\^~\|`]`.
        case falconPunctuation
        /// llama.cpp's default `[\p{P}\$\+<=>\^~\|]`.
        case defaultPunctuation
        /// DeepSeek LLM's explicit letter ranges (no CJK, no Khmer).
        case deepSeekLetter
        /// DeepSeek LLM's `[!-/:-~！-／：-～‘-‟　-。]`.
        case deepSeekPunctuation
        /// DeepSeek's `[一-龥ࠀ-一가-퟿]`: U+0800–U+9FA5 and U+AC00–U+D7FF.
        case cjk

        func contains(_ unit: TextUnit) -> Bool {
            let value = unit.value
            switch self {
            case .newline: return value == 0x0A || value == 0x0D
            case .letter: return unit.kind == .letter
            case .number: return unit.kind == .number
            case .punctuation: return unit.isPunctuation
            case .falconPunctuation: return unit.isPunctuation || Self.falconSymbols.contains(value)
            case .defaultPunctuation: return unit.isPunctuation || Self.defaultSymbols.contains(value)
            case .deepSeekLetter: return Self.inRanges(value, Self.deepSeekLetterRanges)
            case .deepSeekPunctuation: return Self.inRanges(value, Self.deepSeekPunctuationRanges)
            case .cjk: return (0x0800...0x9FA5).contains(value) || (0xAC00...0xD7FF).contains(value)
            }
        }

        private static let defaultSymbols: Set<UInt32> = Set("$+<=>^~|".unicodeScalars.map(\.value))
        private static let falconSymbols: Set<UInt32> = defaultSymbols.union(["`".unicodeScalars.first!.value])

        private static func inRanges(_ value: UInt32, _ ranges: [ClosedRange<UInt32>]) -> Bool {
            // Ranges are sorted and disjoint: binary search for the last range starting at or before value.
            var low = 0
            var high = ranges.count
            while low < high {
                let middle = (low + high) / 2
                if ranges[middle].lowerBound <= value { low = middle + 1 } else { high = middle }
            }
            return low > 0 && ranges[low - 1].contains(value)
        }

        private static func ranges(_ spec: String) -> [ClosedRange<UInt32>] {
            // `spec` is a regex character class body: single characters and `a-b` ranges.
            let scalars = spec.unicodeScalars.map(\.value)
            var ranges: [ClosedRange<UInt32>] = []
            var index = 0
            while index < scalars.count {
                if index + 2 < scalars.count, scalars[index + 1] == 0x2D {
                    ranges.append(scalars[index]...scalars[index + 2])
                    index += 3
                } else {
                    ranges.append(scalars[index]...scalars[index])
                    index += 1
                }
            }
            return ranges.sorted { $0.lowerBound < $1.lowerBound }
        }

        /// Copied from llama.cpp's LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM regex.
        private static let deepSeekLetterRanges = ranges(
            "A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃")
        private static let deepSeekPunctuationRanges = ranges("!-/:-~！-／：-～‘-‟　-。")
    }

    /// The steps llama.cpp runs for a pre-tokenizer, in order.
    static func steps(for pattern: PreTokenizerPattern, splitsDigits: Bool) -> [PreTokenizerStep] {
        let digits: [PreTokenizerStep] = splitsDigits ? [.match(.number, run: false, leadingWhitespace: false)] : []
        switch pattern {
        case .gpt2: return digits + [.gpt2]
        case .llama3: return digits + [.llama3(digits: 3)]
        case .qwen2: return digits + [.llama3(digits: 1)]
        case .deepSeekCoder:
            return [
                .match(.newline, run: false, leadingWhitespace: false),
                .match(.letter, run: true, leadingWhitespace: true),
                .match(.punctuation, run: true, leadingWhitespace: true),
                .match(.cjk, run: true, leadingWhitespace: false),
                .match(.number, run: false, leadingWhitespace: false),
            ]
        case .deepSeekLLM:
            return [
                .match(.newline, run: false, leadingWhitespace: false),
                .match(.deepSeekLetter, run: true, leadingWhitespace: true),
                .match(.deepSeekPunctuation, run: true, leadingWhitespace: true),
                .trailingWhitespace,
                .match(.cjk, run: true, leadingWhitespace: false),
                .match(.number, run: true, leadingWhitespace: false),
            ]
        case .falcon:
            return [.match(.falconPunctuation, run: true, leadingWhitespace: false), .gpt2, .asciiDigitTriple]
        case .llamaDefault:
            return [
                .match(.defaultPunctuation, run: true, leadingWhitespace: false), .gpt2,
                .match(.number, run: true, leadingWhitespace: false), .asciiDigitTriple,
            ]
        }
    }

    /// Where a match of this regex step starting at `start` ends, or nil when none starts there.
    func matchEnd(in units: [TextUnit], from start: Int, limit: Int) -> Int? {
        switch self {
        case .gpt2, .llama3: return nil  // scanners, not regex steps
        case let .match(characterClass, run, leadingWhitespace):
            var index = start
            if leadingWhitespace, units[index].kind == .whitespace, index + 1 < limit,
                characterClass.contains(units[index + 1])
            {
                index += 1
            }
            guard characterClass.contains(units[index]) else { return nil }
            index += 1
            while run, index < limit, characterClass.contains(units[index]) { index += 1 }
            return index
        case .trailingWhitespace:
            var index = start
            while index < limit, units[index].kind == .whitespace { index += 1 }
            return index == limit && index > start ? index : nil
        case .asciiDigitTriple:
            guard limit - start >= 3 else { return nil }
            for index in start..<(start + 3) where !(0x30...0x39).contains(units[index].value) { return nil }
            return start + 3
        }
    }
}
