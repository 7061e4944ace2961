import Foundation
import Logging

/// How a cloud node listens.
public struct CloudServerConfiguration: Sendable {
    /// ZeroMQ endpoints to bind, e.g. `tcp://0.0.0.0:5555`.
    public var endpoints: [String]
    /// The server's CURVE key pair; nil serves without encryption (tests and `--insecure` only).
    public var serverKeys: CurveKeyPair?
    /// Edge public keys admitted; empty admits none when CURVE is on.
    public var allowedClients: Set<CurveKey>
    public var limits: WireLimits
    /// Requests waiting for compute beyond this are answered `overloaded` (back-pressure).
    public var maxQueuedRequests: Int
    /// Message bytes waiting for compute beyond this are answered `overloaded` too: with
    /// messages of up to `limits.maxMessageBytes` (256 MiB), a count alone bounds nothing.
    public var maxQueuedBytes: Int

    /// Sessions whose requests run together in one forward pass (continuous batching); 1 runs
    /// requests one at a time, each to completion.
    public var maxBatchSessions: Int
    /// A prefill longer than this runs in chunks of this many rows, one chunk per pass, so that
    /// it does not hold up the decode steps of the sessions batched with it.
    public var prefillChunkRows: Int
    /// How long a pass may wait for the next requests of the sessions the previous pass answered,
    /// as long as they keep arriving: without it, the first to come back start a pass alone
    /// and the rest wait for it, so lock-step sessions split into groups that never merge
    /// again. 0 starts every pass at once.
    public var gatherQuietMicroseconds: Int
    /// The most `gatherQuietMicroseconds` may be (a second).
    public static let maxGatherQuietMicroseconds = 1_000_000

    public init(endpoints: [String], serverKeys: CurveKeyPair?, allowedClients: Set<CurveKey>,
                limits: WireLimits = WireLimits(), maxQueuedRequests: Int = 1024, maxQueuedBytes: Int = 1 << 30,
                maxBatchSessions: Int = 64, prefillChunkRows: Int = 64, gatherQuietMicroseconds: Int = 1000) {
        self.maxBatchSessions = max(1, maxBatchSessions)
        self.prefillChunkRows = max(1, prefillChunkRows)
        self.gatherQuietMicroseconds = min(max(0, gatherQuietMicroseconds), Self.maxGatherQuietMicroseconds)
        self.endpoints = endpoints
        self.serverKeys = serverKeys
        self.allowedClients = allowedClients
        self.limits = limits
        self.maxQueuedRequests = maxQueuedRequests
        self.maxQueuedBytes = maxQueuedBytes
    }
}

/// The cloud daemon's network side: a ROUTER socket (CURVE server, ZAP allow-list) on one
/// thread, the model on another. Heartbeats are answered by the network thread at once, so a
/// long prefill never makes the cloud look dead; everything else is handled in arrival order by
/// the compute thread, which owns the `CloudSessionStore`.
public final class CloudServer: @unchecked Sendable {
    // Safe to send: mutable state is behind `state`/`queue` locks; each socket is created and
    // used by exactly one of the two threads.
    public let configuration: CloudServerConfiguration
    let store: CloudSessionStore
    /// Prometheus metrics, served by `cloud-node serve --http-port`.
    public let metrics: CloudMetrics
    let context: ZMQContext
    private let authenticator: ZAPAuthenticator?
    let logger: Logger
    let resultsEndpoint = "inproc://split-cloud-results-\(UUID().uuidString)"
    let queue = Locked(PendingRequests())
    let queueSignal = DispatchSemaphore(value: 0)
    let state: Locked<State>
    private let stopped = DispatchGroup()

    /// Decoded requests waiting for the compute thread, and the bytes they arrived as.
    struct PendingRequests: Sendable {
        var jobs: [Job] = []
        var bytes = 0
        /// Requests ever queued (so a pass can tell which arrived after it answered).
        var arrivals = 0
    }

    /// A decoded request, who sent it (connection and authenticated client), its size on the
    /// wire and when it arrived.
    struct Job: Sendable {
        let peer: [UInt8]
        let principal: String
        let message: WireMessage
        let bytes: Int
        let arrivedNanoseconds: UInt64
    }

    struct State: Sendable {
        /// The allow-listed keys in Z85 (the ZAP user ids); nil without CURVE.
        var allowedPrincipals: Set<String>?
        var stopping = false
        var boundEndpoints: [String] = []
        var statistics = Statistics()
    }

