import Foundation

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
/// rank (byte-level) or by score (SentencePiece). `decodeBytes(encodeBytes(b)) == b` for every
/// byte sequence a byte-level vocabulary can spell, and for all valid UTF-8 with SentencePiece
/// (as in llama.cpp, a stray UTF-8 lead byte can take in part of the "▁" after it).
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
    struct Parts {
        var model: TokenizerModel
        var bytesOfID: PackedByteStrings
        var tokenOfID: PackedByteStrings
        var idOfToken: TokenIndex
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
        /// GGUF `general.name`: llama.cpp gives Phi-3's added tokens `rstrip` by name.
        var modelName: String?
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

    init(_ parts: Parts, _ settings: Settings) throws {
        for id in [settings.bosTokenID, settings.eosTokenID, settings.unknownTokenID].compactMap({ $0 })
        where Int(id) >= parts.size || id < 0 {
            throw TokenizerError.invalidTokenID(token: "bos/eos/unk", id: Int(id))
        }
        model = parts.model
        idOfToken = parts.idOfToken
        bytesOfID = parts.bytesOfID
        tokenOfID = parts.tokenOfID
        idOfByte = parts.idOfByte
        merges = parts.merges
        mergePairs = parts.mergePairs
        scores = parts.scores
        ggmlTypes = parts.ggmlTypes
        let addedTokens = Self.strippingWhitespace(parts.addedTokens, modelName: settings.modelName)
        self.addedTokens = addedTokens
        specialIDs = Set(addedTokens.filter(\.isSpecial).map(\.id))
        addedIDs = Set(addedTokens.map(\.id))
        addedMatcher = AddedTokenMatcher(addedTokens)
        userDefinedMatcher = AddedTokenMatcher(addedTokens.filter { !$0.isSpecial })
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
            model: .byteLevelBPE, bytesOfID: bytesOfID, tokenOfID: tokenOfID,
            idOfToken: TokenIndex(idOfToken, spellings: tokenOfID), idOfByte: idOfByte,
            merges: merges, mergePairs: mergePairs, addedTokens: addedTokens, size: size)
        try self.init(parts, settings)
    }

    /// `tokens` with llama.cpp's per-model `rstrip`: for a model named Phi-3, every added token
    /// but `<unk>`, `<s>` and `<|endoftext|>` drops the whitespace after it (as Phi-3's
    /// tokenizer.json says with `rstrip: true`).
    static func strippingWhitespace(_ tokens: [AddedToken], modelName: String?) -> [AddedToken] {
        let name = (modelName ?? "").lowercased()
        guard name.contains("phi-3") || name.contains("phi3") else { return tokens }
        return tokens.map { token in
            var token = token
            if !["<unk>", "<s>", "<|endoftext|>"].contains(token.content) { token.stripsWhitespaceAfter = true }
            return token
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
                        text, tokenID: { self.idOfToken.id(of: $0, spellings: self.tokenOfID) },
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
