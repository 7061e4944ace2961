import Foundation

/// A token that is matched verbatim in the input before pre-tokenization (`<|endoftext|>`,
/// chat markers, ...), from tokenizer.json's `added_tokens` or GGUF control tokens.
public struct AddedToken: Sendable, Equatable {
    /// The token's text.
    public let content: String
    /// Its id.
    public let id: Int32
    /// Whether it is a special (control) token, which `decode(skippingSpecialTokens:)` can leave out.
    public let isSpecial: Bool

    /// An added token.
    public init(content: String, id: Int32, isSpecial: Bool) {
        self.content = content
        self.id = id
        self.isSpecial = isSpecial
    }
}

/// How a tokenizer turns a stretch of text into tokens (GGUF `tokenizer.ggml.model`).
public enum TokenizerModel: String, Sendable, Equatable {
    /// Byte-level BPE with merge ranks (GPT-2, Llama 3, Qwen2, StarCoder, DeepSeek; GGUF "gpt2").
    case byteLevelBPE = "gpt2"
    /// SentencePiece BPE with token scores, "▁" for spaces and `<0xXX>` byte fallback
    /// (Llama 2, TinyLlama, Mistral, CodeLlama, Phi-3, Gemma; GGUF "llama").
    case sentencePiece = "llama"
}

/// A BPE tokenizer: byte-level BPE as in GPT-2 and HF `tokenizers`, or SentencePiece BPE as in
/// llama.cpp (`model`). Added tokens are matched first; the rest is pre-tokenized and merged by
/// rank (byte-level) or by score (SentencePiece). Byte-level: `decodeBytes(encodeBytes(b)) == b`
/// for every byte sequence its vocabulary can spell.
public final class BPETokenizer: Sendable {
    /// Highest token id accepted from a file (vocabularies are ~256 K; this is far above).
    public static let maxTokenID = 1 << 24

    /// Byte-level BPE or SentencePiece.
    public let model: TokenizerModel
    /// Number of ids (one more than the highest id).
    public let vocabularySize: Int
    /// Beginning-of-sequence token, if the tokenizer has one.
    public let bosTokenID: Int32?
    /// End-of-sequence token, if the tokenizer has one.
    public let eosTokenID: Int32?
    /// The unknown token (`<unk>`), if the tokenizer has one.
    public let unknownTokenID: Int32?
    /// Whether prompts should start with the BOS token (the caller adds it: `encode` never does).
    public let addsBOSToken: Bool
    /// Whether prompts should end with the EOS token (`add_eos_token`; the caller adds it).
    public let addsEOSToken: Bool
    /// How text is split before byte-level BPE (unused by SentencePiece).
    public let preTokenizer: PreTokenizer
    /// Whether a space is put before text (HF `add_prefix_space`; SentencePiece
    /// `add_space_prefix`: before the text and after each added token, and dropped again by `decode`).
    public let addsPrefixSpace: Bool
    /// Whether a piece that is itself in the vocabulary skips merging (HF `ignore_merges`, Llama 3).
    public let ignoresMerges: Bool
    /// Whether text is NFC-normalized before encoding (HF `NFC` normalizer, Qwen2).
    public let normalizesToNFC: Bool
    /// The added tokens (control, unknown and user-defined), by id.
    public let addedTokens: [AddedToken]
    /// Chat and fill-in-the-middle token ids named by the model's metadata.
    public let specialTokenIDs: SpecialTokenIDs
    /// The model's chat template (Jinja source, GGUF `tokenizer.chat_template`), if it has one.
    public let chatTemplate: String?
    /// Bytes no token stands for (GGUF vocabularies lack some control characters and bytes that
    /// never occur in UTF-8); such a byte in the input is dropped, as llama.cpp drops it.
    public let unencodableBytes: [UInt8]

    /// Each id's bytes and spelling (empty for ids the vocabulary skips).
    private let bytesOfID: PackedByteStrings
    private let tokenOfID: PackedByteStrings
    /// Spelling (of a vocabulary entry or an added token's text) → id, through `tokenOfID`.
    private let idOfToken: TokenIndex
    private let specialIDs: Set<Int32>
    /// The merge rules in rank order as (left id, right id) pairs, repeats included (kept for
    /// exporting to GGUF; ids rather than spellings: 8 bytes a rule instead of ~25).
    private let mergePairs: [UInt64]
    private let addedIDs: Set<Int32>
    /// The token of each byte, -1 where there is none.
    private let idOfByte: [Int32]
    private let merges: [UInt64: Merge]
    /// Every added token, and only the user-defined ones (matched even when special tokens are
    /// not parsed, as llama.cpp and HF do).
    private let addedMatcher: AddedTokenMatcher
    private let userDefinedMatcher: AddedTokenMatcher
    /// SentencePiece: each id's score and GGUF token type (empty for byte-level BPE).
    let scores: [Float]
    let ggmlTypes: [UInt8]
    private let cache = BPECache()

