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
    private var peers: [[UInt8]: Peer] = [:]
    private var sessions: [Key: Session] = [:]
    private var clock: UInt64 = 0
    private let workspace = Workspace()
    /// Logits of up to `headRows` rows, reused by every `finish`.
    private var logitsBuffer: [Float] = []
    /// Rows the LM head computes at once in `finish` (64 rows of a 49,152-token vocabulary: 12 MB).
    static let headRows = 64
    /// Counters for logs and metrics.
    public private(set) var evictions = 0
    public private(set) var forwardedPositions = 0
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

    /// Runs the next rows of each job through the cloud's layers in one batched pass per split
    /// layer (sessions of edges splitting at the same layer share every matrix multiply). The
    /// pass holds about `maxRows` rows (`passRows`), so long prefills advance in chunks while
    /// other sessions' decode steps keep going.
    public func runChunk(_ jobs: [ForwardJob], maxRows: Int) {
        let c = model.configuration
        let d = c.hiddenSize
        let pending = jobs.filter { !$0.isComputed }
        let allotted = Self.passRows(remaining: pending.map { $0.rowCount - $0.computedRows }, maxRows: maxRows)
        for splitLayer in Set(pending.map(\.splitLayer)).sorted() {
            let members = pending.indices.filter { pending[$0].splitLayer == splitLayer && allotted[$0] > 0 }
            guard !members.isEmpty else { continue }
            let group = members.map { pending[$0] }
            let counts = members.map { allotted[$0] }
            var segments: [BatchSegment] = []
            var hidden: [Float] = []
            hidden.reserveCapacity(counts.reduce(0, +) * d)
            for (job, count) in zip(group, counts) {
                segments.append(BatchSegment(rows: count, startPosition: job.start + job.computedRows, cache: job.session.cache))
                hidden += job.hidden[(job.computedRows * d)..<((job.computedRows + count) * d)]
            }
            do {
                try model.forward(&hidden, segments: segments, layers: splitLayer..<c.layerCount, workspace: workspace)
            } catch {
                // A batch fails as a whole only for a reason one of its jobs caused; rerun them
                // one by one so that the others still get their rows.
                if group.count > 1 {
                    for job in group { runChunk([job], maxRows: maxRows) }
                } else if let job = group.first {
                    job.failure = .error(.init(code: .internal, sessionID: job.request.sessionID,
                                               requestID: job.request.requestID, message: String(describing: error)))
                }
                continue
            }
            var offset = 0
            for (job, count) in zip(group, counts) {
                job.hidden.replaceSubrange((job.computedRows * d)..<((job.computedRows + count) * d),
                                           with: hidden[(offset * d)..<((offset + count) * d)])
                job.advance(by: count)
                job.session.length = job.start + job.computedRows
                forwardedPositions += count
                offset += count
            }
        }
    }

    /// Rows each job runs in the next pass, for jobs with `remaining` rows left (in arrival
    /// order). A job with at most a quarter of `maxRows` left (a decode step, a verify batch,
    /// the end of a prompt) runs them all, however many such jobs there are. Longer ones (prompts)
    /// fill what is left of `maxRows` rows, fewest rows left first, each at most `maxRows`; and
    /// the oldest one left out still gets a quarter of `maxRows`, so a prompt advances even
    /// behind 64 decoding sessions. Without this budget, 16 prompts arriving together were one
    /// pass of 16 × 64 rows that every decode step in it waited for.
    static func passRows(remaining: [Int], maxRows: Int) -> [Int] {
        let quarter = max(1, maxRows / 4)
        var rows = remaining.map { $0 <= quarter ? $0 : 0 }
        var left = maxRows - rows.reduce(0, +)
        for index in remaining.indices.sorted(by: { (remaining[$0], $0) < (remaining[$1], $1) }) where rows[index] == 0 {
            rows[index] = min(remaining[index], maxRows, max(left, 0))
            left -= rows[index]
        }
        if let starved = remaining.indices.first(where: { rows[$0] == 0 && remaining[$0] > 0 }) {
            rows[starved] = min(remaining[starved], quarter)
        }
        return rows
    }

    /// Answers computed jobs: the final norm and head over every job's output rows in one
    /// pass, then each row's token (sampled with the edge's draw) and top-k.
    public func finish(_ jobs: [ForwardJob]) -> [WireMessage] {
        let c = model.configuration
        let d = c.hiddenSize
        var answers = [WireMessage?](repeating: nil, count: jobs.count)
        var outputRows: [Float] = []
        var rowCounts: [Int] = []
        for (index, job) in jobs.enumerated() {
            job.session.busy = false
            job.session.reservedBytes = 0
            if let failure = job.failure {
                answers[index] = failure
                rowCounts.append(0)
                continue
            }
            let firstRow = job.request.flags.contains(.allRows) ? 0 : job.rowCount - 1
            outputRows += job.hidden[(firstRow * d)...]
            rowCounts.append(job.rowCount - firstRow)
        }
        if c.isPolicy {
            // A robot policy answers with its action chunk, read from each job's last position.
            for (index, job) in jobs.enumerated() where answers[index] == nil {
                let request = job.request
                do {
                    let values = try model.actions(job.hidden, rows: job.rowCount, workspace: workspace)
                    answers[index] = .actions(.init(sessionID: request.sessionID, requestID: request.requestID,
                                                    horizon: UInt32(c.actionHorizon), dimensions: UInt32(c.actionDimensions),
                                                    values: values))
                } catch {
                    answers[index] = .error(.init(code: .internal, sessionID: request.sessionID, requestID: request.requestID,
                                                  message: String(describing: error)))
                }
            }
            for job in jobs { enforceBudget(keeping: job.key) }
            return answers.map { $0! }
        }
        // The head runs over at most `headRows` rows at a time into one reused buffer: a pass's
        // logits (16 rows: 3 MB) were a fresh mapping, faulted in and unmapped, every pass.
        let owners = rowCounts.enumerated().flatMap { index, count in [Int](repeating: index, count: count) }
        var rows = [[WireMessage.ResultRow]](repeating: [], count: jobs.count)
        let vocabulary = c.vocabularySize
        if logitsBuffer.count < min(owners.count, Self.headRows) * vocabulary {
            logitsBuffer = [Float](repeating: 0, count: min(owners.count, Self.headRows) * vocabulary)
        }
        var first = 0
        while first < owners.count {
            let count = min(Self.headRows, owners.count - first)
            do {
                try outputRows.withUnsafeBufferPointer { input in
                    try logitsBuffer.withUnsafeMutableBufferPointer { output in
                        try model.logits(input.baseAddress! + first * d, rows: count, into: output.baseAddress!, workspace: workspace)
                    }
                }
            } catch {
                return jobs.map { job in
                    .error(.init(code: .internal, sessionID: job.request.sessionID, requestID: job.request.requestID,
                                 message: String(describing: error)))
                }
            }
            // Each row's token, top-k and distribution read only that row's logits: the rows run
            // on the worker pool (16 rows' log-sum-exp and argmax over 49,152 logits were ≈ 0.5 ms
            // of a pass on the compute thread alone).
            var picked = [WireMessage.ResultRow?](repeating: nil, count: count)
            logitsBuffer.withUnsafeBufferPointer { all in
                picked.withUnsafeMutableBufferPointer { picked in
                    Parallel.forEach(count) { row in
                        let request = jobs[owners[first + row]].request
                        let parameters = SamplingParameters(
                            temperature: request.sampling.temperature, topK: Int(request.sampling.topK),
                            topP: request.sampling.topP)
                        let slice = UnsafeBufferPointer(rebasing: all[(row * vocabulary)..<((row + 1) * vocabulary)])
                        let token = Sampler.pick(slice, parameters: parameters, uniform: request.sampling.uniform)
                        picked[row] = .init(
                            token: .init(tokenID: UInt32(token.token), logprob: token.logProbability),
                            topK: Self.topK(slice, count: Int(request.topK)),
                            probabilities: request.flags.contains(.distributions)
                                ? SpeculativeAcceptance.distribution(slice, parameters: parameters) : nil)
                    }
                }
            }
            for row in 0..<count { rows[owners[first + row]].append(picked[row]!) }
            first += count
        }
        for (index, job) in jobs.enumerated() where answers[index] == nil {
            let request = job.request
            answers[index] = .result(.init(sessionID: request.sessionID, requestID: request.requestID,
                                           startPosition: UInt32(job.start + job.rowCount - rowCounts[index]), rows: rows[index]))
        }
        for job in jobs { enforceBudget(keeping: job.key) }
        return answers.map { $0! }
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

    /// Makes room under the KV budget for what `request` will add to its session's cache,
    /// evicting idle sessions, least recently used first. Returns false when the request still
    /// does not fit because the budget is held by sessions being computed (the caller waits);
    /// true when it fits, or when the request is one `begin` will refuse or answer anyway.
    public func makeRoom(for request: WireMessage.ForwardRequest, from peer: [UInt8]) -> Bool {
        guard let settings = peers[peer] else { return true }
        let c = model.configuration
        let end = Int(request.startPosition) + request.positionCount
        guard end <= maxPositions else { return true }
        let key = Key(peer: peer, session: request.sessionID)
        let current = sessions[key]?.budgetedBytes ?? 0
        return evictIdleSessions(toFit: max(0, projectedBytes(end: end, splitLayer: settings.splitLayer) - current), keeping: key)
    }

    /// KV bytes a session's cache has allocated once it holds `end` positions (it starts at
    /// `KVCache.initialCapacity` and doubles).
    func projectedBytes(end: Int, splitLayer: Int) -> Int {
        let c = model.configuration
        return KVCache.byteCount(holding: end, layerCount: c.layerCount - splitLayer, kvWidth: c.kvWidth, maxPositions: maxPositions)
    }

    /// Bytes all sessions count against the budget: what they hold, or what a request being
    /// computed will make them hold.
    var budgetedBytes: Int { sessions.values.reduce(0) { $0 + $1.budgetedBytes } }

    /// Evicts least recently used sessions (never `keeping`) until under the budget.
    private func enforceBudget(keeping: Key) {
        _ = evictIdleSessions(toFit: 0, keeping: keeping)
    }

    /// Evicts the least recently used idle session of `peer` while it holds `maxSessionsPerPeer`,
    /// and of anyone while all hold `maxSessions`; false when only busy sessions are left.
    private func makeRoomForSession(of peer: [UInt8]) -> Bool {
        func evictIdlest(where belongs: (Key) -> Bool) -> Bool {
            guard let victim = sessions.filter({ belongs($0.key) && !$0.value.busy })
                .min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { return false }
            sessions[victim.key] = nil
            evictions += 1
            return true
        }
        while sessions.count >= maxSessions {
            guard evictIdlest(where: { _ in true }) else { return false }
        }
        var held = sessions.keys.reduce(0) { $0 + ($1.peer == peer ? 1 : 0) }
        while held >= maxSessionsPerPeer {
            guard evictIdlest(where: { $0.peer == peer }) else { return false }
            held -= 1
        }
        return true
    }

    /// Evicts idle sessions (never `keeping`, never one being computed), least recently used
    /// first, until `needed` more bytes fit under the budget; false when they cannot.
    private func evictIdleSessions(toFit needed: Int, keeping: Key) -> Bool {
        var total = budgetedBytes
        while total + needed > memoryBudgetBytes {
            guard let victim = sessions.filter({ $0.key != keeping && !$0.value.busy })
                .min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { return false }
            total -= victim.value.budgetedBytes
            sessions[victim.key] = nil
            evictions += 1
        }
        return true
    }
}

/// A problem with one request, answered to the edge with `code` and `message`.
struct CloudError: Error {
    let code: WireMessage.ErrorCode
    let message: String
}
