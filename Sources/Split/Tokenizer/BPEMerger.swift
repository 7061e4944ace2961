/// Applies BPE merge rules to one piece the way HF `tokenizers` does: always the lowest-ranked
/// adjacent pair next, the leftmost one on ties, until no pair has a rule. A priority queue
/// and a linked list make it O(n log n) in the piece length, so a long run of letters (a
/// hash, base64, a hostile prompt) cannot stall the encoder the way rescanning would (O(n²)).
struct BPEMerger {
    /// A merge that was possible when it was queued; checked again when it is taken.
    private struct Candidate: QueueOrdered {
        let key: UInt64  // rank in the high half, position in the low half: the queue order
        let left: Int32
        let right: Int32
        let result: Int32
        var position: Int { Int(UInt32(truncatingIfNeeded: key)) }

        func precedes(_ other: Candidate) -> Bool { key < other.key }
    }

    /// The symbols of a piece after every possible merge. `rule` gives the merge for a pair, if any.
    static func merge(_ symbols: [Int32], rule: (Int32, Int32) -> BPETokenizer.Merge?) -> [Int32] {
        let count = symbols.count
        guard count > 1 else { return symbols }
        var ids = symbols
        var next = Array(1...count)  // `count` marks the end
        var previous = Array(-1..<(count - 1))
        var alive = [Bool](repeating: true, count: count)
        var queue = PriorityQueue<Candidate>(capacity: count)

        func enqueue(_ position: Int) {
            let following = next[position]
            guard following < count, let merge = rule(ids[position], ids[following]) else { return }
            let key = UInt64(UInt32(bitPattern: merge.rank)) << 32 | UInt64(position)
            queue.push(Candidate(key: key, left: ids[position], right: ids[following], result: merge.result))
        }

        for position in 0..<(count - 1) { enqueue(position) }
        while let candidate = queue.pop() {
            let position = candidate.position
            let following = next[position]
            // Skip merges made stale by an earlier merge next to them.
            guard alive[position], following < count, ids[position] == candidate.left, ids[following] == candidate.right
            else { continue }
            ids[position] = candidate.result
            alive[following] = false
            next[position] = next[following]
            if next[following] < count { previous[next[following]] = position }
            if previous[position] >= 0 { enqueue(previous[position]) }
            enqueue(position)
        }
        var merged: [Int32] = []
        var position = 0
        while position < count {
            merged.append(ids[position])
            position = next[position]
        }
        return merged
    }
}
