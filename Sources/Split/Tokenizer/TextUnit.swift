/// One character of text as the pre-tokenizer sees it: a Unicode scalar (or a run of bytes
/// that are not valid UTF-8) with its byte range in the input and its regex class.
struct TextUnit {
    /// The regex classes the split patterns distinguish.
    enum Kind: UInt8 {
        case letter  // \p{L}
        case number  // \p{N}
        case whitespace  // \s (Unicode White_Space)
        case other  // anything else, including invalid UTF-8
    }

    /// Byte offset of the unit in the input.
    let start: Int
    /// Byte offset just past the unit.
    let end: Int
    /// The scalar value; `invalid` for bytes that are not UTF-8.
    let value: UInt32
    let kind: Kind

    static let invalid: UInt32 = .max

    /// Splits `bytes` into units. Invalid UTF-8 becomes units of kind `.other` covering the bad
    /// bytes, so that every byte sequence can be pre-tokenized and nothing is lost.
    static func units(of bytes: [UInt8]) -> [TextUnit] {
        var units: [TextUnit] = []
        units.reserveCapacity(bytes.count)
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                units.append(TextUnit(start: offset, end: offset + encoded.count, value: scalar.value, kind: kind(of: scalar)))
                offset += encoded.count
            case let .error(length):
                units.append(TextUnit(start: offset, end: offset + length, value: invalid, kind: .other))
                offset += length
            case .emptyInput:
                return units
            }
        }
    }

    /// The class of a scalar, with an ASCII fast path.
    static func kind(of scalar: Unicode.Scalar) -> Kind {
        let value = scalar.value
        if value < 0x80 {
            switch value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .whitespace
            default: return .other
            }
        }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// `\p{P}`: a Unicode punctuation character (general category P*).
    var isPunctuation: Bool {
        guard value != Self.invalid, let scalar = Unicode.Scalar(value) else { return false }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    var isNewline: Bool { value == 0x0A || value == 0x0D }
    var isSpace: Bool { value == 0x20 }
    var isApostrophe: Bool { value == 0x27 }
}
