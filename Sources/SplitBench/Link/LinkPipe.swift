import Foundation
import Split
#if canImport(Glibc)
import Glibc
#endif

/// One direction of an emulated connection: a reader thread timestamps what arrives from
/// `source` and queues it, a writer thread sends each chunk to `destination` when the shaper
/// says it is due. The queue is bounded, so a slow link pushes back on the sender as TCP would.
final class LinkPipe: @unchecked Sendable {
    // Safe to send: all mutable state below is read and written only while holding `condition`.
    private struct Chunk {
        let due: UInt64
        let bytes: [UInt8]?  // nil: the source closed its side.
    }

    private let source: Int32
    private let destination: Int32
    private let maxQueuedBytes: Int
    private let relayed: @Sendable (Int) -> Void
    /// Until when (monotonic nanoseconds) the link holds every byte: an emulated stall.
    private let stalledUntil: @Sendable () -> UInt64
    private let condition = NSCondition()
    private var shaper: LinkShaper
    private var queue: [Chunk] = []
    private var queueHead = 0
    private var queuedBytes = 0
    private var stopped = false

    /// A pipe from `source` to `destination`; `relayed` is told how many bytes each write hands on.
    init(from source: Int32, to destination: Int32, shaper: LinkShaper, maxQueuedBytes: Int,
         stalledUntil: @escaping @Sendable () -> UInt64 = { 0 }, relayed: @escaping @Sendable (Int) -> Void) {
        self.stalledUntil = stalledUntil
        self.source = source
        self.destination = destination
        self.shaper = shaper
        self.maxQueuedBytes = maxQueuedBytes
        self.relayed = relayed
    }

    /// Starts the reader and writer threads; `finished` runs once both have ended.
    func start(name: String, finished: @escaping @Sendable () -> Void) {
        let remaining = Locked(2)
        for (suffix, body) in [("read", readLoop), ("write", writeLoop)] as [(String, @Sendable () -> Void)] {
            let thread = Thread {
                body()
                if remaining.withLock({ $0 -= 1; return $0 == 0 }) { finished() }
            }
            thread.name = "split.link.\(name).\(suffix)"
            thread.start()
        }
    }

    /// Makes both threads end soon: queued bytes are dropped.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func readLoop() {
        while true {
            condition.lock()
            while queuedBytes >= maxQueuedBytes && !stopped { condition.wait() }
            let isStopped = stopped
            condition.unlock()
            if isStopped { return }

            let bytes = (try? TCPSocket.read(source, capacity: 16 * 1024)) ?? []
            condition.lock()
            let due = shaper.deliveryTime(ofChunk: bytes.count, arrivingAt: MonotonicClock.nanoseconds())
            queue.append(Chunk(due: due, bytes: bytes.isEmpty ? nil : bytes))
            queuedBytes += bytes.count
            condition.broadcast()
            condition.unlock()
            if bytes.isEmpty { return }  // End of stream, or an error, which ends the stream too.
        }
    }

    private func writeLoop() {
        while let chunk = nextDueChunk() {
            guard let bytes = chunk.bytes else {
                shutdown(destination, Int32(SHUT_WR))  // Pass the half-close on.
                return
            }
            // Counted before the write, so that a peer which has just received the bytes also
            // sees them in the statistics.
            relayed(bytes.count)
            do {
                try TCPSocket.write(destination, bytes)
            } catch {
                // The destination is gone: stop reading too, so the sender sees a reset.
                shutdown(source, Int32(SHUT_RD))
                stop()
                return
            }
        }
    }

    /// Waits for the head chunk to become due and removes it; nil once stopped.
    private func nextDueChunk() -> Chunk? {
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            guard queueHead < queue.count else {
                condition.wait()
                continue
            }
            let head = queue[queueHead]
            let now = MonotonicClock.nanoseconds()
            let due = max(head.due, stalledUntil())
            if due > now {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(due - now) / 1e9))
                continue
            }
            queueHead += 1
            queuedBytes -= head.bytes?.count ?? 0
            // Drop delivered chunks once they are half the array: amortised O(1), and their
            // bytes are not kept alive for long.
            if queueHead >= 64, queueHead * 2 >= queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            condition.broadcast()  // Room for the reader.
            return head
        }
        return nil
    }
}
