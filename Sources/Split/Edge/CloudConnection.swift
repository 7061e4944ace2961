import Foundation

/// Where a cloud node listens and the key it proves itself with.
public struct CloudEndpoint: Sendable, Equatable {
    public var address: String
    /// The cloud's CURVE public key; nil connects without encryption (tests, `--insecure`).
    public var serverKey: CurveKey?

    public init(address: String, serverKey: CurveKey?) {
        self.address = address
        self.serverKey = serverKey
    }
}

/// How the edge talks to its cloud nodes.
public struct EdgeLinkConfiguration: Sendable {
    /// Cloud endpoints in order of preference; the edge fails over down the list.
    public var endpoints: [CloudEndpoint]
    /// The edge's CURVE key pair (must be on each cloud's allow-list).
    public var clientKeys: CurveKeyPair?
    /// A ping is sent after this long without hearing from the cloud while waiting.
    public var heartbeatIntervalSeconds: Double
    /// The cloud is declared dead after this long without any message from it.
    public var deadAfterSeconds: Double
    public var limits: WireLimits
    /// Name sent in hello, for the cloud's logs.
    public var clientName: String
    /// Told each forward request's round trip, from sending it to its result (for metrics, the
    /// link drift monitor and the selection history).
    public var onRoundTrip: (@Sendable (CloudRoundTrip) -> Void)?
    /// When set, the replicas are read from it at the start of each session (DNS names
    /// re-resolved while the edge runs) instead of from `endpoints`.
    public var replicaDirectory: ReplicaDirectory?

    public init(endpoints: [CloudEndpoint], clientKeys: CurveKeyPair?, heartbeatIntervalSeconds: Double = 0.25,
                deadAfterSeconds: Double = 2.0, limits: WireLimits = WireLimits(), clientName: String = "edge") {
        self.endpoints = endpoints
        self.clientKeys = clientKeys
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.deadAfterSeconds = deadAfterSeconds
        self.limits = limits
        self.clientName = clientName
    }
}

/// One forward request as the edge saw it: the time from sending it to its result (network and
/// the cloud's work together), the bytes each way and the positions it carried.
public struct CloudRoundTrip: Sendable, Equatable {
    public var seconds: Double
    public var requestBytes: Int
    public var replyBytes: Int
    /// Positions carried: 1 for a decode step, the prompt's chunk for a prefill.
    public var rows: Int

    /// Makes a record.
    public init(seconds: Double, requestBytes: Int, replyBytes: Int, rows: Int) {
        self.seconds = seconds
        self.requestBytes = requestBytes
        self.replyBytes = replyBytes
        self.rows = rows
    }
}

/// Why a cloud could not be used.
public enum LinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing heard from the cloud for the dead-peer timeout (down, unreachable, or our key
    /// refused — CURVE refusals are silent by design).
    case peerDead(endpoint: String, silentSeconds: Double)
    /// The cloud answered with an error.
    case remote(code: WireMessage.ErrorCode, message: String)
    /// The cloud no longer holds the session (evicted or restarted); resend from `cachedLength`.
    case rebuildNeeded(cachedLength: Int)
    /// The connection was lost and re-made while a reply was awaited: the reply cannot come
    /// (the cloud answers on the connection a request came in on), and the cloud does not know
    /// the new connection. Say hello again and resend.
    case connectionReset(endpoint: String)
    case transport(String)

    public var description: String {
        switch self {
        case .peerDead(let endpoint, let seconds):
            return String(format: "cloud %@ silent for %.1f s", endpoint, seconds)
        case .remote(let code, let message): return "cloud error \(code): \(message)"
        case .rebuildNeeded(let length): return "cloud lost the session (holds \(length) positions)"
        case .connectionReset(let endpoint): return "the connection to \(endpoint) was re-made while waiting for a reply"
        case .transport(let message): return "transport: \(message)"
        }
    }

    /// Whether trying another cloud node could help. A rebuild is first retried on the same
    /// node (`SplitGenerator` bounds how often); one past that bound means the node is failing.
    /// A node that refuses the hello (another model, another protocol version, not the layers
    /// this split needs) says nothing about the next one, which may serve.
    public var warrantsFailover: Bool {
        switch self {
        case .peerDead, .transport, .rebuildNeeded, .connectionReset: return true
        case .remote(let code, _):
            switch code {
            case .overloaded, .internal, .rebuildRequired, .modelMismatch, .unsupportedVersion, .limitExceeded: return true
            case .malformedMessage, .unknownSession: return false  // the edge's own mistake
            }
        }
    }
}

