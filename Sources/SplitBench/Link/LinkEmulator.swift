import Foundation
import Split
#if canImport(Glibc)
import Glibc
#endif

/// How an emulated link between edge and cloud behaves; each direction separately.
public struct LinkEmulatorConfiguration: Sendable, Equatable {
    /// Where the relay listens (loopback by default).
    public var listenHost = "127.0.0.1"
    /// Port to listen on; 0 picks a free one (see `LinkEmulator.start()`).
    public var listenPort: UInt16 = 0
    /// Where each accepted connection is forwarded (IPv4 address or `localhost`).
    public var targetHost: String
    /// Port of the target.
    public var targetPort: UInt16
    /// One-way delay added in each direction; a round trip gains twice this.
    public var oneWayDelaySeconds: Double
    /// Jitter: each chunk's delay varies uniformly by ± this much, order preserved.
    public var jitterSeconds: Double
    /// Bandwidth cap of each direction; nil for none.
    public var bandwidthBitsPerSecond: Double?
    /// Bytes the token bucket may send at once after an idle spell.
    public var burstBytes: Int
    /// Seed of the jitter sequence, so runs repeat.
    public var seed: UInt64
    /// Bytes held per direction before the relay stops reading from the sender.
    public var maxQueuedBytes: Int

    /// Makes a configuration; only the target is required.
    public init(targetHost: String = "127.0.0.1", targetPort: UInt16, oneWayDelaySeconds: Double = 0, jitterSeconds: Double = 0,
                bandwidthBitsPerSecond: Double? = nil, burstBytes: Int = 16 * 1024, seed: UInt64 = 1,
                maxQueuedBytes: Int = 4 << 20) {
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.oneWayDelaySeconds = oneWayDelaySeconds
        self.jitterSeconds = jitterSeconds
        self.bandwidthBitsPerSecond = bandwidthBitsPerSecond
        self.burstBytes = burstBytes
        self.seed = seed
        self.maxQueuedBytes = maxQueuedBytes
    }
}

/// A user-space TCP relay that makes loopback behave like a slower, farther link (this kernel
/// has no netem): it listens on a port, forwards every connection to the target and adds
/// delay, jitter and a bandwidth cap in both directions. Runs on its own threads; call `stop()`
/// when done (the threads keep it alive until then). Connecting to the target is done on the
/// accepting thread, so the target should be local (loopback), as in tests and benchmarks.
public final class LinkEmulator: Sendable {
    /// Bytes relayed so far, per direction (counted as they are handed to the destination
    /// socket), and connections accepted.
    public struct Statistics: Sendable, Equatable {
        /// Connections accepted.
        public var connections = 0
        /// Bytes sent from clients to the target.
        public var bytesToTarget = 0
        /// Bytes sent from the target back to clients.
        public var bytesToClient = 0
    }

    private struct State: Sendable {
        var statistics = Statistics()
        var listener: Int32?
        var stopping = false
        var pipes: [LinkPipe] = []
        /// Open connections' sockets by connection index. Keyed by index, not by descriptor:
        /// after a restart a new connection can get the numbers of an old one, and a late
        /// clean-up of the old one must not close the new one's sockets.
        var sockets: [UInt64: [Int32]] = [:]
        var connectionsMade: UInt64 = 0
        /// Monotonic nanoseconds until which no byte moves in either direction.
        var stalledUntil: UInt64 = 0
    }

    /// The behaviour of the link.
    public let configuration: LinkEmulatorConfiguration
    private let state = Locked(State())
    private let threads = DispatchGroup()

    /// Makes a relay; nothing listens until `start()`.
    public init(configuration: LinkEmulatorConfiguration) {
        self.configuration = configuration
    }

    deinit { stop() }

    /// Counters so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Stalls the link for `seconds` from now: connections stay open but no byte moves either
    /// way (what a radio outage or a congested path looks like to TCP); held bytes are
    /// delivered, in order, when the stall ends.
    public func stall(forSeconds seconds: Double) {
        let until = MonotonicClock.nanoseconds() + UInt64(max(0, seconds) * 1e9)
        state.withLock { $0.stalledUntil = max($0.stalledUntil, until) }
    }

    /// Whether a stall is still holding the link's bytes.
    public var isStalled: Bool { state.withLock { $0.stalledUntil > MonotonicClock.nanoseconds() } }

