import Foundation
import Logging

/// Generation through the split: the edge runs the embedding and layers [0, k) and keeps every
/// position's layer-k hidden state; a cloud node runs layers [k, L) and the head, and picks each
/// token. Because the edge holds the hidden states, a session lost by the cloud (eviction,
/// restart, a dead node) is rebuilt exactly on the same or the next node.
///
/// One generator serves one generation at a time on the calling thread (it owns the socket).
public final class SplitGenerator {
    public let model: TransformerModel
    public let tokenizer: TextTokenizer
    public let splitLayer: Int
    public let encoding: ActivationEncoding
    public let modelIdentity: SHA256Digest
    public let link: EdgeLinkConfiguration
    private let context: ZMQContext
    private let logger: Logger
    /// Scratch for the edge's layers; a caller running several generators on one thread (one
    /// per split configuration) passes one workspace to all, so their high-water marks are not
    /// kept once each.
    let workspace: Workspace
    /// Spreads sessions over the cloud endpoints (rendezvous hashing) and keeps failed ones last.
    private var replicas: ReplicaSelector
    /// Whether a generation closes its cloud session at the end. Tests turn this off to inspect
    /// the cloud's cache afterwards.
    var closesSessions = true
    /// The session id of the last generation (for tests that inspect the cloud).
    private(set) var lastSessionID: UInt64 = 0
    /// The cloud endpoint the generation in progress is connected to (for tests that kill it).
    private(set) var connectedEndpoint: String?
    /// Connections kept open between generations, by endpoint address, each past its hello for
    /// this generator's split layer and encoding. An edge daemon answers completion after
    /// completion; opening a connection for each paid ZeroMQ's greeting, CURVE's handshake and
    /// the hello (four round trips over the link) before every prompt, more than a short line's
    /// decoding at a long RTT. A kept connection that went stale (the cloud restarted or dropped
    /// it) answers the next request with `rebuildRequired` or silence, which `cloudRows` handles
    /// as for any connection: hello again, or fail over.
    private var idleConnections: [String: CloudConnection] = [:]
    /// Whether finished generations leave their connection open for the next one.
    public var keepsConnections = true
    /// Exit heads trained for this model (`edge-node train-exits`): split-exit's and split-spec's
    /// exits adapt layer ℓ's state before the shared head. Nil: the shared head alone.
    public var exitHeads: ExitHeads?
    /// When the last generation started (to drop the least recently used of several generators).
    public private(set) var lastUsed = DispatchTime(uptimeNanoseconds: 0)
    /// Rebuilds one token may ask of a node before the node counts as failed. A real cloud
    /// needs at most one or two (a session evicted between the chunks of a long prefill).
    static let maxRebuildsPerToken = 4

    /// - Parameters:
    ///   - model: the edge part; must hold the embedding and layers [0, splitLayer).
    /// - Throws: `ModelError` when the part lacks what the split needs.
    public init(model: TransformerModel, tokenizer: TextTokenizer, splitLayer: Int, encoding: ActivationEncoding,
                modelIdentity: SHA256Digest, link: EdgeLinkConfiguration, context: ZMQContext,
                logger: Logger = Logger(label: "split.edge"), workspace: Workspace = Workspace()) throws {
        guard splitLayer >= 0, model.hasEmbedding, model.layers.lowerBound == 0, model.layers.upperBound >= splitLayer else {
            throw ModelError.layerRangeOutOfBounds(requested: 0..<splitLayer, loaded: model.layers)
        }
        guard !link.endpoints.isEmpty else { throw ModelError.invalidConfiguration("no cloud endpoint configured") }
        self.model = model
        self.tokenizer = tokenizer
        self.splitLayer = splitLayer
        self.encoding = encoding
        self.modelIdentity = modelIdentity
        self.link = link
        replicas = ReplicaSelector(link: link)
        self.context = context
        self.logger = logger
        self.workspace = workspace
    }

