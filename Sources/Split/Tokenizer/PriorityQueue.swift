/// An element of a `PriorityQueue`: which of two comes out first.
protocol QueueOrdered {
    /// Whether `self` leaves the queue before `other`.
    func precedes(_ other: Self) -> Bool
}

/// A binary heap over an array, for the merge loops of the BPE and SentencePiece tokenizers:
/// `pop` returns the element that precedes every other still queued.
struct PriorityQueue<Element: QueueOrdered> {
    private var heap: [Element] = []

    init(capacity: Int = 0) { heap.reserveCapacity(capacity) }

    mutating func push(_ element: Element) {
        heap.append(element)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < heap.count, heap[left].precedes(heap[first]) { first = left }
            if right < heap.count, heap[right].precedes(heap[first]) { first = right }
            guard first != parent else { return top }
            heap.swapAt(parent, first)
            parent = first
        }
    }
}
