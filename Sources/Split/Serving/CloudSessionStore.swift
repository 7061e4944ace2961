import Foundation

/// The cloud's per-session state and compute: one KV cache per (connection, session) for the
/// layers after the edge's split, under a byte budget, and the handling of every message that
/// touches a session. Pure logic, no sockets: the cloud server feeds it decoded messages.
///
/// Not thread-safe: the cloud's compute thread owns it.
public final class CloudSessionStore {
    /// Settings of one edge connection, fixed by its hello.
    public struct Peer: Sendable, Equatable {
        public var splitLayer: Int
        public var encoding: ActivationEncoding
        public var name: String
        /// The store's clock at the peer's last hello or request.
        var lastUsed: UInt64
    }

    struct Key: Hashable {
        let peer: [UInt8]
        let session: UInt64
    }

    final class Session {
        let cache: KVCache
        /// Positions held. Tracked here rather than read from the cache, because a split at the
        /// last layer leaves the cloud no layers (and so an empty cache) but still a sequence.
        var length = 0
        var lastUsed: UInt64
        init(cache: KVCache, lastUsed: UInt64) {
            self.cache = cache
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
    /// gets `rebuildRequired` if it comes back). Edges open a connection per generation and
    /// the cloud never hears of a disconnect, so without a bound the table only grows.
    public let maxPeers: Int
    private var peers: [[UInt8]: Peer] = [:]
    private var sessions: [Key: Session] = [:]
    private var clock: UInt64 = 0
    private let workspace = Workspace()
    /// Counters for logs and metrics.
    public private(set) var evictions = 0
    public private(set) var forwardedPositions = 0

    /// - Parameters:
    ///   - model: a part holding at least every layer an edge may ask for, and the head.
    public init(model: TransformerModel, modelIdentity: SHA256Digest, limits: WireLimits = WireLimits(),
                memoryBudgetBytes: Int = 1 << 30, maxPositions: Int? = nil, maxPeers: Int = 65_536) {
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

    /// Handles one message from `peer` (its routing identity) and returns the reply, if any.
    /// Never throws: every problem becomes an error reply naming it.
    public func handle(_ message: WireMessage, from peer: [UInt8]) -> WireMessage? {
        switch message {
        case .hello(let hello):
            return handleHello(hello, from: peer)
        case .prefill(let request), .step(let request):
            do {
                return try forward(request, from: peer)
            } catch let error as CloudError {
                return .error(.init(code: error.code, sessionID: request.sessionID, requestID: request.requestID,
                                    message: error.message))
            } catch {
                return .error(.init(code: .internal, sessionID: request.sessionID, requestID: request.requestID,
                                    message: String(describing: error)))
            }
        case .truncate(let truncate):
            guard let session = sessions[Key(peer: peer, session: truncate.sessionID)] else {
                return .error(.init(code: .unknownSession, sessionID: truncate.sessionID, message: "no session \(truncate.sessionID)"))
            }
            session.cache.truncate(to: Int(truncate.length))
            session.length = min(session.length, Int(truncate.length))
            return nil
        case .close(let sessionID):
            sessions[Key(peer: peer, session: sessionID)] = nil
            return nil
        case .heartbeat(let beat) where beat.kind == .ping:
            return .heartbeat(.init(kind: .pong, timestampNanoseconds: beat.timestampNanoseconds))
        case .heartbeat, .helloAck, .result, .error, .rebuildNeeded:
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

    private func handleHello(_ hello: WireMessage.Hello, from peer: [UInt8]) -> WireMessage {
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
        if let previous = peers[peer], previous.splitLayer != k {
            sessions = sessions.filter { $0.key.peer != peer }
        }
        clock += 1
        peers[peer] = Peer(splitLayer: k, encoding: hello.activationEncoding, name: hello.clientName, lastUsed: clock)
        if peers.count > maxPeers, let idlest = peers.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            dropPeer(idlest)
        }
        return .helloAck(.init(splitLayer: hello.splitLayer, activationEncoding: hello.activationEncoding,
                               cloudLayers: UInt32(k)..<UInt32(c.layerCount), hiddenSize: UInt32(c.hiddenSize),
                               limits: limits))
    }

    private func forward(_ request: WireMessage.ForwardRequest, from peer: [UInt8]) throws -> WireMessage {
        guard let settings = peers[peer] else {
            // Also what an edge sees after its socket reconnected (a new routing id) or this node
            // restarted: not malformed, just unknown; the edge says hello again and resends.
            throw CloudError(code: .rebuildRequired,
                             message: "this node has no hello from this connection: send hello, then the session from position 0")
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
        } else {
            guard start == 0 else {
                return .rebuildNeeded(.init(sessionID: request.sessionID, requestID: request.requestID, cachedLength: 0))
            }
            // Only the layers this peer's split leaves to the cloud: a position is complete when
            // they all hold it.
            session = Session(cache: model.makeCache(layers: settings.splitLayer..<c.layerCount, maxPositions: maxPositions),
                              lastUsed: clock)
            sessions[key] = session
        }
        session.lastUsed = clock
        let cached = session.length
        if start > cached {
            return .rebuildNeeded(.init(sessionID: request.sessionID, requestID: request.requestID, cachedLength: UInt32(cached)))
        }
        if start < cached {
            session.cache.truncate(to: start)
            session.length = start
        }

        var hidden = request.activations.decoded()
        try model.forward(&hidden, rows: rows, startPosition: start, layers: settings.splitLayer..<c.layerCount,
                          cache: session.cache, workspace: workspace)
        session.length = start + rows
        forwardedPositions += rows
        let outputRows = Array(hidden[(firstRow * c.hiddenSize)...])
        let logits = try model.logits(outputRows, rows: rows - firstRow, workspace: workspace)
        let parameters = SamplingParameters(
            temperature: request.sampling.temperature, topK: Int(request.sampling.topK), topP: request.sampling.topP)
        var results: [WireMessage.ResultRow] = []
        logits.withUnsafeBufferPointer { all in
            for row in 0..<(rows - firstRow) {
                let slice = UnsafeBufferPointer(rebasing: all[(row * c.vocabularySize)..<((row + 1) * c.vocabularySize)])
                let picked = Sampler.pick(slice, parameters: parameters, uniform: request.sampling.uniform)
                results.append(.init(
                    token: .init(tokenID: UInt32(picked.token), logprob: picked.logProbability),
                    topK: Self.topK(slice, count: Int(request.topK)),
                    probabilities: wantsDistributions ? SpeculativeAcceptance.distribution(slice, parameters: parameters) : nil))
            }
        }
        enforceBudget(keeping: key)
        return .result(.init(sessionID: request.sessionID, requestID: request.requestID,
                             startPosition: UInt32(start + firstRow), rows: results))
    }

    /// The `count` most likely tokens with their log-probabilities.
    static func topK(_ logits: UnsafeBufferPointer<Float>, count: Int) -> [WireMessage.TokenLogprob] {
        guard count > 0 else { return [] }
        let logSumExp = Sampler.logSumExp(logits)
        var best: [(Int, Float)] = []
        for (i, v) in logits.enumerated() where best.count < count || v > best[best.count - 1].1 {
            let index = best.firstIndex { v > $0.1 } ?? best.count
            best.insert((i, v), at: index)
            if best.count > count { best.removeLast() }
        }
        return best.map { .init(tokenID: UInt32($0.0), logprob: $0.1 - logSumExp) }
    }

    /// Evicts least recently used sessions (never `keeping`) until under the budget.
    private func enforceBudget(keeping: Key) {
        var total = cacheBytes
        while total > memoryBudgetBytes {
            guard let victim = sessions.filter({ $0.key != keeping }).min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { return }
            total -= victim.value.cache.byteCount
            sessions[victim.key] = nil
            evictions += 1
        }
    }
}

/// A problem with one request, answered to the edge with `code` and `message`.
struct CloudError: Error {
    let code: WireMessage.ErrorCode
    let message: String
}
