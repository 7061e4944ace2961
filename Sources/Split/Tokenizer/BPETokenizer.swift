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

/// Byte-level BPE as in GPT-2 and HF `tokenizers`: added tokens are matched first, the rest is
/// pre-tokenized, each piece is spelled with `ByteEncoder` characters and merged by rank.
/// `decodeBytes(encodeBytes(b)) == b` for every byte sequence.
public final class BPETokenizer: Sendable {
    /// Highest token id accepted from a file (vocabularies are ~256 K; this is far above).
    public static let maxTokenID = 1 << 24

    /// Number of ids (one more than the highest id).
    public let vocabularySize: Int
    /// Beginning-of-sequence token, if the tokenizer has one.
    public let bosTokenID: Int32?
    /// End-of-sequence token, if the tokenizer has one.
    public let eosTokenID: Int32?
    /// Whether prompts should start with the BOS token (the caller adds it: `encode` never does).
    public let addsBOSToken: Bool
    /// How text is split before BPE.
    public let preTokenizer: PreTokenizer
    /// Whether a space is put before text that does not start with one (HF `add_prefix_space`).
    public let addsPrefixSpace: Bool
    /// Whether a piece that is itself in the vocabulary skips merging (HF `ignore_merges`, Llama 3).
    public let ignoresMerges: Bool
    /// Whether text is NFC-normalized before encoding (HF `NFC` normalizer, Qwen2).
    public let normalizesToNFC: Bool
    /// The added tokens, by id.
    public let addedTokens: [AddedToken]

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
    private let idOfByte: [Int32]
    private let merges: [UInt64: Merge]
    private let addedMatcher: AddedTokenMatcher
    private let cache = BPECache()

    struct Merge: Sendable {
        let rank: Int32
        let result: Int32
    }

    /// A tokenizer from its parts. `vocabulary` spells tokens with `ByteEncoder` characters;
    /// `merges` are in rank order.
    /// - Throws: `TokenizerError` when ids are invalid, a byte has no token, or a merge names
    ///   a token the vocabulary lacks.
    public init(
        vocabulary: [String: Int32], merges mergeRules: [(String, String)], addedTokens: [AddedToken],
        preTokenizer: PreTokenizer = PreTokenizer(), addsPrefixSpace: Bool = false, ignoresMerges: Bool = false,
        normalizesToNFC: Bool = false, bosTokenID: Int32? = nil, eosTokenID: Int32? = nil, addsBOSToken: Bool = false
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
            guard let id = vocabulary[String(ByteEncoder.characterOfByte[byte])] else {
                throw TokenizerError.missingByteToken(byte: UInt8(byte))
            }
            idOfByte[byte] = id
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
        for id in [bosTokenID, eosTokenID].compactMap({ $0 }) where Int(id) >= size || id < 0 {
            throw TokenizerError.invalidTokenID(token: "bos/eos", id: Int(id))
        }
        self.idOfToken = TokenIndex(idOfToken, spellings: tokenOfID)
        self.bytesOfID = bytesOfID
        self.tokenOfID = tokenOfID
        self.idOfByte = idOfByte
        self.merges = merges
        self.mergePairs = mergePairs
        self.addedTokens = addedTokens
        specialIDs = Set(addedTokens.filter(\.isSpecial).map(\.id))
        addedIDs = Set(addedTokens.map(\.id))
        addedMatcher = AddedTokenMatcher(addedTokens)
        vocabularySize = size
        self.preTokenizer = preTokenizer
        self.addsPrefixSpace = addsPrefixSpace
        self.ignoresMerges = ignoresMerges
        self.normalizesToNFC = normalizesToNFC
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.addsBOSToken = addsBOSToken
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

    /// The ids of any byte sequence, valid UTF-8 or not.
    public func encodeBytes(_ bytes: [UInt8], parsingSpecialTokens: Bool = true) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(bytes.count / 3 + 1)
        let segments = parsingSpecialTokens ? addedMatcher.segments(of: bytes) : [.text(0..<bytes.count)]
        for segment in segments {
            switch segment {
            case let .token(id): ids.append(id)
            case let .text(range):
                var text = Array(bytes[range])
                if addsPrefixSpace, text.first != 0x20 { text.insert(0x20, at: 0) }
                for piece in preTokenizer.pieces(of: text) { ids += encodePiece(text[piece]) }
            }
        }
        return ids
    }

    /// Pieces longer than this are not cached: they rarely repeat and would crowd the cache.
    static let maxCachedPieceLength = 256

    /// BPE on one pre-tokenized piece, cached by its bytes.
    private func encodePiece(_ piece: ArraySlice<UInt8>) -> [Int32] {
        if piece.count == 1 { return [idOfByte[Int(piece[piece.startIndex])]] }
        let key = Array(piece)
        let cacheable = key.count <= Self.maxCachedPieceLength
        if cacheable, let cached = cache[key] { return cached }
        let ids: [Int32]
        if ignoresMerges, let whole = idOfToken.id(of: Array(ByteEncoder.encode(key).utf8), spellings: tokenOfID),
           !addedIDs.contains(whole) {
            ids = [whole]
        } else {
            ids = BPEMerger.merge(key.map { idOfByte[Int($0)] }) { merges[Self.pairKey($0, $1)] }
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
    public func decodeBytes(_ ids: [Int32], skippingSpecialTokens: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids where !(skippingSpecialTokens && specialIDs.contains(id)) { bytes += tokenBytes(id) }
        return bytes
    }

    /// The text `ids` stand for; invalid UTF-8 becomes U+FFFD.
    public func decode(_ ids: [Int32], skippingSpecialTokens: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skippingSpecialTokens: skippingSpecialTokens), as: UTF8.self)
    }
}