/// One edge-to-cloud connection (a DEALER socket), owned by the thread that runs a generation.
/// Request/reply with request ids; while waiting it pings the cloud and declares it dead after
/// `deadAfterSeconds` of silence.
public final class CloudConnection {
    public let endpoint: CloudEndpoint
    private let configuration: EdgeLinkConfiguration
    private let socket: ZMQSocket
    /// The socket's connection events: a `disconnected` while a reply is awaited means the
    /// reply cannot come (the cloud answers on the connection the request came in on).
    private let monitor: ZMQMonitor
    private let encoder: WireEncoder
    private let decoder: WireDecoder
    private var nextRequestID: UInt64 = 1
    /// When the last request was handed to the socket.
    private var lastSentNanoseconds: UInt64?
    /// Limits the cloud announced in its hello ack.
    public private(set) var peerLimits: WireLimits
    /// Bytes sent and received, and round trips made, on this connection.
    public private(set) var bytesSent = 0
    public private(set) var bytesReceived = 0
    public private(set) var roundTrips = 0

    /// Connects (asynchronously: a dead cloud shows up as silence on the first request).
    /// - Throws: `ZMQError` for a malformed endpoint or key.
    public init(context: ZMQContext, endpoint: CloudEndpoint, configuration: EdgeLinkConfiguration) throws {
        self.endpoint = endpoint
        self.configuration = configuration
        encoder = WireEncoder(limits: configuration.limits)
        decoder = WireDecoder(limits: configuration.limits)
        peerLimits = configuration.limits
        socket = try context.socket(.dealer)
        // Only disconnects: a kept connection's monitor is read when the connection is next
        // used, and a dead cloud's reconnect attempts would otherwise queue events meanwhile.
        monitor = try ZMQMonitor(watching: socket, context: context, events: ZMQMonitor.disconnectEvents)
        try socket.setOption(.linger(milliseconds: 0))
        try socket.setOption(.maxMessageSize(bytes: Int64(configuration.limits.maxMessageBytes)))
        try socket.setOption(.immediate(true))
        try socket.setOption(.reconnectInterval(milliseconds: 100))
        try socket.setOption(.reconnectIntervalMax(milliseconds: Self.reconnectIntervalMaxMilliseconds))
        // ZMTP heartbeats keep a connection that waits between generations honest: a path that
        // died silently (a NAT's idle timeout, a host gone without a reset) is dropped by libzmq
        // and re-made, and the next request sees the disconnect instead of waiting for silence.
        let beat = Int32(min(60_000, max(1_000, configuration.deadAfterSeconds * 1_000)))
        try socket.setOption(.heartbeatInterval(milliseconds: beat))
        try socket.setOption(.heartbeatTimeout(milliseconds: 3 * beat))
        if let serverKey = endpoint.serverKey {
            guard let keys = configuration.clientKeys else {
                throw ZMQError(call: "CURVE", code: EINVAL)
            }
            try socket.setOption(.curveServerKey(serverKey))
            try socket.setOption(.curvePublicKey(keys.publicKey))
            try socket.setOption(.curveSecretKey(keys.secretKey))
        }
        try socket.connect(endpoint.address)
    }

    deinit {
        monitor.close()
        socket.close()
    }

    /// The longest wait between reconnect attempts to an unreachable cloud (from 100 ms, doubling).
    static let reconnectIntervalMaxMilliseconds: Int32 = 5_000

    /// How long libzmq keeps trying, after `close()`, to deliver what was posted just before
    /// (the session's `close`). The socket lingers 0 ms otherwise, so that nothing waits on a
    /// dead cloud; without this the `close` was dropped with the socket, and the cloud kept every
    /// finished session's KV cache until its budget evicted it (found by scripts/soak.sh).
    static let closeLingerMilliseconds: Int32 = 200

    /// Closes the socket now; messages already posted are delivered in the background for up
    /// to `closeLingerMilliseconds`.
    public func close() {
        monitor.close()
        try? socket.setOption(.linger(milliseconds: Self.closeLingerMilliseconds))
        socket.close()
    }

    /// Reads the connection events that have arrived; true when one was a disconnect.
    private func drainEvents() -> Bool {
        var disconnected = false
        while let event = try? monitor.next(timeoutMilliseconds: 0) {
            if event.kind == .disconnected { disconnected = true }
        }
        return disconnected
    }