    /// Per-generation state: the session's layer-k hidden states and the live connection.
    final class Session {
        let id: UInt64
        let cache: KVCache
        var hidden: [Float] = []
        var connection: CloudConnection?
        /// The connection's counters when this session took it (a kept connection carries
        /// earlier sessions' bytes and round trips).
        private var baseline = (sent: 0, received: 0, roundTrips: 0)
        /// The replicas as they were when the session started (a session keeps its list: indices
        /// below point into it), and the indices to try, best first, and the one in use.
        var endpoints: [CloudEndpoint] = []
        var order: [Int] = [0]
        var orderPosition = 0
        var endpointIndex: Int { order[orderPosition] }
        /// Nodes failed in a row since the last served request; all of them means give up.
        var triedEndpoints = 0
        var failovers = 0
        var rebuilds = 0
        var bytesSent = 0, bytesReceived = 0, roundTrips = 0
        var counts = ProvenanceCounts()
        init(cache: KVCache, id: UInt64 = UInt64.random(in: 1...UInt64.max)) {
            self.cache = cache
            self.id = id
        }
        func attach(_ connection: CloudConnection) {
            self.connection = connection
            baseline = (connection.bytesSent, connection.bytesReceived, connection.roundTrips)
        }
        /// Counts the connection's traffic to this session and lets go of it (returned, open).
        @discardableResult
        func detach() -> CloudConnection? {
            guard let connection else { return nil }
            bytesSent += connection.bytesSent - baseline.sent
            bytesReceived += connection.bytesReceived - baseline.received
            roundTrips += connection.roundTrips - baseline.roundTrips
            self.connection = nil
            return connection
        }
        func retire() {
            detach()?.close()
        }
    }

    /// Tells the cloud the session is over (its KV cache can go), then keeps the connection for
    /// the next generation (`keep`, after a generation that ended well) or closes it. Safe to
    /// call twice: the second call finds no connection. (The close was once sent only from a
    /// `defer` that ran after the success path had already retired the connection, so clouds
    /// kept every finished session until their KV budget evicted it.)
    private func end(_ session: Session, keep: Bool = false, closingCloudSession: Bool = true) {
        if closesSessions, closingCloudSession, let connection = session.connection {
            try? connection.post(.close(sessionID: session.id))
        }
        if keep, keepsConnections, let connection = session.detach() {
            idleConnections.removeValue(forKey: connection.endpoint.address)?.close()
            idleConnections[connection.endpoint.address] = connection
        } else {
            session.retire()
        }
    }

    /// Generates a completion through the cloud.
    /// - Parameters:
    ///   - promptTokens: the prompt already tokenized (a FIM prompt); nil tokenizes `request.prompt`.
    ///   - decoding: plain (a round trip per token), speculative or early exit.
    ///   - bounds: extra end tokens, and the flag that cancels the generation between tokens.
    ///   - reuse: a prompt cache to continue a kept session from (only the positions after the
    ///     prefix it shares with this prompt are computed, on both sides) and to keep this
    ///     session in afterwards, also when cancelled; nil computes the whole prompt and closes
    ///     the cloud session at the end.
    /// - Throws: `CompletionError.cloudUnavailable` when no endpoint answers and `allowDegraded`
    ///   is false; `ModelError` for bad input; `CancellationError` when `bounds.cancellation` was
    ///   set (the cloud session is closed first, or kept with `reuse`, so the cloud stops too).
    public func generate(_ request: CompletionRequest, promptTokens: [Int32]? = nil, decoding: SplitDecoding = .plain,
                         allowDegraded: Bool = false, bounds: GenerationBounds = .none,
                         onText: (GeneratedText) -> Void = { _ in }) throws -> SplitReport {
        try generate(request, promptTokens: promptTokens, decoding: decoding, allowDegraded: allowDegraded, bounds: bounds,
                     reuse: nil, onText: onText)
    }

