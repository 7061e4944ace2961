import Foundation

/// The parts of a Hugging Face tokenizer.json that byte-level BPE needs.
struct TokenizerJSON: Decodable {
    struct Model: Decodable {
        let type: String?
        let vocab: [String: Int32]
        let merges: [Pair]
        let ignoreMerges: Bool?
        let continuingSubwordPrefix: String?
        let endOfWordSuffix: String?

        enum CodingKeys: String, CodingKey {
            case type, vocab, merges
            case ignoreMerges = "ignore_merges"
            case continuingSubwordPrefix = "continuing_subword_prefix"
            case endOfWordSuffix = "end_of_word_suffix"
        }
    }

    /// A merge rule, written either as "a b" or as ["a", "b"].
    struct Pair: Decodable {
        let left: String
        let right: String

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let rule = try? container.decode(String.self) {
                let parts = rule.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "merge '\(rule)' is not two tokens")
                }
                (left, right) = (String(parts[0]), String(parts[1]))
            } else {
                let parts = try container.decode([String].self)
                guard parts.count == 2 else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "merge \(parts) is not two tokens")
                }
                (left, right) = (parts[0], parts[1])
            }
        }
    }

    struct Added: Decodable {
        let id: Int32
        let content: String
        let special: Bool?
    }

    /// A pre-tokenizer or normalizer node; `Sequence` nodes nest.
    struct Node: Decodable {
        let type: String
        let addPrefixSpace: Bool?
        let useRegex: Bool?
        let individualDigits: Bool?
        let pattern: Pattern?
        let behavior: String?
        let invert: Bool?
        let pretokenizers: [Node]?
        let normalizers: [Node]?

        enum CodingKeys: String, CodingKey {
            case type, pattern, behavior, invert, pretokenizers, normalizers
            case addPrefixSpace = "add_prefix_space"
            case useRegex = "use_regex"
            case individualDigits = "individual_digits"
        }
    }

    struct Pattern: Decodable {
        let regex: String?
        let string: String?
        enum CodingKeys: String, CodingKey {
            case regex = "Regex"
            case string = "String"
        }
    }

    let model: Model
    let addedTokens: [Added]?
    let preTokenizer: Node?
    let normalizer: Node?

    enum CodingKeys: String, CodingKey {
        case model, normalizer
        case addedTokens = "added_tokens"
        case preTokenizer = "pre_tokenizer"
    }

    /// The pre-tokenizer and prefix-space setting this file describes.
    /// - Throws: `TokenizerError.unsupported` for pre-tokenizers Split does not implement.
    func preTokenization() throws -> (PreTokenizer, addsPrefixSpace: Bool) {
        guard let root = preTokenizer else {
            throw TokenizerError.unsupported("no pre_tokenizer (a byte-level BPE needs ByteLevel)")
        }
        let steps = root.type == "Sequence" ? (root.pretokenizers ?? []) : [root]
        var pattern: PreTokenizerPattern?
        var splitsDigits = false
        var addsPrefixSpace = false
        var sawByteLevel = false
        for (position, step) in steps.enumerated() {
            switch step.type {
            case "Digits" where position == 0 && step.individualDigits == true:
                splitsDigits = true
            case "Split" where pattern == nil && step.invert != true && (step.behavior ?? "Isolated") == "Isolated":
                guard let regex = step.pattern?.regex, let known = PreTokenizerPattern(regex: regex) else {
                    throw TokenizerError.unsupported("Split pre-tokenizer pattern \(step.pattern?.regex ?? step.pattern?.string ?? "?")")
                }
                pattern = known
            case "ByteLevel" where position == steps.count - 1:
                sawByteLevel = true
                addsPrefixSpace = step.addPrefixSpace ?? false
                if step.useRegex ?? true {
                    guard pattern == nil else { throw TokenizerError.unsupported("Split followed by ByteLevel with use_regex") }
                    pattern = .gpt2
                }
            default:
                throw TokenizerError.unsupported("pre-tokenizer step \(position) of type \(step.type)")
            }
        }
        guard sawByteLevel, let pattern else {
            throw TokenizerError.unsupported("pre-tokenizer without a final ByteLevel step and a split pattern")
        }
        return (PreTokenizer(pattern: pattern, splitsDigits: splitsDigits), addsPrefixSpace)
    }

    /// Whether text must be NFC-normalized first.
    /// - Throws: `TokenizerError.unsupported` for any normalizer other than NFC.
    func normalizesToNFC() throws -> Bool {
        guard let normalizer else { return false }
        let steps = normalizer.type == "Sequence" ? (normalizer.normalizers ?? []) : [normalizer]
        for step in steps where step.type != "NFC" {
            throw TokenizerError.unsupported("normalizer \(step.type)")
        }
        return !steps.isEmpty
    }
}

