import Foundation

/// The cloud's per-session state and compute: one KV cache per (connection, session) for the
/// layers after the edge's split, under a byte budget, and the handling of every message that
/// touches a session. Pure logic, no sockets: the cloud server feeds it decoded messages.
///
/// Every session belongs to the authenticated client that created it (its `principal`: the
/// CURVE public key the ZAP handler admitted, "" without CURVE). A message for a session from
/// another principal — a client that took over a connection's routing id — is refused, and so
/// is a request whose id is not after the session's last one (a replay); both are counted.
///
/// Not thread-safe: the cloud's compute thread owns it.
public final class CloudSessionStore {
    /// Settings of one edge connection, fixed by its hello.
    public struct Peer: Sendable, Equatable {
        public var splitLayer: Int
        public var encoding: ActivationEncoding
        public var name: String
        /// The authenticated client that said hello on this connection.
        public var principal: String
        /// The store's clock at the peer's last hello or request.
        var lastUsed: UInt64
    }

    struct Key: Hashable {
        let peer: [UInt8]
        let session: UInt64
    }

    final class Session {
        let cache: KVCache
        /// The authenticated client that created the session; no other may touch it.
        let owner: String
        /// The id of the last request admitted; a request must carry a larger one.
        var lastRequestID: UInt64 = 0
        /// Positions held. Tracked here rather than read from the cache, because a split at the
        /// last layer leaves the cloud no layers (and so an empty cache) but still a sequence.
        var length = 0
        var lastUsed: UInt64
        /// A forward request for this session is being computed (possibly in chunks).
        var busy = false
        /// What the cache will hold once that request is computed (counted against the budget
        /// from admission on, although the cache grows only during the passes).
        var reservedBytes = 0
        /// Bytes this session counts against the budget.
        var budgetedBytes: Int { max(cache.byteCount, reservedBytes) }
        init(cache: KVCache, owner: String, lastUsed: UInt64) {
            self.cache = cache
            self.owner = owner
            self.lastUsed = lastUsed
        }
    }

    public let model: TransformerModel
    public let modelIdentity: SHA256Digest
    public let limits: WireLimits
    /// KV bytes all sessions together may hold; the least recently used are evicted past it.
    public let memoryBudgetBytes: Int
    /// Longest session, in positions.
    public let maxPositions: Int
    /// Connections whose hello is kept; past it the least recently active one is forgotten (it
    /// gets `rebuildRequired` if it comes back). Edges come and go (and re-make connections
    /// after every network blip) and the cloud never hears of a disconnect, so without a bound
    /// the table only grows.
    public let maxPeers: Int
    /// Sessions one connection may hold, and all connections together. The KV budget bounds
    /// their memory only when they hold cache bytes; a split at the last layer leaves the cloud
    /// none, so without these a peer could make sessions without end. Past either, the least
    /// recently used idle session (of that peer, or of all) is evicted.
    public let maxSessionsPerPeer: Int
    public let maxSessions: Int
    var peers: [[UInt8]: Peer] = [:]
    var sessions: [Key: Session] = [:]
    var clock: UInt64 = 0
    let workspace = Workspace()
    /// Logits of up to `headRows` rows, reused by every `finish`.
    var logitsBuffer: [Float] = []
    /// Rows the LM head computes at once in `finish` (64 rows of a 49,152-token vocabulary: 12 MB).
    static let headRows = 64
    /// Counters for logs and metrics.
    public internal(set) var evictions = 0
    public internal(set) var forwardedPositions = 0
    /// Messages refused because they came from another principal than the session's (or the
    /// connection's hello's) owner.
    public private(set) var foreignRejections = 0
    /// Requests refused because their id was not after the session's last one.
    public private(set) var replayRejections = 0

    /// - Parameters:
    ///   - model: a part holding at least every layer an edge may ask for, and the head.
    public init(model: TransformerModel, modelIdentity: SHA256Digest, limits: WireLimits = WireLimits(),
                memoryBudgetBytes: Int = 1 << 30, maxPositions: Int? = nil, maxPeers: Int = 65_536,
                maxSessionsPerPeer: Int = 1024, maxSessions: Int = 16_384) {
        self.maxSessionsPerPeer = max(1, maxSessionsPerPeer)
        self.maxSessions = max(1, maxSessions)
        self.model = model
        self.modelIdentity = modelIdentity
        self.limits = limits
        self.memoryBudgetBytes = memoryBudgetBytes
        self.maxPositions = min(maxPositions ?? model.configuration.maxPositions, model.configuration.maxPositions)
        self.maxPeers = max(1, maxPeers)
    }

    /// Number of live sessions.
    public var sessionCount: Int { sessions.count }
    /// Number of connections whose hello is kept.
    public var peerCount: Int { peers.count }
    /// KV bytes held by all sessions.
    public var cacheBytes: Int { sessions.values.reduce(0) { $0 + $1.cache.byteCount } }