    func generate(_ request: CompletionRequest, promptTokens: [Int32]?, decoding: SplitDecoding, allowDegraded: Bool,
                  bounds: GenerationBounds, reuse: PromptReuse?, onText: (GeneratedText) -> Void) throws -> SplitReport {
        var prompt: [Int32]
        if let promptTokens {
            prompt = promptTokens
        } else {
            prompt = tokenizer.encode(request.prompt)
            if tokenizer.addsBOSToken, let bos = tokenizer.bosTokenID, prompt.first != bos { prompt.insert(bos, at: 0) }
        }
        guard !prompt.isEmpty else { throw CompletionError.invalidRequest("empty prompt") }
        let c = model.configuration
        guard prompt.count < c.maxPositions else {
            throw CompletionError.invalidRequest("prompt of \(prompt.count) tokens does not fit the context of \(c.maxPositions)")
        }
        if decoding != .plain, !model.hasHead {
            throw CompletionError.invalidRequest("\(decoding) needs the exit head (final norm and LM head) on the edge")
        }
        // A kept session sharing a prefix with the prompt: both sides drop what follows the
        // prefix (the edge here, the cloud when the first request starts there) and compute the
        // rest. The last prompt position is always computed: its result is the first token.
        let session: Session
        var reused = 0
        if let reuse, let hit = reuse.cache.take(slot: reuse.slot, splitLayer: splitLayer, encoding: encoding, prompt: prompt) {
            session = Session(cache: hit.entry.cache, id: hit.entry.sessionID)
            session.hidden = hit.entry.hidden
            reused = min(hit.common, prompt.count - 1)
            truncateEdge(session, to: reused)
        } else {
            session = Session(cache: model.makeCache(layers: 0..<splitLayer))
        }
        lastUsed = DispatchTime.now()
        if replicas.refresh(from: link) {
            for (address, connection) in idleConnections where !replicas.endpoints.contains(connection.endpoint) {
                idleConnections.removeValue(forKey: address)?.close()
            }
        }
        session.endpoints = replicas.endpoints
        session.order = replicas.order(for: session.id)
        lastSessionID = session.id
        defer { end(session) }
        var sampler = Sampler(request.sampling)
        var output = GenerationOutput(budget: min(request.maxTokens, c.maxPositions - prompt.count), stop: request.stop,
                                      tokenizer: tokenizer, bounds: bounds, minimumIndent: request.minimumIndent,
                                      predictTimeLimitSeconds: request.predictTimeLimitSeconds)
        var degraded = false

        let prefillStart = DispatchTime.now()
        try runEdgeLayers(Array(prompt[reused...]), at: reused, session: session)
        if case .speculative(let draftLength, let adaptive) = decoding {
            // Drafting starts at the prompt's last position: its first verification is the prefill.
            try speculate(after: nil, promptLength: prompt.count, cloudFrom: reused, draftLength: draftLength,
                          adaptive: adaptive, session: session, sampler: &sampler, output: &output,
                          allowDegraded: allowDegraded, degraded: &degraded, onText: onText)
        } else {
            let first = try nextToken(session: session, from: reused, sampler: &sampler, allowDegraded: allowDegraded,
                                      degraded: &degraded)
            if output.accept(first, from: origin(degraded), onText: onText) {
                if case .earlyExit(let policy) = decoding {
                    try exitEarly(after: first, promptLength: prompt.count, policy: policy, session: session, sampler: &sampler,
                                  output: &output, allowDegraded: allowDegraded, degraded: &degraded, onText: onText)
                } else {
                    var next = first
                    repeat {
                        let position = prompt.count + output.tokens.count - 1
                        try runEdgeLayers([next], at: position, session: session)
                        next = try nextToken(session: session, from: position, sampler: &sampler, allowDegraded: allowDegraded,
                                             degraded: &degraded)
                    } while output.accept(next, from: origin(degraded), onText: onText)
                }
            }
        }
        let endpoint = session.connection?.endpoint.address
        if let reuse, !degraded { keep(session, tokens: prompt + output.tokens, in: reuse) }
        if output.cancelled { throw CancellationError() }
        let firstTokenTime = output.firstTokenTime ?? DispatchTime.now()
        let prefillSeconds = Double(firstTokenTime.uptimeNanoseconds - prefillStart.uptimeNanoseconds) / 1e9
        output.finishText(onText: onText)
        let result = GenerationResult(promptTokens: prompt, tokens: output.tokens, text: output.stream.emitted,
                                      finishReason: output.finish, prefillSeconds: prefillSeconds,
                                      decodeSeconds: LocalGenerator.seconds(since: firstTokenTime))
        end(session, keep: true)
        var counts = session.counts
        counts.tokens = output.tokens.count
        counts.edgeAnswered = output.provenance.filter { $0.side == .edge }.count
        counts.roundTrips = session.roundTrips
        return SplitReport(result: result, roundTrips: session.roundTrips, bytesSent: session.bytesSent,
                           bytesReceived: session.bytesReceived, failovers: session.failovers, rebuilds: session.rebuilds,
                           degraded: degraded, endpoint: endpoint, provenance: output.provenance, counts: counts,
                           cachedPromptTokens: reused)
    }