    /// A fresh request id.
    public func makeRequestID() -> UInt64 {
        defer { nextRequestID += 1 }
        return nextRequestID
    }

    /// Sends hello and waits for the cloud's acceptance.
    /// - Throws: `LinkError` (`.remote(.modelMismatch, …)` when the cloud serves another model).
    public func hello(_ hello: WireMessage.Hello) throws -> WireMessage.HelloAck {
        let reply = try exchange(.hello(hello)) { message in
            if case .helloAck = message { return true }
            if case .error(let report) = message, report.requestID == 0 { return true }
            return false
        }
        switch reply {
        case .helloAck(let ack):
            peerLimits = ack.limits
            return ack
        case .error(let report): throw LinkError.remote(code: report.code, message: report.message)
        default: throw LinkError.transport("unexpected reply to hello")
        }
    }

    /// Sends a forward request and waits for its result.
    /// - Throws: `LinkError.rebuildNeeded` when the cloud lost the session, other `LinkError`s.
    public func forward(_ message: WireMessage) throws -> WireMessage.ForwardResult {
        switch message {
        case .prefill(let request), .step(let request): return try forward(request, message)
        default: throw LinkError.transport("forward needs a prefill or a step")
        }
    }

    private func forward(_ request: WireMessage.ForwardRequest, _ message: WireMessage) throws -> WireMessage.ForwardResult {
        let sentBefore = bytesSent, receivedBefore = bytesReceived
        lastSentNanoseconds = nil
        var answered = false
        defer {
            // From the moment the request left (not from when it waited for a connection to be
            // made), and only when the cloud answered: a timeout or a lost connection measures
            // nothing about the link.
            if answered, let sent = lastSentNanoseconds {
                configuration.onRoundTrip?(CloudRoundTrip(
                    seconds: Double(MonotonicClock.nanoseconds() &- sent) / 1e9, requestBytes: bytesSent - sentBefore,
                    replyBytes: bytesReceived - receivedBefore, rows: request.positionCount))
            }
        }
        let reply = try exchange(message, needsKnownConnection: true) { reply in
            switch reply {
            case .result(let result): return result.requestID == request.requestID
            case .rebuildNeeded(let rebuild): return rebuild.requestID == request.requestID
            case .error(let report): return report.requestID == request.requestID || report.requestID == 0
            default: return false
            }
        }
        answered = true
        switch reply {
        case .result(let result): return result
        case .rebuildNeeded(let rebuild): throw LinkError.rebuildNeeded(cachedLength: Int(rebuild.cachedLength))
        case .error(let report): throw LinkError.remote(code: report.code, message: report.message)
        default: throw LinkError.transport("unexpected reply")
        }
    }

    /// Sends a robot policy's prefill and waits for its action chunk.
    /// - Throws: `LinkError.remote` for an error reply, `.transport` for any other answer.
    public func actions(_ request: WireMessage.ForwardRequest) throws -> WireMessage.ActionResult {
        let reply = try exchange(.prefill(request), needsKnownConnection: true) { reply in
            switch reply {
            case .actions(let chunk): return chunk.requestID == request.requestID
            case .result(let result): return result.requestID == request.requestID
            case .rebuildNeeded(let rebuild): return rebuild.requestID == request.requestID
            case .error(let report): return report.requestID == request.requestID || report.requestID == 0
            default: return false
            }
        }
        switch reply {
        case .actions(let chunk): return chunk
        case .error(let report): throw LinkError.remote(code: report.code, message: report.message)
        default: throw LinkError.transport("the cloud answered a policy request with \(reply.type), not actions")
        }
    }

    /// One heartbeat round trip: the transport's own latency, with no model work on the cloud.
    /// - Throws: `LinkError.peerDead` when no pong comes back in time.
    public func ping() throws -> Double {
        let start = MonotonicClock.nanoseconds()
        // A pong echoes its ping's send time, so a pong to any ping sent since this one also times
        // a round trip: the heartbeats sent while waiting, if this ping was lost when the
        // connection was re-made (without that, this would wait as long as heartbeats flow).
        let reply = try exchange(.heartbeat(.init(kind: .ping, timestampNanoseconds: start))) { reply in
            if case .heartbeat(let beat) = reply { return beat.kind == .pong && beat.timestampNanoseconds >= start }
            return false
        }
        guard case .heartbeat(let pong) = reply else { throw LinkError.transport("unexpected reply to a ping") }
        return Double(MonotonicClock.nanoseconds() &- pong.timestampNanoseconds) / 1e9
    }