    /// Handles one message from `peer` (its routing identity), sent by the authenticated
    /// `principal`, and returns the reply, if any.
    /// Never throws: every problem becomes an error reply naming it.
    public func handle(_ message: WireMessage, from peer: [UInt8], principal: String = "") -> WireMessage? {
        switch message {
        case .hello(let hello):
            return handleHello(hello, from: peer, principal: principal)
        case .prefill(let request), .step(let request):
            // One request on its own: admit it, run every row, answer.
            switch begin(request, from: peer, principal: principal) {
            case .reply(let reply): return reply
            case .started(let job):
                while !job.isComputed { runChunk([job], maxRows: Int.max) }
                return finish([job])[0]
            }
        case .truncate(let truncate):
            guard let session = sessions[Key(peer: peer, session: truncate.sessionID)] else {
                return .error(.init(code: .unknownSession, sessionID: truncate.sessionID, message: "no session \(truncate.sessionID)"))
            }
            guard session.owner == principal else {
                foreignRejections += 1
                return .error(.init(code: .unknownSession, sessionID: truncate.sessionID, message: "no session \(truncate.sessionID)"))
            }
            session.cache.truncate(to: Int(truncate.length))
            session.length = min(session.length, Int(truncate.length))
            return nil
        case .close(let sessionID):
            let key = Key(peer: peer, session: sessionID)
            if let session = sessions[key] {
                if session.owner == principal { sessions[key] = nil } else { foreignRejections += 1 }
            }
            return nil
        case .heartbeat(let beat) where beat.kind == .ping:
            return .heartbeat(.init(kind: .pong, timestampNanoseconds: beat.timestampNanoseconds))
        case .heartbeat, .helloAck, .result, .error, .rebuildNeeded, .actions:
            return nil  // Not for the cloud; ignore rather than echo errors back and forth.
        }
    }

    /// The cache and length of a session, whichever connection it is on (for tests that compare
    /// the cloud's state with a reference; call only while the compute thread is idle).
    func session(id: UInt64) -> (cache: KVCache, length: Int)? {
        sessions.first { $0.key.session == id }.map { ($0.value.cache, $0.value.length) }
    }

    /// Forgets a disconnected peer and its sessions.
    public func dropPeer(_ peer: [UInt8]) {
        peers[peer] = nil
        sessions = sessions.filter { $0.key.peer != peer }
    }