extension BPETokenizer {
    /// Loads a Hugging Face tokenizer.json (byte-level BPE). BOS/EOS come from the
    /// tokenizer_config.json beside it when there is one, else `<|endoftext|>` is the EOS.
    /// - Throws: `TokenizerError` for files that are malformed or not byte-level BPE,
    ///   `MappedFileError` when the file cannot be read.
    public convenience init(tokenizerJSONPath path: String) throws {
        let spec: TokenizerJSON
        do {
            spec = try JSONDecoder().decode(TokenizerJSON.self, from: try Self.contents(of: path))
        } catch let error as DecodingError {
            throw TokenizerError.invalidFile(path: path, reason: Self.describe(error))
        }
        guard (spec.model.type ?? "BPE") == "BPE" else {
            throw TokenizerError.unsupported("model type \(spec.model.type ?? "?") (only BPE is implemented)")
        }
        guard (spec.model.continuingSubwordPrefix ?? "").isEmpty, (spec.model.endOfWordSuffix ?? "").isEmpty else {
            throw TokenizerError.unsupported("BPE with a subword prefix or end-of-word suffix")
        }
        let (preTokenizer, addsPrefixSpace) = try spec.preTokenization()
        let added = (spec.addedTokens ?? []).map { AddedToken(content: $0.content, id: $0.id, isSpecial: $0.special ?? false) }
        let config = TokenizerConfig(directory: (path as NSString).deletingLastPathComponent)
        func id(of token: String?) -> Int32? {
            token.flatMap { name in added.first { $0.content == name }?.id ?? spec.model.vocab[name] }
        }
        let eos = id(of: config?.eosToken ?? "<|endoftext|>")
        try self.init(
            vocabulary: spec.model.vocab, merges: spec.model.merges.map { ($0.left, $0.right) }, addedTokens: added,
            preTokenizer: preTokenizer, addsPrefixSpace: addsPrefixSpace, ignoresMerges: spec.model.ignoreMerges ?? false,
            normalizesToNFC: try spec.normalizesToNFC(),
            bosTokenID: id(of: config?.bosToken), eosTokenID: eos, addsBOSToken: config?.addsBOSToken ?? false)
    }

    static func contents(of path: String) throws -> Data {
        let file = try MappedFile(path: path)
        return withExtendedLifetime(file) { Data(file.bytes) }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .dataCorrupted(context): return context.debugDescription
        case let .keyNotFound(key, context):
            return "missing '\(key.stringValue)' in \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// The few fields of tokenizer_config.json that matter here.
struct TokenizerConfig: Decodable {
    let bosToken: String?
    let eosToken: String?
    let addsBOSToken: Bool?

    enum CodingKeys: String, CodingKey {
        case bosToken = "bos_token"
        case eosToken = "eos_token"
        case addsBOSToken = "add_bos_token"
    }

    /// A token is written either as a string or as `{"content": ...}`.
    private struct TokenSpec: Decodable {
        let content: String
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                content = text
            } else {
                content = try decoder.container(keyedBy: DynamicCodingKey.self)
                    .decode(String.self, forKey: DynamicCodingKey(stringValue: "content"))
            }
        }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        bosToken = (try? container.decodeIfPresent(TokenSpec.self, forKey: .bosToken))?.content
        eosToken = (try? container.decodeIfPresent(TokenSpec.self, forKey: .eosToken))?.content
        addsBOSToken = try? container.decodeIfPresent(Bool.self, forKey: .addsBOSToken)
    }

    /// The config in `directory`, or nil when there is none or it cannot be parsed.
    init?(directory: String) {
        let path = directory + "/tokenizer_config.json"
        guard FileManager.default.fileExists(atPath: path),
            let data = try? BPETokenizer.contents(of: path),
            let config = try? JSONDecoder().decode(TokenizerConfig.self, from: data)
        else { return nil }
        self = config
    }
}
