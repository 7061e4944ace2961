import Foundation

/// The edge's requests waiting for a worker, each free for any worker or meant for one: the
/// worker whose prompt cache holds the session the request continues (issue 19). A request
/// `pinned` to a worker waits for it (a slot lives on one worker, as a llama.cpp slot does);
/// one that merely `prefers` a worker goes to another when that one is busy.
final class WorkerQueue<Item: Sendable>: @unchecked Sendable {
    // Safe to send: every field is read and written under `condition`'s lock.
    /// Where a request may run.
    enum Placement: Sendable, Equatable {
        case any
        case prefers(Int)
        case pinned(Int)
    }

    private struct Waiting {
        let item: Item
        let placement: Placement
    }

    private let condition = NSCondition()
    private var waiting: [Waiting] = []
    private var busy: Set<Int> = []
    private var closed = false
    let capacity: Int

    /// A queue holding at most `capacity` waiting requests.
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// What `push` did.
    enum PushResult: Equatable {
        case queued(length: Int)
        case full
        case closed
    }

    /// Queues `item` for a worker `placement` allows.
    func push(_ item: Item, placement: Placement = .any) -> PushResult {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return .closed }
        guard waiting.count < capacity else { return .full }
        waiting.append(Waiting(item: item, placement: placement))
        condition.broadcast()
        return .queued(length: waiting.count)
    }

    /// Waits for the first request `worker` may run and takes it (the worker counts as busy
    /// until `finished`), with the number still waiting; nil once the queue is closed.
    func pop(worker: Int) -> (item: Item, remaining: Int)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if closed { return nil }
            if let index = waiting.firstIndex(where: { allows($0.placement, worker) }) {
                busy.insert(worker)
                return (waiting.remove(at: index).item, waiting.count)
            }
            condition.wait()
        }
    }

    /// Marks `worker` idle again (requests preferring it may now wait for it).
    func finished(worker: Int) {
        condition.lock()
        busy.remove(worker)
        condition.broadcast()
        condition.unlock()
    }

    /// Closes the queue and returns what was waiting; later calls return nil.
    func close() -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return nil }
        closed = true
        defer { waiting.removeAll() }
        condition.broadcast()
        return waiting.map(\.item)
    }

    private func allows(_ placement: Placement, _ worker: Int) -> Bool {
        switch placement {
        case .any: return true
        case .pinned(let owner): return owner == worker
        case .prefers(let owner): return owner == worker || busy.contains(owner)
        }
    }
}