    private func handleHello(_ hello: WireMessage.Hello, from peer: [UInt8], principal: String) -> WireMessage {
        let c = model.configuration
        guard hello.modelIdentity == modelIdentity else {
            return .error(.init(code: .modelMismatch, message: "this cloud serves model \(modelIdentity.hex.prefix(16)), not \(hello.modelIdentity.hex.prefix(16))"))
        }
        let k = Int(hello.splitLayer)
        guard k >= model.layers.lowerBound, k <= c.layerCount else {
            return .error(.init(code: .limitExceeded, message: "split layer \(k) outside the layers this cloud holds (\(model.layers.lowerBound)…\(c.layerCount))"))
        }
        // A session's cache holds the layers of the split it was made for; under another split
        // it would be indexed out of its range. A new split layer starts the peer afresh.
        // A hello from another client on a routing id we know (the first connection went away
        // and another client chose the same id) starts afresh too: its sessions are not theirs.
        if let previous = peers[peer], previous.splitLayer != k || previous.principal != principal {
            sessions = sessions.filter { $0.key.peer != peer }
        }
        clock += 1
        peers[peer] = Peer(splitLayer: k, encoding: hello.activationEncoding, name: hello.clientName, principal: principal,
                           lastUsed: clock)
        if peers.count > maxPeers, let idlest = peers.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            dropPeer(idlest)
        }
        return .helloAck(.init(splitLayer: hello.splitLayer, activationEncoding: hello.activationEncoding,
                               cloudLayers: UInt32(k)..<UInt32(c.layerCount), hiddenSize: UInt32(c.hiddenSize),
                               limits: limits))
    }

    /// What admitting a forward request gave: a job to compute, or an answer right away
    /// (an error, or a request to rebuild the session).
    public enum Admission {
        case started(ForwardJob)
        case reply(WireMessage)
    }

    /// A forward request being computed: its session, its hidden states (updated in place, layer
    /// by layer, chunk by chunk) and how many of its rows have passed every layer.
    public final class ForwardJob {
        public let peer: [UInt8]
        public let request: WireMessage.ForwardRequest
        let key: Key
        let session: Session
        let splitLayer: Int
        var hidden: [Float]
        /// Rows of `hidden` that have been through all of the cloud's layers.
        public private(set) var computedRows = 0
        /// Set when a chunk failed; the job's answer is this error.
        var failure: WireMessage?

        init(peer: [UInt8], request: WireMessage.ForwardRequest, key: Key, session: Session, splitLayer: Int, hidden: [Float]) {
            self.peer = peer
            self.request = request
            self.key = key
            self.session = session
            self.splitLayer = splitLayer
            self.hidden = hidden
        }

        public var rowCount: Int { request.positionCount }
        public var isComputed: Bool { computedRows == rowCount || failure != nil }
        var start: Int { Int(request.startPosition) }
        func advance(by rows: Int) { computedRows += rows }
    }

    /// Checks a forward request and readies its session (new, continued or rolled back); the
    /// rows are computed by `runChunk` and answered by `finish`. Never throws: problems become
    /// replies naming them.
    public func begin(_ request: WireMessage.ForwardRequest, from peer: [UInt8], principal: String = "") -> Admission {
        do {
            return try admit(request, from: peer, principal: principal)
        } catch let error as CloudError {
            return .reply(.error(.init(code: error.code, sessionID: request.sessionID, requestID: request.requestID,
                                       message: error.message)))
        } catch {
            return .reply(.error(.init(code: .internal, sessionID: request.sessionID, requestID: request.requestID,
                                       message: String(describing: error))))
        }
    }

    private func admit(_ request: WireMessage.ForwardRequest, from peer: [UInt8], principal: String) throws -> Admission {
        guard let settings = peers[peer] else {
            // Also what an edge sees after its socket reconnected (a new routing id) or this node
            // restarted: not malformed, just unknown; the edge says hello again and resends.
            throw CloudError(code: .rebuildRequired,
                             message: "this node has no hello from this connection: send hello, then the session from position 0")
        }
        guard settings.principal == principal else {
            // Another client on a routing id whose hello (and sessions) belong to someone else.
            foreignRejections += 1
            throw CloudError(code: .rebuildRequired,
                             message: "this connection's hello came from another client: send hello, then the session from position 0")
        }
        let c = model.configuration
        guard request.activations.hiddenSize == c.hiddenSize else {
            throw CloudError(code: .malformedMessage, message: "hidden size \(request.activations.hiddenSize), model has \(c.hiddenSize)")
        }
        let rows = request.positionCount
        let start = Int(request.startPosition)
        guard start + rows <= maxPositions else {
            throw CloudError(code: .limitExceeded, message: "positions \(start)..<\(start + rows) past the limit \(maxPositions)")
        }
        let firstRow = request.flags.contains(.allRows) ? 0 : rows - 1
        let wantsDistributions = request.flags.contains(.distributions)
        if wantsDistributions, 64 + (rows - firstRow) * (14 + 4 * c.vocabularySize) > limits.maxMessageBytes {
            throw CloudError(code: .limitExceeded,
                             message: "\(rows - firstRow) distributions of \(c.vocabularySize) values exceed the message limit")
        }
        let key = Key(peer: peer, session: request.sessionID)
        clock += 1
        peers[peer]?.lastUsed = clock
        let session: Session
        if let existing = sessions[key] {
            session = existing
            guard session.owner == principal else {
                // Unreachable while hellos are checked above; kept so a session never serves
                // a client other than its creator whatever the connection table says.
                foreignRejections += 1
                throw CloudError(code: .unknownSession, message: "no session \(request.sessionID)")
            }
            guard !session.busy else {
                // An edge waits for each result before sending the next request of a session.
                throw CloudError(code: .malformedMessage, message: "session \(request.sessionID) already has a request being computed")
            }
            guard request.requestID > session.lastRequestID else {
                // Request ids grow on every connection; an old one is a replayed message.
                replayRejections += 1
                throw CloudError(code: .malformedMessage,
                                 message: "request \(request.requestID) of session \(request.sessionID) is not after request \(session.lastRequestID)")
            }
        } else {
            guard start == 0 else {
                return .reply(.rebuildNeeded(.init(sessionID: request.sessionID, requestID: request.requestID, cachedLength: 0)))
            }
            guard makeRoomForSession(of: peer) else {
                throw CloudError(code: .overloaded, message: "too many sessions in progress (limit \(maxSessionsPerPeer) per connection, \(maxSessions) in all)")
            }
            // Only the layers this peer's split leaves to the cloud: a position is complete when
            // they all hold it.
            session = Session(cache: model.makeCache(layers: settings.splitLayer..<c.layerCount, maxPositions: maxPositions),
                              owner: principal, lastUsed: clock)
            sessions[key] = session
        }
        session.lastUsed = clock
        session.lastRequestID = request.requestID
        let cached = session.length
        if start > cached {
            return .reply(.rebuildNeeded(.init(sessionID: request.sessionID, requestID: request.requestID, cachedLength: UInt32(cached))))
        }
        if start < cached {
            session.cache.truncate(to: start)
            session.length = start
        }
        session.busy = true
        session.reservedBytes = projectedBytes(end: start + rows, splitLayer: settings.splitLayer)
        return .started(ForwardJob(peer: peer, request: request, key: key, session: session,
                                   splitLayer: settings.splitLayer, hidden: request.activations.decoded()))
    }
}

/// A problem with one request, answered to the edge with `code` and `message`.
struct CloudError: Error {
    let code: WireMessage.ErrorCode
    let message: String
}