    /// Starts listening and relaying; returns the port clients should connect to.
    /// - Throws: `SystemCallError` when the listening socket cannot be made, or `EALREADY` as
    ///   a `SystemCallError` when already started.
    public func start() throws(SystemCallError) -> UInt16 {
        guard state.withLock({ $0.listener == nil && !$0.stopping }) else {
            throw SystemCallError(call: "LinkEmulator.start", code: EALREADY)
        }
        let (listener, port) = try TCPSocket.listen(host: configuration.listenHost, port: configuration.listenPort)
        state.withLock { $0.listener = listener }
        threads.enter()
        let thread = Thread { [self] in
            acceptLoop(listener)
            threads.leave()
        }
        thread.name = "split.link.accept"
        thread.start()
        return port
    }

    /// Stops accepting, cuts every relayed connection and waits for all threads to end.
    public func stop() {
        let (listener, pipes) = state.withLock { state in
            if state.listener != nil { state.stopping = true }
            return (state.listener, state.pipes)
        }
        guard listener != nil else { return }
        for pipe in pipes { pipe.stop() }
        // Shutting down (not closing) wakes threads blocked on these sockets without letting
        // their descriptor numbers be reused under them; under the lock, so a connection that
        // ends meanwhile cannot close one of them first.
        state.withLock { state in
            for fd in state.sockets.values.joined() { shutdown(fd, Int32(SHUT_RDWR)) }
        }
        threads.wait()
        state.withLock { state in
            for fd in state.sockets.values.joined() { close(fd) }
            if let listener = state.listener { close(listener) }
            state.sockets = [:]
            state.pipes = []
            state.listener = nil
            state.stopping = false  // May be started again.
        }
    }

    private func acceptLoop(_ listener: Int32) {
        while !state.withLock({ $0.stopping }) {
            let client: Int32
            do {
                guard let accepted = try TCPSocket.accept(listener, timeoutMilliseconds: 50) else { continue }
                client = accepted
            } catch {
                usleep(10_000)  // Out of descriptors or similar: back off instead of spinning.
                continue
            }
            guard let target = try? TCPSocket.connect(host: configuration.targetHost, port: configuration.targetPort) else {
                close(client)  // Nothing to forward to: refuse by closing, as a dead host would.
                continue
            }
            // Numbered across restarts, so a connection's clean-up can never touch a later one's.
            let index = state.withLock { state -> UInt64 in
                state.connectionsMade += 1
                return state.connectionsMade
            }
            relay(client: client, target: target, index: index)
        }
    }

    private func relay(client: Int32, target: Int32, index: UInt64) {
        func shaper(_ direction: UInt64) -> LinkShaper {
            LinkShaper(delaySeconds: configuration.oneWayDelaySeconds, jitterSeconds: configuration.jitterSeconds,
                       bandwidthBitsPerSecond: configuration.bandwidthBitsPerSecond, burstBytes: configuration.burstBytes,
                       seed: configuration.seed &+ index &* 2 &+ direction)
        }
        let state = self.state
        let stalledUntil = { @Sendable in state.withLock { $0.stalledUntil } }
        let up = LinkPipe(from: client, to: target, shaper: shaper(0), maxQueuedBytes: configuration.maxQueuedBytes,
                          stalledUntil: stalledUntil) { count in
            state.withLock { $0.statistics.bytesToTarget += count }
        }
        let down = LinkPipe(from: target, to: client, shaper: shaper(1), maxQueuedBytes: configuration.maxQueuedBytes,
                            stalledUntil: stalledUntil) { count in
            state.withLock { $0.statistics.bytesToClient += count }
        }
        let accepted = state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.statistics.connections += 1
            state.pipes += [up, down]
            state.sockets[index] = [client, target]
            return true
        }
        guard accepted else {
            close(client)
            close(target)
            return
        }
        // Close this connection's sockets once its four threads are done, unless `stop()` got
        // there first; whoever removes them from the state under the lock closes them.
        let connection = DispatchGroup()
        for pipe in [up, down] {
            threads.enter()
            connection.enter()
            pipe.start(name: "\(index).\(pipe === up ? "up" : "down")") {
                connection.leave()
                self.threads.leave()
            }
        }
        connection.notify(queue: .global()) {
            state.withLock { state in
                state.pipes.removeAll { $0 === up || $0 === down }
                if let fds = state.sockets.removeValue(forKey: index) {
                    for fd in fds { close(fd) }
                }
            }
        }
    }
}