    struct Merge: Sendable {
        let rank: Int32
        let result: Int32
    }

    /// Everything a tokenizer holds, built by one of the two model-specific initializers.
    private struct Parts {
        var model: TokenizerModel
        var bytesOfID: PackedByteStrings
        var tokenOfID: PackedByteStrings
        var idOfToken: [String: Int32]
        var idOfByte: [Int32]
        var merges: [UInt64: Merge] = [:]
        var mergePairs: [UInt64] = []
        var scores: [Float] = []
        var ggmlTypes: [UInt8] = []
        var addedTokens: [AddedToken]
        var size: Int
    }

    /// Options shared by both models.
    struct Settings {
        var preTokenizer = PreTokenizer()
        var addsPrefixSpace = false
        var ignoresMerges = false
        var normalizesToNFC = false
        var bosTokenID: Int32?
        var eosTokenID: Int32?
        var unknownTokenID: Int32?
        var addsBOSToken = false
        var addsEOSToken = false
        var specialTokenIDs = SpecialTokenIDs()
        var chatTemplate: String?
    }

    /// Bytes a vocabulary may lack: those in no valid UTF-8 (0xC0, 0xC1, 0xF5–0xFF), lead bytes
    /// only of unassigned planes 4–11 (0xF1, 0xF2), and ASCII control characters other than
    /// tab, line feed and carriage return. Real vocabularies (Falcon, StarCoder, GPT-NeoX) lack some.
    static func mayLackToken(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x09, 0x0A, 0x0D: return false
        case 0x00...0x1F, 0x7F, 0xC0, 0xC1, 0xF1, 0xF2, 0xF5...0xFF: return true
        default: return false
        }
    }

    private init(_ parts: Parts, _ settings: Settings) throws {
        for id in [settings.bosTokenID, settings.eosTokenID, settings.unknownTokenID].compactMap({ $0 })
        where Int(id) >= parts.size || id < 0 {
            throw TokenizerError.invalidTokenID(token: "bos/eos/unk", id: Int(id))
        }
        model = parts.model
        idOfToken = TokenIndex(parts.idOfToken, spellings: parts.tokenOfID)
        bytesOfID = parts.bytesOfID
        tokenOfID = parts.tokenOfID
        idOfByte = parts.idOfByte
        merges = parts.merges
        mergePairs = parts.mergePairs
        scores = parts.scores
        ggmlTypes = parts.ggmlTypes
        addedTokens = parts.addedTokens
        specialIDs = Set(parts.addedTokens.filter(\.isSpecial).map(\.id))
        addedIDs = Set(parts.addedTokens.map(\.id))
        addedMatcher = AddedTokenMatcher(parts.addedTokens)
        userDefinedMatcher = AddedTokenMatcher(parts.addedTokens.filter { !$0.isSpecial })
        unencodableBytes = (0..<256).filter { parts.idOfByte[$0] < 0 }.map(UInt8.init)
        vocabularySize = parts.size
        preTokenizer = settings.preTokenizer
        addsPrefixSpace = settings.addsPrefixSpace
        ignoresMerges = settings.ignoresMerges
        normalizesToNFC = settings.normalizesToNFC
        bosTokenID = settings.bosTokenID
        eosTokenID = settings.eosTokenID
        unknownTokenID = settings.unknownTokenID
        addsBOSToken = settings.addsBOSToken
        addsEOSToken = settings.addsEOSToken
        specialTokenIDs = settings.specialTokenIDs
        chatTemplate = settings.chatTemplate
    }

    /// A byte-level BPE tokenizer from its parts. `vocabulary` spells tokens with `ByteEncoder`
    /// characters; `merges` are in rank order.
    /// - Throws: `TokenizerError` when ids are invalid, a byte that text needs has no token, or
    ///   a merge names a token the vocabulary lacks.
    public convenience init(
        vocabulary: [String: Int32], merges mergeRules: [(String, String)], addedTokens: [AddedToken],
        preTokenizer: PreTokenizer = PreTokenizer(), addsPrefixSpace: Bool = false, ignoresMerges: Bool = false,
        normalizesToNFC: Bool = false, bosTokenID: Int32? = nil, eosTokenID: Int32? = nil, addsBOSToken: Bool = false
    ) throws {
        var settings = Settings()
        settings.preTokenizer = preTokenizer
        settings.addsPrefixSpace = addsPrefixSpace
        settings.ignoresMerges = ignoresMerges
        settings.normalizesToNFC = normalizesToNFC
        settings.bosTokenID = bosTokenID
        settings.eosTokenID = eosTokenID
        settings.addsBOSToken = addsBOSToken
        try self.init(vocabulary: vocabulary, merges: mergeRules, addedTokens: addedTokens, settings: settings)
    }

    /// A byte-level BPE tokenizer with every setting.
    /// - Throws: as `init(vocabulary:merges:addedTokens:...)`.
    convenience init(
        vocabulary: [String: Int32], merges mergeRules: [(String, String)], addedTokens: [AddedToken], settings: Settings
    ) throws {
        var idOfToken = vocabulary
        var size = 0
        for (token, id) in vocabulary {
            guard id >= 0, Int(id) <= Self.maxTokenID else { throw TokenizerError.invalidTokenID(token: token, id: Int(id)) }
            size = max(size, Int(id) + 1)
        }
        for added in addedTokens {
            guard added.id >= 0, Int(added.id) <= Self.maxTokenID else {
                throw TokenizerError.invalidTokenID(token: added.content, id: Int(added.id))
            }
            idOfToken[added.content] = added.id
            size = max(size, Int(added.id) + 1)
        }
        var spellingOfID = [String?](repeating: nil, count: size)
        for (token, id) in vocabulary {
            guard spellingOfID[Int(id)] == nil else { throw TokenizerError.invalidTokenID(token: token, id: Int(id)) }
            spellingOfID[Int(id)] = token
        }
        var addedOfID: [Int32: String] = [:]
        for added in addedTokens { addedOfID[added.id] = added.content }
        var bytesOfID = PackedByteStrings(reservingCount: size, totalBytes: 8 * size)
        var tokenOfID = PackedByteStrings(reservingCount: size, totalBytes: 8 * size)
        for id in 0..<size {
            if let content = addedOfID[Int32(id)] {
                try bytesOfID.append(content.utf8)
                try tokenOfID.append(content.utf8)
            } else if let token = spellingOfID[id] {
                // Tokens outside the byte alphabet (rare) stand for their own UTF-8.
                if let bytes = ByteEncoder.decode(token) { try bytesOfID.append(bytes) } else { try bytesOfID.append(token.utf8) }
                try tokenOfID.append(token.utf8)
            } else {
                try bytesOfID.append(EmptyCollection())
                try tokenOfID.append(EmptyCollection())
            }
        }
        var idOfByte = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            // Any token spelled as the byte's character, added tokens included, as llama.cpp looks it up.
            if let id = idOfToken[String(ByteEncoder.characterOfByte[byte])] {
                idOfByte[byte] = id
            } else if !Self.mayLackToken(UInt8(byte)) {
                throw TokenizerError.missingByteToken(byte: UInt8(byte))
            }
        }
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(mergeRules.count)
        var mergePairs: [UInt64] = []
        mergePairs.reserveCapacity(mergeRules.count)
        for (rank, rule) in mergeRules.enumerated() {
            guard let left = vocabulary[rule.0], let right = vocabulary[rule.1], let result = vocabulary[rule.0 + rule.1]
            else { throw TokenizerError.invalidMerge(rank: rank, rule: rule.0 + " " + rule.1) }
            let key = Self.pairKey(left, right)
            mergePairs.append(key)
            // A repeated rule keeps its first (highest-priority) rank, as HF does.
            if merges[key] == nil { merges[key] = Merge(rank: Int32(rank), result: result) }
        }
        let parts = Parts(
            model: .byteLevelBPE, bytesOfID: bytesOfID, tokenOfID: tokenOfID, idOfToken: idOfToken, idOfByte: idOfByte,
            merges: merges, mergePairs: mergePairs, addedTokens: addedTokens, size: size)
        try self.init(parts, settings)
    }

    /// A SentencePiece tokenizer from GGUF-style parts: every id's text ("▁" for a space),
    /// score and ggml token type (`GGMLTokenType`). Control and unknown tokens become special
    /// added tokens, user-defined ones plain added tokens.
    /// - Throws: `TokenizerError` when the arrays disagree in length or an id is out of range.
    convenience init(sentencePieceTokens tokens: [String], scores: [Float], types: [Int], settings: Settings) throws {
        guard scores.count == tokens.count, types.count == tokens.count else {
            throw TokenizerError.invalidFile(
                path: "GGUF metadata",
                reason: "\(tokens.count) tokens but \(scores.count) scores and \(types.count) token types")
        }
        guard tokens.count <= Self.maxTokenID else {
            throw TokenizerError.invalidTokenID(token: tokens.last ?? "", id: tokens.count - 1)
        }
        var bytesOfID = PackedByteStrings(reservingCount: tokens.count, totalBytes: 8 * tokens.count)
        var tokenOfID = PackedByteStrings(reservingCount: tokens.count, totalBytes: 8 * tokens.count)
        var idOfToken: [String: Int32] = [:]
        idOfToken.reserveCapacity(tokens.count)
        var idOfByte = [Int32](repeating: -1, count: 256)
        var byteTokenOfByte = [Int32](repeating: -1, count: 256)
        var added: [AddedToken] = []
        var ggmlTypes = [UInt8](repeating: 0, count: tokens.count)
        for (index, token) in tokens.enumerated() {
            let id = Int32(index)
            // A repeated spelling maps to its last id, as llama.cpp's `token_to_id` does.
            idOfToken[token] = id
            try tokenOfID.append(token.utf8)
            let type = GGMLTokenType(rawValue: types[index]) ?? .undefined
            ggmlTypes[index] = UInt8(clamping: types[index])
            switch type {
            case .byte:
                guard let byte = Self.byteOfFallbackToken(token) else {
                    throw TokenizerError.invalidFile(path: "GGUF metadata", reason: "byte token \(index) is spelled '\(token)', not <0xXX>")
                }
                byteTokenOfByte[Int(byte)] = id
                try bytesOfID.append(CollectionOfOne(byte))
            case .control, .unknown:
                added.append(AddedToken(content: token, id: id, isSpecial: true))
                try bytesOfID.append(token.utf8)
            case .userDefined:
                added.append(AddedToken(content: token, id: id, isSpecial: false))
                try bytesOfID.append(token.utf8)
            default:
                try bytesOfID.append(Self.unescapingSpaces(Array(token.utf8)))
            }
        }
        for byte in 0..<256 {
            // `<0xXX>` first, else a token spelled as the byte itself (llama.cpp's `byte_to_token`).
            if byteTokenOfByte[byte] >= 0 {
                idOfByte[byte] = byteTokenOfByte[byte]
            } else if let id = idOfToken[String(decoding: [UInt8(byte)], as: UTF8.self)], byte < 0x80 {
                idOfByte[byte] = id
            }
        }
        let parts = Parts(
            model: .sentencePiece, bytesOfID: bytesOfID, tokenOfID: tokenOfID, idOfToken: idOfToken, idOfByte: idOfByte,
            scores: scores, ggmlTypes: ggmlTypes, addedTokens: added, size: tokens.count)
        try self.init(parts, settings)
    }

    /// The byte of a SentencePiece byte token `<0xXX>`.
    static func byteOfFallbackToken(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    /// "▁" (E2 96 81) written as a space.
    static func unescapingSpaces(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index] == 0xE2, bytes[index + 1] == 0x96, bytes[index + 2] == 0x81 {
                result.append(0x20)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }

    /// Spaces written as "▁".
    static func escapingSpaces<Bytes: Sequence<UInt8>>(_ bytes: Bytes, into result: inout [UInt8]) {
        for byte in bytes {
            if byte == 0x20 { result += [0xE2, 0x96, 0x81] } else { result.append(byte) }
        }
    }

    private static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    // MARK: - Encoding

    /// The ids of `text`. Added tokens in the text become their ids when `parsingSpecialTokens`
    /// is true; otherwise they are encoded as ordinary text. No BOS is added.
    public func encode(_ text: String, parsingSpecialTokens: Bool = true) -> [Int32] {
        let normalized = normalizesToNFC ? text.precomposedStringWithCanonicalMapping : text
        return encodeBytes(Array(normalized.utf8), parsingSpecialTokens: parsingSpecialTokens)
    }

    /// The ids of any byte sequence, valid UTF-8 or not. User-defined added tokens are matched
    /// whether or not `parsingSpecialTokens` is set, as in llama.cpp and HF `tokenizers`.
    public func encodeBytes(_ bytes: [UInt8], parsingSpecialTokens: Bool = true) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(bytes.count / 3 + 1)
        let segments = (parsingSpecialTokens ? addedMatcher : userDefinedMatcher).segments(of: bytes)
        switch model {
        case .byteLevelBPE:
            for segment in segments {
                switch segment {
                case let .token(id): ids.append(id)
                case let .text(range):
                    var text = Array(bytes[range])
                    if addsPrefixSpace, text.first != 0x20 { text.insert(0x20, at: 0) }
                    for piece in preTokenizer.pieces(of: text) { ids += encodePiece(text[piece]) }
                }
            }
        case .sentencePiece:
            // As llama.cpp: the prefix space goes before the text and after every added token.
            var followsToken = true
            for segment in segments {
                switch segment {
                case let .token(id):
                    ids.append(id)
                    followsToken = true
                case let .text(range):
                    var text: [UInt8] = []
                    text.reserveCapacity(range.count + 8)
                    if addsPrefixSpace, followsToken { Self.escapingSpaces(CollectionOfOne(0x20), into: &text) }
                    Self.escapingSpaces(bytes[range], into: &text)
                    SentencePieceMerger.tokenize(
                        text, tokenID: { self.idOfToken.id(of: Array($0), spellings: self.tokenOfID) },
                        score: { self.scores[Int($0)] },
                        byteToken: { self.idOfByte[Int($0)] >= 0 ? self.idOfByte[Int($0)] : self.unknownTokenID },
                        into: &ids)
                    followsToken = false
                }
            }
        }
        return ids
    }

    /// Pieces longer than this are not cached: they rarely repeat and would crowd the cache.
    static let maxCachedPieceLength = 256

    /// BPE on one pre-tokenized piece, cached by its bytes.
    private func encodePiece(_ piece: ArraySlice<UInt8>) -> [Int32] {
        if piece.count == 1 {
            let id = idOfByte[Int(piece[piece.startIndex])]
            return id >= 0 ? [id] : []
        }
        let key = Array(piece)
        let cacheable = key.count <= Self.maxCachedPieceLength
        if cacheable, let cached = cache[key] { return cached }
        let ids: [Int32]
        if ignoresMerges, let whole = idOfToken.id(of: Array(ByteEncoder.encode(key).utf8), spellings: tokenOfID),
           !addedIDs.contains(whole) {
            ids = [whole]
        } else {
            ids = BPEMerger.merge(key.map { idOfByte[Int($0)] }) { merges[Self.pairKey($0, $1)] }
                .filter { $0 >= 0 }  // a byte without a token is dropped, as llama.cpp drops it
        }
        if cacheable { cache[key] = ids }
        return ids
    }

    // MARK: - Decoding

    /// The bytes token `id` stands for (empty for an unknown id). Streaming output concatenates
    /// these and cuts at UTF-8 boundaries.
    public func tokenBytes(_ id: Int32) -> [UInt8] {
        guard id >= 0, Int(id) < bytesOfID.count else { return [] }
        return Array(bytesOfID[Int(id)])
    }

    /// The token's spelling as stored in the vocabulary ("Ġthe"), or nil for an unknown id.
    public func tokenString(_ id: Int32) -> String? {
        guard id >= 0, Int(id) < tokenOfID.count, !tokenOfID[Int(id)].isEmpty else { return nil }
        return tokenOfID.string(Int(id))
    }

    /// The merge rules in rank order, as token spellings (for exporting to GGUF).
    var mergeRules: [(String, String)] {
        mergePairs.map { pair in
            (tokenOfID.string(Int(UInt32(truncatingIfNeeded: pair >> 32))), tokenOfID.string(Int(UInt32(truncatingIfNeeded: pair))))
        }
    }

    /// The id of a token spelled (byte for byte) as in the vocabulary, or of an added token's text.
    public func tokenID(_ token: String) -> Int32? { idOfToken.id(of: Array(token.utf8), spellings: tokenOfID) }

    /// Whether `id` is a special (control) token.
    public func isSpecial(_ id: Int32) -> Bool { specialIDs.contains(id) }

    /// The bytes `ids` stand for, exactly (no UTF-8 repair).
    /// SentencePiece with `addsPrefixSpace` drops the space that encoding put before the text
    /// (from the first token, as llama.cpp's `detokenize` does).
    public func decodeBytes(_ ids: [Int32], skippingSpecialTokens: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        var dropsSpace = model == .sentencePiece && addsPrefixSpace
        for id in ids where !(skippingSpecialTokens && specialIDs.contains(id)) {
            let piece = tokenBytes(id)
            if dropsSpace, piece.first == 0x20 { bytes += piece.dropFirst() } else { bytes += piece }
            dropsSpace = false
        }
        return bytes
    }

    /// The text `ids` stand for; invalid UTF-8 becomes U+FFFD.
    public func decode(_ ids: [Int32], skippingSpecialTokens: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skippingSpecialTokens: skippingSpecialTokens), as: UTF8.self)
    }
}