    /// Puts `session` into `reuse`'s cache for the next prompt, trimmed to the positions whose
    /// states are final on the edge (a split-spec draft not yet verified, or a split-exit
    /// position still lagging below layer k, is dropped), and lets go of its connection
    /// without closing the cloud session. Entries the cache evicts get their cloud session closed.
    private func keep(_ session: Session, tokens: [Int32], in reuse: PromptReuse) {
        let d = model.configuration.hiddenSize
        let length = min(session.cache.length, session.hidden.count / d, tokens.count)
        truncateEdge(session, to: length)
        let entry = PromptCache.Entry(sessionID: session.id, splitLayer: splitLayer, encoding: encoding, slot: reuse.slot,
                                      endpoint: session.connection?.endpoint.address, cache: session.cache,
                                      hidden: session.hidden, tokens: Array(tokens.prefix(length)), owner: self)
        end(session, keep: true, closingCloudSession: false)
        for evicted in reuse.cache.insert(entry) { evicted.owner?.closeCloudSession(of: evicted) }
    }

    /// Tells the cloud a kept session is no longer needed, over the idle connection it lives on.
    func closeCloudSession(of entry: PromptCache.Entry) {
        guard closesSessions, let endpoint = entry.endpoint, let connection = idleConnections[endpoint] else { return }
        try? connection.post(.close(sessionID: entry.sessionID))
    }

    /// The provenance of a token from `nextToken`: the cloud's, or the exit at k when degraded.
    func origin(_ degraded: Bool) -> TokenProvenance {
        degraded ? TokenProvenance(side: .edge, layer: splitLayer) : TokenProvenance(side: .cloud, layer: model.configuration.layerCount)
    }

    /// Runs the edge's layers over new tokens and keeps their layer-k hidden states.
    func runEdgeLayers(_ tokens: [Int32], at position: Int, session: Session) throws {
        var hidden = try model.embed(tokens, startPosition: position)
        try model.forward(&hidden, rows: tokens.count, startPosition: position, layers: 0..<splitLayer,
                          cache: session.cache, workspace: workspace)
        session.hidden += hidden
    }

    /// The token after the last stored position, asking the cloud to run positions from `start`.
    func nextToken(session: Session, from start: Int, sampler: inout Sampler, allowDegraded: Bool,
                   degraded: inout Bool) throws -> Int32 {
        let parameters = sampler.parameters
        let uniform = parameters.isGreedy ? 0 : sampler.nextUniform()
        if degraded { return try edgeOnlyToken(session: session, parameters: parameters, uniform: uniform) }
        let sampling = WireMessage.Sampling(temperature: parameters.temperature, topK: UInt32(max(0, parameters.topK)),
                                            topP: parameters.topP, uniform: uniform)
        guard let rows = try cloudRows(session: session, from: start, sampling: sampling, allowDegraded: allowDegraded,
                                       degraded: &degraded) else {
            return try edgeOnlyToken(session: session, parameters: parameters, uniform: uniform)
        }
        return try checkedToken(rows[rows.count - 1].token.tokenID)
    }

    /// A token id from the cloud, checked against the vocabulary.
    func checkedToken(_ id: UInt32) throws -> Int32 {
        guard id < UInt32(model.configuration.vocabularySize) else {
            throw CompletionError.cloudUnavailable("cloud answered token \(id), outside the vocabulary")
        }
        return Int32(id)
    }

