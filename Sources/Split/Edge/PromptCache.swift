import Foundation

/// Split sessions kept after their generation so that the next prompt starting the same way
/// (an editor asking again one keystroke later) reuses their states instead of computing them
/// again, on the edge and on the cloud (issue 19). An entry holds the edge's KV cache of layers
/// [0, k), the layer-k hidden state of every position and the id of the cloud session that holds
/// layers [k, L) for the same positions; a new prompt truncates all three to the common prefix
/// and only the rows after it are computed and sent.
///
/// Bounded: least recently used entries go first past `maxEntries` or `maxBytes` (edge bytes:
/// KV cache and hidden states). Entries are looked up by slot (llama.cpp's `id_slot`) when the
/// request names one, else by the longest common prefix among entries without a slot.
///
/// Not thread-safe: one edge worker owns each cache, with the generators that fill it.
final class PromptCache {
    /// How much one cache may hold.
    struct Limits: Sendable, Equatable {
        var maxEntries: Int
        var maxBytes: Int

        /// 16 entries or 256 MB per worker: the bundled model's entries are ≈ 2 MB at its full
        /// context (k = 4), a 1.5 B model's ≈ 60 MB at 2 k positions.
        static let standard = Limits(maxEntries: 16, maxBytes: 256 << 20)
    }

    /// One kept session.
    final class Entry {
        /// The cloud session holding layers [k, L) of these positions (on `endpoint`).
        let sessionID: UInt64
        let splitLayer: Int
        let encoding: ActivationEncoding
        let slot: Int?
        /// The cloud endpoint address the session was on when it was kept.
        let endpoint: String?
        /// Layers [0, k) of positions [0, tokens.count), and their layer-k hidden states.
        let cache: KVCache
        let hidden: [Float]
        /// The tokens at positions [0, tokens.count).
        let tokens: [Int32]
        /// The generator whose connection holds the cloud session (told to close it on eviction).
        weak var owner: SplitGenerator?
        fileprivate(set) var lastUsed: UInt64 = 0

        init(sessionID: UInt64, splitLayer: Int, encoding: ActivationEncoding, slot: Int?, endpoint: String?,
             cache: KVCache, hidden: [Float], tokens: [Int32], owner: SplitGenerator?) {
            self.sessionID = sessionID
            self.splitLayer = splitLayer
            self.encoding = encoding
            self.slot = slot
            self.endpoint = endpoint
            self.cache = cache
            self.hidden = hidden
            self.tokens = tokens
            self.owner = owner
        }

        /// Edge memory the entry holds.
        var byteCount: Int { cache.byteCount + hidden.count * MemoryLayout<Float>.size }
    }

    let limits: Limits
    private var entries: [Entry] = []
    private var clock: UInt64 = 0

    init(limits: Limits = .standard) {
        self.limits = limits
    }

    /// Number of entries held.
    var count: Int { entries.count }
    /// Edge bytes all entries hold.
    var byteCount: Int { entries.reduce(0) { $0 + $1.byteCount } }

    /// Removes and returns the entry a prompt should continue, with the length of the prefix it
    /// shares with `prompt`: the slot's entry when `slot` is set (whatever it shares), else the
    /// slot-less entry sharing the longest prefix (at least half the prompt, so an unrelated
    /// prompt starts a new entry rather than wiping a useful one). Only entries of the same
    /// split layer and encoding qualify. nil when none does.
    func take(slot: Int?, splitLayer: Int, encoding: ActivationEncoding, prompt: [Int32]) -> (entry: Entry, common: Int)? {
        var best: (index: Int, common: Int)?
        for (index, entry) in entries.enumerated() where entry.slot == slot {
            let common = Self.commonPrefixLength(entry.tokens, prompt)
            if slot != nil || common > (best?.common ?? 0) { best = (index, common) }
        }
        guard let best else { return nil }
        let entry = entries[best.index]
        guard entry.splitLayer == splitLayer, entry.encoding == encoding, slot != nil || 2 * best.common >= prompt.count else {
            return nil
        }
        entries.remove(at: best.index)
        return (entry, best.common)
    }

    /// Keeps `entry` (replacing any of its slot) and returns the entries evicted to make room,
    /// least recently used first; an entry larger than the whole budget is returned at once.
    func insert(_ entry: Entry) -> [Entry] {
        var evicted: [Entry] = []
        if let slot = entry.slot, let index = entries.firstIndex(where: { $0.slot == slot }) {
            evicted.append(entries.remove(at: index))
        }
        clock += 1
        entry.lastUsed = clock
        entries.append(entry)
        var bytes = byteCount
        while entries.count > limits.maxEntries || bytes > limits.maxBytes,
              let index = entries.indices.min(by: { entries[$0].lastUsed < entries[$1].lastUsed }) {
            bytes -= entries[index].byteCount
            evicted.append(entries.remove(at: index))
        }
        return evicted
    }

    /// Removes every entry and returns them.
    func removeAll() -> [Entry] {
        defer { entries.removeAll() }
        return entries
    }

    /// How many leading tokens `a` and `b` share.
    static func commonPrefixLength(_ a: [Int32], _ b: [Int32]) -> Int {
        var n = 0
        let limit = min(a.count, b.count)
        while n < limit, a[n] == b[n] { n += 1 }
        return n
    }
}

/// What a generation may do with a worker's prompt cache: continue an entry (`cachePrompt`)
/// and keep its own state for the next request.
struct PromptReuse {
    let cache: PromptCache
    /// The client's slot (llama.cpp's `id_slot`), nil for none.
    let slot: Int?
}