    /// Counters the daemon logs and exports.
    public struct Statistics: Sendable, Equatable {
        public var received = 0
        /// Messages refused for their content: undecodable, several frames, or decoded but
        /// answered `malformedMessage`/`limitExceeded` (frames past the transport cap,
        /// `WireLimits.transportFrameCap`, never arrive: libzmq drops the connection).
        public var malformed = 0
        /// Of those, frames larger than `limits.maxMessageBytes` (up to the transport cap).
        public var oversized = 0
        /// Connections refused by the ZAP handler (key not on the allow-list, no CURVE).
        public var authenticationDenied = 0
        /// Messages for a session (or on a connection) that another client created.
        public var foreignSession = 0
        /// Requests whose id was not after their session's last one.
        public var replayed = 0
        public var overloaded = 0
        public var replies = 0
        /// Connections whose hello the session store holds now.
        public var connections = 0
    }

    public init(configuration: CloudServerConfiguration, store: CloudSessionStore, metrics: CloudMetrics = CloudMetrics(),
                logger: Logger = Logger(label: "split.cloud")) throws {
        self.configuration = configuration
        self.store = store
        self.metrics = metrics
        self.logger = logger
        context = try ZMQContext()
        let state = Locked<State>(State(allowedPrincipals: configuration.serverKeys == nil ? nil
            : Set(configuration.allowedClients.map(\.z85))))
        self.state = state
        authenticator = configuration.serverKeys == nil ? nil
            : ZAPAuthenticator(context: context, allowed: configuration.allowedClients, domain: "split") { admitted in
                guard !admitted else { return }
                state.withLock { $0.statistics.authenticationDenied += 1 }
                metrics.authenticationDenied.increment()
            }
    }

    /// Replaces the allow-list (e.g. after `cloud-node serve` re-read its files on SIGHUP). New
    /// handshakes are checked against it, and messages on connections already admitted with a
    /// key no longer on it are dropped unanswered and counted as denied, so a revoked edge is cut
    /// off at once, not when it reconnects.
    public func setAllowedClients(_ keys: Set<CurveKey>) {
        authenticator?.setAllowedKeys(keys)
        state.withLock { state in
            if state.allowedPrincipals != nil { state.allowedPrincipals = Set(keys.map(\.z85)) }
        }
    }

    /// The endpoints actually bound (with ephemeral ports resolved).
    public var boundEndpoints: [String] { state.withLock { $0.boundEndpoints } }
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Binds and starts both threads; returns once the sockets are bound.
    /// - Throws: `ZMQError` when an endpoint cannot be bound.
    public func start() throws {
        try authenticator?.start()
        let router = try context.socket(.router)
        try router.setOption(.linger(milliseconds: 0))
        // Frames a little past the limit still arrive, to be refused and counted as oversized;
        // libzmq drops a connection whose frame is past the cap before allocating for it.
        try router.setOption(.maxMessageSize(bytes: Int64(configuration.limits.transportFrameCap)))
        try router.setOption(.receiveHighWaterMark(10_000))
        if let keys = configuration.serverKeys {
            try router.setOption(.zapDomain("split"))
            try router.setOption(.curveServer(true))
            try router.setOption(.curveSecretKey(keys.secretKey))
        }
        var bound: [String] = []
        for endpoint in configuration.endpoints {
            try router.bind(endpoint)
            bound.append(try router.lastEndpoint)
        }
        let results = try context.socket(.pull)
        try results.bind(resultsEndpoint)
        state.withLock { $0.boundEndpoints = bound }
        let routerBox = UncheckedBox((router, results))
        stopped.enter()
        let network = Thread { [self] in
            networkLoop(router: routerBox.value.0, results: routerBox.value.1)
            stopped.leave()
        }
        network.name = "split-cloud-network"
        network.start()
        stopped.enter()
        let compute = Thread { [self] in
            computeLoop()
            stopped.leave()
        }
        compute.name = "split-cloud-compute"
        compute.stackSize = 8 << 20
        compute.start()
        logger.info("cloud node listening", metadata: ["endpoints": "\(bound)", "curve": "\(configuration.serverKeys != nil)"])
    }

    /// Stops both threads and closes the sockets.
    public func stop() {
        state.withLock { $0.stopping = true }
        queueSignal.signal()
        stopped.wait()
        authenticator?.stop()
        context.shutdown()
        let counts = statistics
        logger.info("cloud node stopped", metadata: [
            "received": "\(counts.received)", "malformed": "\(counts.malformed)", "overloaded": "\(counts.overloaded)",
            "replies": "\(counts.replies)", "connections": "\(counts.connections)"])
    }

    /// Blocks until `stop()` has finished.
    public func wait() { stopped.wait() }

