/// What is wrong with a tokenizer file or with GGUF tokenizer metadata.
public enum TokenizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be parsed or lacks a required field.
    case invalidFile(path: String, reason: String)
    /// The tokenizer is of a kind Split does not implement (a Unigram model, an unknown regex, ...).
    case unsupported(String)
    /// A merge rule names a token, or produces one, that the vocabulary does not have.
    case invalidMerge(rank: Int, rule: String)
    /// The vocabulary lacks the token for a single byte, so some text could not be encoded.
    case missingByteToken(byte: UInt8)
    /// Two tokens share an id, or an id is negative or out of range.
    case invalidTokenID(token: String, id: Int)

    /// A message for the user saying what is wrong and where.
    public var description: String {
        switch self {
        case let .invalidFile(path, reason): return "\(path): invalid tokenizer: \(reason)"
        case let .unsupported(what): return "unsupported tokenizer: \(what)"
        case let .invalidMerge(rank, rule):
            return "merge rule \(rank) ('\(rule)') names or produces a token missing from the vocabulary"
        case let .missingByteToken(byte):
            return "the vocabulary has no token for byte 0x\(String(byte, radix: 16)), so some text cannot be encoded"
        case let .invalidTokenID(token, id): return "token '\(token)' has an invalid or duplicate id \(id)"
        }
    }
}
