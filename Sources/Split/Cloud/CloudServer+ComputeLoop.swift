import Foundation
import Logging

/// The compute thread: continuous batching over the `CloudSessionStore`. Each turn admits what
/// has arrived, runs one pass over every admitted request (a chunk of each long prefill), and
/// answers those that are complete.
extension CloudServer {
    /// What the compute thread carries from one turn to the next.
    struct ComputeLoopState {
        /// Requests admitted and not yet answered, with when each was admitted.
        var active: [(job: CloudSessionStore.ForwardJob, started: UInt64)] = []
        var peakCacheBytes = 0
        /// Store counters already exported to the metrics.
        var countedEvictions = 0
        var countedRejections = (foreign: 0, replayed: 0)
        /// Start of the phase being timed; each phase's time goes to its counter, waiting for
        /// work (idle) to none.
        var lapStart: UInt64 = 0
        /// Sessions the last pass answered (their next requests are likely on their way), the
        /// queue's arrival count when it answered them, and how long that pass took.
        var answered = 0
        var arrivalsBeforeAnswers = 0
        var lastPassNanoseconds: UInt64 = 0
    }

    /// The compute thread's socket to the network thread, and the encoder of its replies.
    struct ReplyChannel {
        let results: ZMQSocket
        let encoder: WireEncoder
    }

    func computeLoop() {
        guard let channel = makeReplyChannel() else { return }
        defer { channel.results.close() }
        var loop = ComputeLoopState()
        while true {
            // Deferred requests stay queued without a signal of their own: wait only when the
            // queue is empty too. (A signal `gather` took may have been the stop's: check first.)
            if loop.active.isEmpty && queue.withLock({ $0.jobs.isEmpty }) && !stopping { queueSignal.wait() }
            if stopping { return }
            loop.lapStart = MonotonicClock.nanoseconds()
            gatherAnsweredSessions(&loop)
            admitArrivals(&loop, channel)
            publishStoreGauges()
            exportStoreCounters(&loop)
            lap(.admit, &loop)
            guard !loop.active.isEmpty else { continue }
            runPass(&loop, channel)
        }
    }

    /// The PUSH socket to the network thread, connected; nil (logged) when it cannot be made.
    private func makeReplyChannel() -> ReplyChannel? {
        guard let results = try? context.socket(.push) else {
            logger.critical("cannot create the compute thread's socket")
            return nil
        }
        do {
            try results.setOption(.linger(milliseconds: 0))
            try results.connect(resultsEndpoint)
        } catch {
            results.close()
            logger.critical("cannot connect the compute thread", metadata: ["error": "\(error)"])
            return nil
        }
        return ReplyChannel(results: results, encoder: WireEncoder(limits: configuration.limits))
    }

    /// After a pass that answered sessions, waits briefly for their next requests so that
    /// lock-step sessions stay in one pass (`gatherQuietMicroseconds`).
    private func gatherAnsweredSessions(_ loop: inout ComputeLoopState) {
        guard loop.active.isEmpty && loop.answered > 0 else { return }
        // A quarter of a pass at most: a session that does not come back costs the others that
        // much, one that misses the pass costs itself a whole pass.
        gather(expected: min(loop.answered, configuration.maxBatchSessions), since: loop.arrivalsBeforeAnswers,
               room: configuration.maxBatchSessions, limitNanoseconds: loop.lastPassNanoseconds / 4)
        lap(.gather, &loop)
        loop.answered = 0  // once per answered pass, not again on a wake-up that ran no pass
    }

    /// Takes what the next pass has room for from the queue: forward requests start jobs (or
    /// are answered at once), other messages are handled. A request the KV budget has no room
    /// for while other sessions are being computed goes back to the queue with all after it.
    private func admitArrivals(_ loop: inout ComputeLoopState, _ channel: ReplyChannel) {
        let room = configuration.maxBatchSessions - loop.active.count
        let (arrived, depth) = queue.withLock { pending -> ([Job], Int) in
            let taken = Array(pending.jobs.prefix(max(0, room)))
            pending.jobs.removeFirst(taken.count)
            pending.bytes -= taken.reduce(0) { $0 + $1.bytes }
            return (taken, pending.jobs.count)
        }
        metrics.queueDepth.set(to: Double(depth))
        for (index, job) in arrived.enumerated() {
            if let request = job.message.forwardRequest, !store.makeRoom(for: request, from: job.peer), !loop.active.isEmpty {
                // The KV budget is held by sessions being computed: this request (and, to keep
                // arrival order, everything after it) waits for them to finish. With nothing
                // active it is admitted anyway, so one request larger than the budget still runs.
                requeue(Array(arrived[index...]))
                break
            }
            let now = MonotonicClock.nanoseconds()
            metrics.queueSeconds.record(.nanoseconds(Int64(now &- job.arrivedNanoseconds)))
            switch job.message {
            case .prefill(let request), .step(let request):
                switch store.begin(request, from: job.peer, principal: job.principal) {
                case .started(let forward): loop.active.append((forward, now))
                case .reply(let answer): send(answer, to: job.peer, channel)
                }
            default:
                if let answer = store.handle(job.message, from: job.peer, principal: job.principal) {
                    send(answer, to: job.peer, channel)
                }
            }
        }
        state.withLock { $0.statistics.connections = store.peerCount }
    }

