/// Keys and values of the layers a model part runs, for one sequence.
///
/// Layout per layer: `[position × kvWidth]`, contiguous, so the attention of one KV head is a
/// strided matrix over positions. Each layer keeps its own length, because split-exit decoding
/// fills the skipped layers of a position later than the layers that produced the exit; a
/// position is complete when every layer holds it. Rollback is `truncate(to:)`.
public final class KVCache {
    public let layers: Range<Int>
    public let kvWidth: Int
    public let maxPositions: Int
    private(set) var capacity: Int
    private var keys: [UnsafeMutablePointer<Float>]
    private var values: [UnsafeMutablePointer<Float>]
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
        keys = layers.map { _ in .allocate(capacity: capacity * kvWidth) }
        values = layers.map { _ in .allocate(capacity: capacity * kvWidth) }
        layerLengths = Array(repeating: 0, count: layers.count)
    }

    deinit {
        for pointer in keys { pointer.deallocate() }
        for pointer in values { pointer.deallocate() }
    }

    /// Number of positions stored in every layer of the cache.
    public var length: Int { layerLengths.min() ?? 0 }

    /// Number of positions stored for absolute layer `layer`.
    public func length(layer: Int) -> Int { layerLengths[layer - layers.lowerBound] }

    /// Bytes held by the cache (allocated capacity, keys and values).
    public var byteCount: Int { 2 * keys.count * capacity * kvWidth * MemoryLayout<Float>.size }

    /// Makes room for positions up to (not including) `end`.
    /// - Throws: `ModelError.contextOverflow` past the context length.
    func reserve(upTo end: Int) throws {
        guard end <= maxPositions else {
            throw ModelError.contextOverflow(position: end - 1, limit: maxPositions)
        }
        guard end > capacity else { return }
        let newCapacity = Self.capacity(toHold: end, from: capacity, maxPositions: maxPositions)
        for i in keys.indices {
            let newKeys = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * kvWidth)
            let newValues = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * kvWidth)
            newKeys.update(from: keys[i], count: layerLengths[i] * kvWidth)
            newValues.update(from: values[i], count: layerLengths[i] * kvWidth)
            keys[i].deallocate()
            values[i].deallocate()
            keys[i] = newKeys
            values[i] = newValues
        }
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
    func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys[layer - layers.lowerBound] }
    /// Value storage of absolute layer `layer`.
    func values(layer: Int) -> UnsafeMutablePointer<Float> { values[layer - layers.lowerBound] }

    /// Records that `layer` now holds positions `[0, end)`.
    func setLength(_ end: Int, layer: Int) { layerLengths[layer - layers.lowerBound] = end }

    /// Drops every position at or after `newLength` in every layer (rollback).
    public func truncate(to newLength: Int) {
        let bound = max(0, newLength)
        for i in layerLengths.indices { layerLengths[i] = min(layerLengths[i], bound) }
    }
}