    /// Sends the stored hidden states from `start` on and returns the cloud's result rows: the
    /// last position's only, or with `rowsFrom` one per position from there to the end (in
    /// order). Handles re-hello, rebuilds and failover; returns nil when no cloud answered and
    /// `allowDegraded` let the generation go on at the edge (`degraded` is then true).
    func cloudRows(session: Session, from start: Int, rowsFrom: Int? = nil, withDistributions: Bool = false,
                   sampling: WireMessage.Sampling,
                   allowDegraded: Bool, degraded: inout Bool) throws -> [WireMessage.ResultRow]? {
        var from = start
        var saidHelloAgain = false
        var rebuildsInARow = 0
        while true {
            do {
                if session.connection == nil, try !connect(session) {
                    from = 0  // a new connection holds nothing: rebuild from the stored hidden states
                }
                let rows = try send(session: session, from: from, rowsFrom: rowsFrom, withDistributions: withDistributions,
                                    sampling: sampling)
                // Only a served request proves a node good again; a hello alone does not (a node
                // can accept hellos and still fail every request, and the edge would cycle forever).
                session.triedEndpoints = 0
                replicas.markHealthy(session.endpointIndex)
                return rows
            } catch LinkError.remote(.rebuildRequired, _) where !saidHelloAgain {
                // The node does not know this connection: it restarted at the same address, or
                // the socket reconnected under a new routing id. Hello again, then rebuild; a
                // second time in a row counts as a failure of the node.
                logger.info("cloud lost the connection's hello; saying hello again")
                saidHelloAgain = true
                session.retire()
                session.rebuilds += 1
            } catch LinkError.connectionReset where rebuildsInARow < Self.maxRebuildsPerToken {
                // Cut and re-made with the request in flight: the cloud never answers it there.
                // A fresh connection says hello and resends the session (past the bound, the
                // node keeps dropping connections: fail over below).
                logger.info("cloud connection re-made while waiting; saying hello again")
                rebuildsInARow += 1
                session.rebuilds += 1
                session.retire()
            } catch LinkError.rebuildNeeded(let cachedLength) where rebuildsInARow < Self.maxRebuildsPerToken {
                // Past the bound, the node keeps losing what it was just sent: fail over below.
                rebuildsInARow += 1
                session.rebuilds += 1
                logger.info("cloud lost the session; rebuilding", metadata: ["from": "\(cachedLength)"])
                from = min(cachedLength, from)
            } catch let error as LinkError where error.warrantsFailover {
                logger.warning("cloud failed; failing over", metadata: ["error": "\(error)"])
                session.retire()
                session.failovers += 1
                replicas.markFailed(session.endpointIndex)
                session.orderPosition = (session.orderPosition + 1) % session.order.count
                session.triedEndpoints += 1
                if session.triedEndpoints >= session.endpoints.count {
                    guard allowDegraded else {
                        throw CompletionError.cloudUnavailable("no cloud node answered (\(session.endpoints.map(\.address).joined(separator: ", "))): \(error)")
                    }
                    degraded = true
                    return nil
                }
            } catch let error as LinkError {
                throw CompletionError.cloudUnavailable(error.description)
            }
        }
    }

    /// Attaches a connection to the session's endpoint: a kept one (true: the cloud may still
    /// hold a kept session's positions) or a new one past its hello (false: it holds nothing).
    private func connect(_ session: Session) throws -> Bool {
        let endpoint = session.endpoints[session.endpointIndex]
        connectedEndpoint = endpoint.address
        if let kept = idleConnections.removeValue(forKey: endpoint.address) {
            // The same address with another server key is another cloud: do not reuse.
            guard kept.endpoint == endpoint else {
                kept.close()
                return try connect(session)
            }
            session.attach(kept)
            return true
        }
        let connection: CloudConnection
        do {
            connection = try CloudConnection(context: context, endpoint: endpoint, configuration: link)
        } catch {
            throw LinkError.transport("cannot connect to \(endpoint.address): \(error)")
        }
        session.attach(connection)
        _ = try connection.hello(.init(modelIdentity: modelIdentity, splitLayer: UInt32(splitLayer),
                                       activationEncoding: encoding, clientName: link.clientName))
        return false
    }