    /// One batched pass over the active jobs; answers the ones it completes.
    private func runPass(_ loop: inout ComputeLoopState, _ channel: ReplyChannel) {
        let passStart = loop.lapStart
        let before = loop.active.reduce(0) { $0 + $1.job.computedRows }
        store.runChunk(loop.active.map(\.job), maxRows: configuration.prefillChunkRows)
        lap(.layers, &loop)
        // Caches grow during the pass; this is their high-water mark.
        loop.peakCacheBytes = max(loop.peakCacheBytes, store.cacheBytes)
        metrics.kvPeakBytes.set(to: Double(loop.peakCacheBytes))
        let rows = loop.active.reduce(0) { $0 + $1.job.computedRows } - before
        metrics.forwardPasses.increment()
        metrics.positions.increment(by: Int64(rows))
        metrics.batchRows.record(Double(rows))
        let done = loop.active.filter { $0.job.isComputed }
        loop.active.removeAll { $0.job.isComputed }
        if !done.isEmpty {
            let answers = store.finish(done.map(\.job))
            lap(.head, &loop)
            loop.arrivalsBeforeAnswers = queue.withLock { $0.arrivals }
            let finished = MonotonicClock.nanoseconds()
            for (entry, answer) in zip(done, answers) {
                metrics.computeSeconds.record(.nanoseconds(Int64(finished &- entry.started)))
                send(answer, to: entry.job.peer, channel)
            }
        }
        exportStoreCounters(&loop)
        publishStoreGauges()
        lap(.reply, &loop)
        loop.answered = done.count
        loop.lastPassNanoseconds = loop.lapStart &- passStart
    }

    /// Sends `answer` to `peer` through the network thread, counting what it says.
    private func send(_ answer: WireMessage, to peer: [UInt8], _ channel: ReplyChannel) {
        if case .error(let report) = answer, report.code == .malformedMessage || report.code == .limitExceeded {
            // Decoded but unusable (wrong hidden size, positions past the context): as
            // malformed as a message that did not decode.
            countMalformed()
        }
        switch answer {
        case .rebuildNeeded: metrics.rebuilds.increment()
        case .error(let report) where report.code == .rebuildRequired: metrics.rebuilds.increment()
        default: break
        }
        do {
            _ = try channel.results.send(multipart: [peer, try channel.encoder.encode(answer)])
        } catch {
            logger.error("cannot send a reply", metadata: ["error": "\(error)"])
        }
    }

    /// Sessions, connections and KV bytes as gauges (also after messages that need no pass:
    /// close, truncate, hello).
    private func publishStoreGauges() {
        metrics.sessions.set(to: Double(store.sessionCount))
        metrics.connections.set(to: Double(store.peerCount))
        metrics.kvBytes.set(to: Double(store.cacheBytes))
    }

    /// Adds the store's evictions and refused messages since the last call to the metrics and
    /// the statistics.
    private func exportStoreCounters(_ loop: inout ComputeLoopState) {
        if store.evictions > loop.countedEvictions {
            metrics.evictions.increment(by: Int64(store.evictions - loop.countedEvictions))
            loop.countedEvictions = store.evictions
        }
        let now = (foreign: store.foreignRejections, replayed: store.replayRejections)
        guard now != loop.countedRejections else { return }
        metrics.foreignSession.increment(by: Int64(now.foreign - loop.countedRejections.foreign))
        metrics.replayed.increment(by: Int64(now.replayed - loop.countedRejections.replayed))
        state.withLock {
            $0.statistics.foreignSession = now.foreign
            $0.statistics.replayed = now.replayed
        }
        loop.countedRejections = now
    }

    /// Waits, while they keep arriving (no gap longer than `gatherQuietMicroseconds`) and for
    /// at most `limitNanoseconds`, until `expected` requests have arrived since the queue's
    /// arrival count was `mark`, or `room` requests (what the next pass can take) are queued.
    /// (Counting arrivals, not queued requests: a group of sessions already waiting must not
    /// stand in for the group just answered, or two groups that alternate would never merge.)
    private func gather(expected: Int, since mark: Int, room: Int, limitNanoseconds: UInt64) {
        let quiet = UInt64(configuration.gatherQuietMicroseconds) * 1000
        guard quiet > 0, limitNanoseconds > 0 else { return }
        let start = MonotonicClock.nanoseconds()
        var lastArrival = start
        var (count, queued) = queue.withLock { ($0.arrivals - mark, $0.jobs.count) }
        while count < expected && queued < room && !stopping {
            let deadline = min(start + limitNanoseconds, lastArrival + quiet)
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { return }
            // Each queued request signalled once; a signal left from earlier only makes this
            // loop look at the queue one more time.
            _ = queueSignal.wait(timeout: .now() + .nanoseconds(Int(deadline - now)))
            let arrived: Int
            (arrived, queued) = queue.withLock { ($0.arrivals - mark, $0.jobs.count) }
            if arrived > count {
                lastArrival = MonotonicClock.nanoseconds()
                count = arrived
            }
        }
    }

    /// Ends the current phase: its time goes to `phase`'s counter.
    private func lap(_ phase: CloudMetrics.ComputePhase, _ loop: inout ComputeLoopState) {
        let now = MonotonicClock.nanoseconds()
        metrics.phaseSeconds[phase]?.increment(by: Double(now &- loop.lapStart) / 1e9)
        loop.lapStart = now
    }
}
