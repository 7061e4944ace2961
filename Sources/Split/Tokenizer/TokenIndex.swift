/// The id of a token spelling, found through the spellings a tokenizer already keeps packed by id
/// (`PackedByteStrings`): an open-addressing table of ids, 4 bytes a slot at most half full.
/// A `[String: Int32]` of a 49 K vocabulary held 1.3 MB; this holds 0.5 MB (BENCHMARKS.md,
/// issue 10: the f16 model's whole-process peak resident set).
struct TokenIndex: Sendable {
    /// Slot → id, or -1 for an empty slot; the count is a power of two.
    private let slots: [Int32]
    /// Entries whose spelling is not the one stored under their id (an added token that shares
    /// an id with a vocabulary entry spelled differently); almost always empty.
    private let others: [String: Int32]

    /// An index of `entries` (spelling → id) over `spellings`, which holds each id's spelling.
    init(_ entries: [String: Int32], spellings: PackedByteStrings) {
        var capacity = 16
        while capacity < 2 * entries.count { capacity *= 2 }
        var slots = [Int32](repeating: -1, count: capacity)
        var others: [String: Int32] = [:]
        for (spelling, id) in entries {
            let bytes = Array(spelling.utf8)
            guard Int(id) < spellings.count, spellings[Int(id)].elementsEqual(bytes) else {
                others[spelling] = id
                continue
            }
            var slot = Self.hash(bytes) & (capacity - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = id
        }
        self.slots = slots
        self.others = others
    }

    /// An index of every id with a non-empty spelling in `spellings`, compared byte for byte; of
    /// ids spelled alike the last one is found, as llama.cpp's `token_to_id` keeps it. (A
    /// `[String: Int32]` cannot be used for raw-text vocabularies: Swift strings compare by
    /// canonical equivalence, so "ά" U+1F71 and "ά" U+03AC, two SentencePiece tokens, would be one key.)
    init(everyIDIn spellings: PackedByteStrings) {
        var capacity = 16
        while capacity < 2 * spellings.count { capacity *= 2 }
        var slots = [Int32](repeating: -1, count: capacity)
        for id in 0..<spellings.count where !spellings[id].isEmpty {
            let bytes = Array(spellings[id])
            var slot = Self.hash(bytes) & (capacity - 1)
            while slots[slot] >= 0, !spellings[Int(slots[slot])].elementsEqual(bytes) { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = Int32(id)
        }
        self.slots = slots
        others = [:]
    }

    /// The id spelled `bytes` (byte for byte), if any.
    func id(of bytes: [UInt8], spellings: PackedByteStrings) -> Int32? { id(of: bytes[...], spellings: spellings) }

    /// The id spelled `bytes`, without copying them (SentencePiece looks up every adjacent pair).
    func id(of bytes: ArraySlice<UInt8>, spellings: PackedByteStrings) -> Int32? {
        var slot = Self.hash(bytes) & (slots.count - 1)
        while case let id = slots[slot], id >= 0 {
            if spellings[Int(id)].elementsEqual(bytes) { return id }
            slot = (slot + 1) & (slots.count - 1)
        }
        guard !others.isEmpty, let spelling = String(validating: bytes, as: UTF8.self) else { return nil }
        return others[spelling]
    }

    private static func hash(_ bytes: [UInt8]) -> Int { hash(bytes[...]) }

    private static func hash(_ bytes: ArraySlice<UInt8>) -> Int {
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}