    /// Sends stored rows [from, end) in messages within the peer's limits; returns the cloud's
    /// row for the last position, or with `rowsFrom` its rows for positions [rowsFrom, end).
    private func send(session: Session, from: Int, rowsFrom: Int?, withDistributions: Bool,
                      sampling: WireMessage.Sampling) throws -> [WireMessage.ResultRow] {
        guard let connection = session.connection else { throw LinkError.transport("not connected") }
        let d = model.configuration.hiddenSize
        let end = session.hidden.count / d
        let limits = connection.peerLimits
        let rowBytes = encoding.rowByteCount(hiddenSize: d) ?? d * 4
        let rowsPerMessage = max(1, min(limits.maxRowsPerMessage, (limits.maxMessageBytes - 256) / rowBytes))
        let wanted = min(rowsFrom ?? end - 1, end - 1)
        var chunkStart = from
        var rows: [WireMessage.ResultRow] = []
        while chunkStart < end {
            let count = min(rowsPerMessage, end - chunkStart)
            let activations = try session.hidden.withUnsafeBufferPointer { all in
                try EncodedActivations(encoding: encoding, rows: count, hiddenSize: d,
                                       values: UnsafeBufferPointer(rebasing: all[(chunkStart * d)..<((chunkStart + count) * d)]))
            }
            // A row per position only where the caller wants them (a rebuild's early chunks not).
            var flags: WireMessage.ForwardFlags = []
            if rowsFrom != nil, chunkStart + count - 1 > wanted { flags.insert(.allRows) }
            if withDistributions, chunkStart + count - 1 >= wanted { flags.insert(.distributions) }
            let request = WireMessage.ForwardRequest(
                sessionID: session.id, requestID: connection.makeRequestID(), startPosition: UInt32(chunkStart),
                flags: flags, sampling: sampling, activations: activations)
            let result = try connection.forward(count > 1 && rowsFrom == nil || chunkStart == 0 ? .prefill(request) : .step(request))
            let first = Int(result.startPosition)
            guard first + result.rows.count == chunkStart + count else {
                throw LinkError.transport("cloud answered rows \(first)..<\(first + result.rows.count) for positions \(chunkStart)..<\(chunkStart + count)")
            }
            for (index, row) in result.rows.enumerated() where first + index >= wanted { rows.append(row) }
            chunkStart += count
        }
        guard rows.count == end - wanted else { throw LinkError.transport("empty result") }
        return rows
    }

    /// The edge's own answer from layer k's exit head (degraded mode).
    func edgeOnlyToken(session: Session, parameters: SamplingParameters, uniform: Float) throws -> Int32 {
        let logits = try lastRowExitLogits(session)
        return logits.withUnsafeBufferPointer { Sampler.pick($0, parameters: parameters, uniform: uniform) }.token
    }

    /// The exit head at layer k applied to the last stored hidden state.
    func lastRowExitLogits(_ session: Session) throws -> [Float] {
        let d = model.configuration.hiddenSize
        return try exitLogits(Array(session.hidden[(session.hidden.count - d)...]), layer: splitLayer)
    }

    /// Layer ℓ's exit logits of one state: its trained adapter when there is one, then the
    /// shared final norm and LM head.
    func exitLogits(_ row: [Float], layer: Int) throws -> [Float] {
        let input = exitHeads?.adapted(row, rows: 1, layer: layer) ?? row
        return try model.logits(input, rows: 1, workspace: workspace)
    }

    /// Rolls the edge's cache and stored hidden states back to positions [0, length).
    func truncateEdge(_ session: Session, to length: Int) {
        session.cache.truncate(to: length)
        let d = model.configuration.hiddenSize
        if session.hidden.count > length * d { session.hidden.removeSubrange((length * d)...) }
    }
}
