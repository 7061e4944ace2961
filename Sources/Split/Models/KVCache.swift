/// Keys and values of the layers a model part runs, for one sequence.
///
/// Layout per layer: `[position × kvWidth]`, contiguous, so the attention of one KV head is a
/// strided matrix over positions. Every layer's keys and values share one allocation: one large
/// block that the allocator maps and unmaps as a whole (per-layer buffers of a few tens of KB
/// stay in the heap after they are freed on growth, and still count in the resident set). Each layer keeps its own length, because split-exit decoding
/// fills the skipped layers of a position later than the layers that produced the exit; a
/// position is complete when every layer holds it. Rollback is `truncate(to:)`.
public final class KVCache {
    public let layers: Range<Int>
    public let kvWidth: Int
    public let maxPositions: Int
    private(set) var capacity: Int
    /// Layer i's keys at `storage + 2i · capacity · kvWidth`, its values right after them.
    private var storage: UnsafeMutablePointer<Float>
    private var layerLengths: [Int]

    /// Positions a new cache has room for before it first grows (then it doubles).
    public static let initialCapacity = 64

    /// An empty cache for `layers`, growing on demand up to `maxPositions`.
    public init(layers: Range<Int>, kvWidth: Int, maxPositions: Int, initialCapacity: Int = KVCache.initialCapacity) {
        self.layers = layers
        self.kvWidth = kvWidth
        self.maxPositions = maxPositions
        let capacity = max(1, min(initialCapacity, maxPositions))
        self.capacity = capacity
        storage = .allocate(capacity: max(1, 2 * layers.count * capacity * kvWidth))
        layerLengths = Array(repeating: 0, count: layers.count)
    }

    deinit { storage.deallocate() }

    /// Number of positions stored in every layer of the cache.
    public var length: Int { layerLengths.min() ?? 0 }

    /// Number of positions stored for absolute layer `layer`.
    public func length(layer: Int) -> Int { layerLengths[layer - layers.lowerBound] }

    /// Bytes held by the cache (allocated capacity, keys and values).
    public var byteCount: Int { 2 * layerLengths.count * capacity * kvWidth * MemoryLayout<Float>.size }

    /// Makes room for positions up to (not including) `end`.
    /// - Throws: `ModelError.contextOverflow` past the context length.
    public func reserve(upTo end: Int) throws {
        guard end <= maxPositions else {
            throw ModelError.contextOverflow(position: end - 1, limit: maxPositions)
        }
        guard end > capacity else { return }
        let newCapacity = Self.capacity(toHold: end, from: capacity, maxPositions: maxPositions)
        let newStorage = UnsafeMutablePointer<Float>.allocate(capacity: max(1, 2 * layerLengths.count * newCapacity * kvWidth))
        for i in layerLengths.indices {
            let stored = layerLengths[i] * kvWidth
            (newStorage + 2 * i * newCapacity * kvWidth).update(from: storage + 2 * i * capacity * kvWidth, count: stored)
            (newStorage + (2 * i + 1) * newCapacity * kvWidth).update(from: storage + (2 * i + 1) * capacity * kvWidth, count: stored)
        }
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }

    /// The capacity a cache of `capacity` positions grows to when it must hold `end`: doubled
    /// until it does, at most `maxPositions`. The cloud's KV budget projects growth with it.
    static func capacity(toHold end: Int, from capacity: Int, maxPositions: Int) -> Int {
        var grown = max(1, capacity)
        while grown < end { grown *= 2 }
        return min(grown, maxPositions)
    }

    /// Bytes a cache over `layerCount` layers of `kvWidth` allocates to hold `end` positions,
    /// growing from `initialCapacity`.
    static func byteCount(holding end: Int, layerCount: Int, kvWidth: Int, maxPositions: Int) -> Int {
        let start = max(1, min(initialCapacity, maxPositions))
        return 2 * layerCount * capacity(toHold: end, from: start, maxPositions: maxPositions) * kvWidth * MemoryLayout<Float>.size
    }

    /// Key storage of absolute layer `layer`.
    func keys(layer: Int) -> UnsafeMutablePointer<Float> { storage + 2 * (layer - layers.lowerBound) * capacity * kvWidth }
    /// Value storage of absolute layer `layer`.
    func values(layer: Int) -> UnsafeMutablePointer<Float> { storage + (2 * (layer - layers.lowerBound) + 1) * capacity * kvWidth }

    /// Records that `layer` now holds positions `[0, end)`.
    func setLength(_ end: Int, layer: Int) { layerLengths[layer - layers.lowerBound] = end }

    /// Drops every position at or after `newLength` in every layer (rollback).
    public func truncate(to newLength: Int) {
        let bound = max(0, newLength)
        for i in layerLengths.indices { layerLengths[i] = min(layerLengths[i], bound) }
    }
}