    var stopping: Bool { state.withLock { $0.stopping } }

    /// Whether the server is bound and taking requests (what a readiness probe reports).
    public var isRunning: Bool { state.withLock { !$0.boundEndpoints.isEmpty && !$0.stopping } }

    /// Messages the network thread takes from the ROUTER before it forwards waiting results.
    static let maxMessagesPerBatch = 256

    private func networkLoop(router: ZMQSocket, results: ZMQSocket) {
        defer {
            router.close()
            results.close()
        }
        let poller = ZMQPoller()
        _ = poller.add(router)
        _ = poller.add(results)
        let decoder = WireDecoder(limits: configuration.limits)
        let encoder = WireEncoder(limits: configuration.limits)
        while !stopping {
            guard let events = try? poller.poll(timeoutMilliseconds: 100) else { continue }
            if events[1].contains(.readable) {
                while let frames = try? results.receiveMultipart(flags: .dontWait), frames.count == 2 {
                    _ = try? router.send(multipart: frames, flags: .dontWait)
                    state.withLock { $0.statistics.replies += 1 }
                    metrics.replies.increment()
                }
            }
            guard events[0].contains(.readable) else { continue }
            // A bounded batch, then back to the results: a peer sending without pause (pings
            // are answered right here) must not keep every other edge's results waiting.
            var batch = 0
            while batch < Self.maxMessagesPerBatch, let (frames, userID) = try? router.receiveMultipartWithUserID(flags: .dontWait) {
                batch += 1
                state.withLock { $0.statistics.received += 1 }
                metrics.received.increment()
                let revoked = state.withLock { state -> Bool in
                    guard let allowed = state.allowedPrincipals, !allowed.contains(userID ?? "") else { return false }
                    state.statistics.authenticationDenied += 1
                    return true
                }
                if revoked {
                    metrics.authenticationDenied.increment()
                    continue  // Admitted before its key was revoked: nothing more is served.
                }
                guard frames.count == 2 else {
                    countMalformed()
                    continue  // A peer must send exactly one payload frame; drop anything else.
                }
                let peer = frames[0]
                let message: WireMessage
                do {
                    message = try decoder.decode(frames[1])
                } catch {
                    countMalformed()
                    if case .tooLarge = error {
                        state.withLock { $0.statistics.oversized += 1 }
                        metrics.oversized.increment()
                    }
                    logger.debug("malformed message", metadata: ["error": "\(error)"])
                    reply(.error(.init(code: error.replyCode, message: error.description)), to: peer, router, encoder)
                    continue
                }
                if case .heartbeat(let beat) = message {
                    if beat.kind == .ping {
                        reply(.heartbeat(.init(kind: .pong, timestampNanoseconds: beat.timestampNanoseconds)), to: peer, router, encoder)
                    }
                    continue
                }
                let size = frames[1].count
                let arrived = MonotonicClock.nanoseconds()
                let depth = queue.withLock { pending -> Int? in
                    // One request is always taken, however large, so that a message within the
                    // limits but above the byte budget is delayed, never refused for good.
                    guard pending.jobs.count < configuration.maxQueuedRequests,
                          pending.jobs.isEmpty || pending.bytes + size <= configuration.maxQueuedBytes else { return nil }
                    // Without CURVE there is no user id; every client is the same principal, "".
                    pending.jobs.append(Job(peer: peer, principal: userID ?? "", message: message, bytes: size,
                                            arrivedNanoseconds: arrived))
                    pending.bytes += size
                    pending.arrivals += 1
                    return pending.jobs.count
                }
                if let depth {
                    metrics.queueDepth.set(to: Double(depth))
                    queueSignal.signal()
                } else {
                    state.withLock { $0.statistics.overloaded += 1 }
                    metrics.overloaded.increment()
                    reply(.error(.init(code: .overloaded, message: "cloud queue full")), to: peer, router, encoder)
                }
            }
        }
    }

    private func reply(_ message: WireMessage, to peer: [UInt8], _ router: ZMQSocket, _ encoder: WireEncoder) {
        guard let bytes = try? encoder.encode(message) else { return }
        _ = try? router.send(multipart: [peer, bytes], flags: .dontWait)
    }

    /// Puts jobs back at the head of the queue, in order.
    func requeue(_ jobs: [Job]) {
        queue.withLock { pending in
            pending.jobs.insert(contentsOf: jobs, at: 0)
            pending.bytes += jobs.reduce(0) { $0 + $1.bytes }
        }
    }

    func countMalformed() {
        state.withLock { $0.statistics.malformed += 1 }
        metrics.malformed.increment()
    }
}
