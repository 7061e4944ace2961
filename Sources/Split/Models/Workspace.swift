/// Scratch buffers for forward passes, grown on demand and reused, so the decode loop does not
/// allocate per token. One workspace belongs to one caller at a time.
public final class Workspace {
    /// The named scratch areas a forward pass uses.
    enum Slot: Int, CaseIterable {
        case normed, query, key, value, attention, projection, gate, up, scores, hidden, logits
    }

    private var pointers: [UnsafeMutablePointer<Float>]
    private var counts: [Int]
    private var single: [BatchSegment] = []

    public init() {
        pointers = Slot.allCases.map { _ in .allocate(capacity: 1) }
        counts = Array(repeating: 1, count: Slot.allCases.count)
    }

    deinit { for pointer in pointers { pointer.deallocate() } }

    /// A one-segment batch, reusing the same array storage call after call (a fresh array per
    /// layer would be an allocation per layer and token).
    func segment(rows: Int, startPosition: Int, cache: KVCache) -> [BatchSegment] {
        let segment = BatchSegment(rows: rows, startPosition: startPosition, cache: cache)
        if single.isEmpty { single.append(segment) } else { single[0] = segment }
        return single
    }

    /// Bytes of scratch held.
    public var byteCount: Int { counts.reduce(0, +) * MemoryLayout<Float>.size }

    /// The buffer for `slot` with room for at least `count` floats (contents unspecified).
    func buffer(_ slot: Slot, count: Int) -> UnsafeMutablePointer<Float> {
        let index = slot.rawValue
        if counts[index] < count {
            pointers[index].deallocate()
            pointers[index] = .allocate(capacity: count)
            counts[index] = count
        }
        return pointers[index]
    }
}