    /// Sends a message that has no reply (truncate, close).
    public func post(_ message: WireMessage) throws {
        let bytes = try encode(message)
        _ = try? socket.send(bytes, flags: .dontWait)
        bytesSent += bytes.count
    }

    private func encode(_ message: WireMessage) throws -> [UInt8] {
        do {
            return try WireEncoder(limits: peerLimits).encode(message)
        } catch {
            throw LinkError.transport("cannot encode \(message.type): \(error)")
        }
    }

    /// Sends `message` and returns the first reply `matches` accepts, pinging while waiting.
    /// - Parameter needsKnownConnection: the message needs the cloud to know this connection (a
    ///   request of a session, not a hello or a ping): when the connection was lost and re-made
    ///   since the last exchange, the cloud would only answer `rebuildRequired`, so this throws
    ///   `connectionReset` without sending.
    private func exchange(_ message: WireMessage, needsKnownConnection: Bool = false,
                          matches: (WireMessage) -> Bool) throws -> WireMessage {
        let bytes = try encode(message)
        if drainEvents(), needsKnownConnection { throw LinkError.connectionReset(endpoint: endpoint.address) }
        do {
            // With `immediate`, nothing is connected yet when this fails: keep trying until the deadline.
            if try !socket.send(bytes, flags: .dontWait) { try waitToSend(bytes) }
        } catch let error as ZMQError {
            throw LinkError.transport(error.description)
        }
        bytesSent += bytes.count
        roundTrips += 1
        lastSentNanoseconds = MonotonicClock.nanoseconds()
        return try awaitReply(matches: matches)
    }

    /// Sends `bytes` once a connection is up; `peerDead` after `deadAfterSeconds` without one.
    private func waitToSend(_ bytes: [UInt8]) throws {
        let start = MonotonicClock.nanoseconds()
        while true {
            let silent = Double(MonotonicClock.nanoseconds() - start) / 1e9
            if silent > configuration.deadAfterSeconds {
                throw LinkError.peerDead(endpoint: endpoint.address, silentSeconds: silent)
            }
            // A disconnect before this attempt (a peer that accepted and dropped) is not this
            // request's: only one after the send is.
            _ = drainEvents()
            if (try? socket.send(bytes, flags: .dontWait)) == true { return }
            usleep(2_000)
        }
    }

    private func awaitReply(matches: (WireMessage) -> Bool) throws -> WireMessage {
        let poller = ZMQPoller()
        _ = poller.add(socket)
        _ = poller.add(monitor.socket)
        var lastHeard = MonotonicClock.nanoseconds()
        var lastPing = lastHeard
        let interval = UInt64(configuration.heartbeatIntervalSeconds * 1e9)
        let dead = UInt64(configuration.deadAfterSeconds * 1e9)
        while true {
            let now = MonotonicClock.nanoseconds()
            if now - lastHeard > dead {
                throw LinkError.peerDead(endpoint: endpoint.address, silentSeconds: Double(now - lastHeard) / 1e9)
            }
            if now - lastPing > interval {
                if let ping = try? encoder.encode(.heartbeat(.init(kind: .ping, timestampNanoseconds: now))) {
                    _ = try? socket.send(ping, flags: .dontWait)
                }
                lastPing = now
            }
            let waitMilliseconds = max(1, Int(min(interval, dead) / 1_000_000 / 2))
            guard let events = try? poller.poll(timeoutMilliseconds: waitMilliseconds) else { continue }
            // Replies first: one that arrived before the connection dropped still counts.
            if events[0].contains(.readable) {
                while let frame = try? socket.receive(flags: .dontWait) {
                    lastHeard = MonotonicClock.nanoseconds()
                    bytesReceived += frame.frame.count
                    guard !frame.more, let reply = try? decoder.decode(frame.frame) else { continue }
                    if matches(reply) { return reply }
                }
            }
            if events[1].contains(.readable), drainEvents() {
                // The request, or its reply, went with the old connection; heartbeats on the new
                // one would keep this wait alive for ever.
                throw LinkError.connectionReset(endpoint: endpoint.address)
            }
        }
    }
}
