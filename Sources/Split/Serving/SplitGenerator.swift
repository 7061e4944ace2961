import Foundation
import Logging

/// What one split generation did, beyond its text.
public struct SplitReport: Sendable {
    public var result: GenerationResult
    public var roundTrips: Int
    public var bytesSent: Int
    public var bytesReceived: Int
    /// Times the generation moved to another cloud node (or re-sent a lost session).
    public var failovers: Int
    public var rebuilds: Int
    /// True when no cloud could be reached and the edge answered alone (exit head at layer k).
    public var degraded: Bool
    /// The endpoint that served the last token.
    public var endpoint: String?
}

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
    private let workspace = Workspace()
    /// Spreads sessions over the cloud endpoints (rendezvous hashing) and keeps failed ones last.
    private var replicas: ReplicaSelector
    /// Rebuilds one token may ask of a node before the node counts as failed. A real cloud
    /// needs at most one or two (a session evicted between the chunks of a long prefill).
    static let maxRebuildsPerToken = 4

    /// - Parameters:
    ///   - model: the edge part; must hold the embedding and layers [0, splitLayer).
    /// - Throws: `ModelError` when the part lacks what the split needs.
    public init(model: TransformerModel, tokenizer: TextTokenizer, splitLayer: Int, encoding: ActivationEncoding,
                modelIdentity: SHA256Digest, link: EdgeLinkConfiguration, context: ZMQContext,
                logger: Logger = Logger(label: "split.edge")) throws {
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
        replicas = ReplicaSelector(endpoints: link.endpoints)
        self.context = context
        self.logger = logger
    }

    /// Per-generation state: the session's layer-k hidden states and the live connection.
    private final class Session {
        let id = UInt64.random(in: 1...UInt64.max)
        let cache: KVCache
        var hidden: [Float] = []
        var connection: CloudConnection?
        /// Endpoint indices to try, best first, and the one in use.
        var order: [Int] = [0]
        var orderPosition = 0
        var endpointIndex: Int { order[orderPosition] }
        /// Nodes failed in a row since the last served request; all of them means give up.
        var triedEndpoints = 0
        var failovers = 0
        var rebuilds = 0
        var bytesSent = 0, bytesReceived = 0, roundTrips = 0
        init(cache: KVCache) {
            self.cache = cache
        }
        func retire() {
            if let connection {
                bytesSent += connection.bytesSent
                bytesReceived += connection.bytesReceived
                roundTrips += connection.roundTrips
                connection.close()
            }
            connection = nil
        }
    }

    /// Generates a completion through the cloud.
    /// - Throws: `CompletionError.cloudUnavailable` when no endpoint answers and `allowDegraded`
    ///   is false; `ModelError` for bad input.
    public func generate(_ request: CompletionRequest, allowDegraded: Bool = false,
                         onText: (String) -> Void = { _ in }) throws -> SplitReport {
        var prompt = tokenizer.encode(request.prompt)
        if tokenizer.addsBOSToken, let bos = tokenizer.bosTokenID, prompt.first != bos { prompt.insert(bos, at: 0) }
        guard !prompt.isEmpty else { throw CompletionError.invalidRequest("empty prompt") }
        let c = model.configuration
        guard prompt.count < c.maxPositions else {
            throw CompletionError.invalidRequest("prompt of \(prompt.count) tokens does not fit the context of \(c.maxPositions)")
        }
        let session = Session(cache: model.makeCache(layers: 0..<splitLayer))
        session.order = replicas.order(for: session.id)
        defer {
            if let connection = session.connection { try? connection.post(.close(sessionID: session.id)) }
            session.retire()
        }
        var sampler = Sampler(request.sampling)
        var stream = TextStream(stopStrings: request.stop)
        var generated: [Int32] = []
        var finish = FinishReason.length
        var degraded = false
        let budget = min(request.maxTokens, c.maxPositions - prompt.count)

        let prefillStart = DispatchTime.now()
        try runEdgeLayers(prompt, at: 0, session: session)
        var next = try nextToken(session: session, from: 0, sampler: &sampler, allowDegraded: allowDegraded, degraded: &degraded)
        let prefillSeconds = LocalGenerator.seconds(since: prefillStart)
        let decodeStart = DispatchTime.now()
        while generated.count < budget {
            if next == tokenizer.eosTokenID { finish = .endOfText; break }
            generated.append(next)
            onText(stream.append(tokenizer.tokenBytes(next)))
            if stream.stopped { finish = .stop; break }
            if generated.count == budget { break }
            let position = prompt.count + generated.count - 1
            try runEdgeLayers([next], at: position, session: session)
            next = try nextToken(session: session, from: position, sampler: &sampler, allowDegraded: allowDegraded, degraded: &degraded)
        }
        onText(stream.finish())
        let endpoint = session.connection?.endpoint.address
        let result = GenerationResult(promptTokens: prompt, tokens: generated, text: stream.emitted, finishReason: finish,
                                      prefillSeconds: prefillSeconds, decodeSeconds: LocalGenerator.seconds(since: decodeStart))
        session.retire()
        return SplitReport(result: result, roundTrips: session.roundTrips, bytesSent: session.bytesSent,
                           bytesReceived: session.bytesReceived, failovers: session.failovers, rebuilds: session.rebuilds,
                           degraded: degraded, endpoint: endpoint)
    }

    /// Runs the edge's layers over new tokens and keeps their layer-k hidden states.
    private func runEdgeLayers(_ tokens: [Int32], at position: Int, session: Session) throws {
        var hidden = try model.embed(tokens, startPosition: position)
        try model.forward(&hidden, rows: tokens.count, startPosition: position, layers: 0..<splitLayer,
                          cache: session.cache, workspace: workspace)
        session.hidden += hidden
    }

    /// The token after the last stored position, asking the cloud to run positions from `start`.
    private func nextToken(session: Session, from start: Int, sampler: inout Sampler, allowDegraded: Bool,
                           degraded: inout Bool) throws -> Int32 {
        let parameters = sampler.parameters
        let uniform = parameters.isGreedy ? 0 : sampler.nextUniform()
        if degraded { return try edgeOnlyToken(session: session, parameters: parameters, uniform: uniform) }
        let sampling = WireMessage.Sampling(temperature: parameters.temperature, topK: UInt32(max(0, parameters.topK)),
                                            topP: parameters.topP, uniform: uniform)
        var from = start
        var saidHelloAgain = false
        var rebuildsInARow = 0
        while true {
            do {
                if session.connection == nil {
                    try connect(session)
                    from = 0  // a new node holds nothing: rebuild from the stored hidden states
                }
                let token = try send(session: session, from: from, sampling: sampling)
                // Only a served request proves a node good again; a hello alone does not (a node
                // can accept hellos and still fail every request, and the edge would cycle forever).
                session.triedEndpoints = 0
                replicas.markHealthy(session.endpointIndex)
                return token
            } catch LinkError.remote(.rebuildRequired, _) where !saidHelloAgain {
                // The node does not know this connection: it restarted at the same address, or
                // the socket reconnected under a new routing id. Hello again, then rebuild; a
                // second time in a row counts as a failure of the node.
                logger.info("cloud lost the connection's hello; saying hello again")
                saidHelloAgain = true
                session.retire()
                session.rebuilds += 1
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
                if session.triedEndpoints >= link.endpoints.count {
                    guard allowDegraded else {
                        throw CompletionError.cloudUnavailable("no cloud node answered (\(link.endpoints.map(\.address).joined(separator: ", "))): \(error)")
                    }
                    degraded = true
                    return try edgeOnlyToken(session: session, parameters: parameters, uniform: uniform)
                }
            } catch let error as LinkError {
                throw CompletionError.cloudUnavailable(error.description)
            }
        }
    }

    private func connect(_ session: Session) throws {
        let endpoint = link.endpoints[session.endpointIndex]
        let connection: CloudConnection
        do {
            connection = try CloudConnection(context: context, endpoint: endpoint, configuration: link)
        } catch {
            throw LinkError.transport("cannot connect to \(endpoint.address): \(error)")
        }
        session.connection = connection
        _ = try connection.hello(.init(modelIdentity: modelIdentity, splitLayer: UInt32(splitLayer),
                                       activationEncoding: encoding, clientName: link.clientName))
    }

    /// Sends stored rows [from, end) in messages within the peer's limits; returns the token
    /// the cloud picked after the last row.
    private func send(session: Session, from: Int, sampling: WireMessage.Sampling) throws -> Int32 {
        guard let connection = session.connection else { throw LinkError.transport("not connected") }
        let d = model.configuration.hiddenSize
        let end = session.hidden.count / d
        let limits = connection.peerLimits
        let rowBytes = encoding.rowByteCount(hiddenSize: d) ?? d * 4
        let rowsPerMessage = max(1, min(limits.maxRowsPerMessage, (limits.maxMessageBytes - 256) / rowBytes))
        var chunkStart = from
        var last: WireMessage.ForwardResult?
        while chunkStart < end {
            let rows = min(rowsPerMessage, end - chunkStart)
            let activations = try session.hidden.withUnsafeBufferPointer { all in
                try EncodedActivations(encoding: encoding, rows: rows, hiddenSize: d,
                                       values: UnsafeBufferPointer(rebasing: all[(chunkStart * d)..<((chunkStart + rows) * d)]))
            }
            let request = WireMessage.ForwardRequest(
                sessionID: session.id, requestID: connection.makeRequestID(), startPosition: UInt32(chunkStart),
                sampling: sampling, activations: activations)
            last = try connection.forward(rows > 1 || chunkStart == 0 ? .prefill(request) : .step(request))
            chunkStart += rows
        }
        guard let row = last?.rows.last else { throw LinkError.transport("empty result") }
        guard row.token.tokenID < UInt32(model.configuration.vocabularySize) else {
            throw LinkError.transport("cloud answered token \(row.token.tokenID), outside the vocabulary")
        }
        return Int32(row.token.tokenID)
    }

    /// The edge's own answer from layer k's exit head (degraded mode).
    private func edgeOnlyToken(session: Session, parameters: SamplingParameters, uniform: Float) throws -> Int32 {
        let d = model.configuration.hiddenSize
        let last = Array(session.hidden[(session.hidden.count - d)...])
        let logits = try model.logits(last, rows: 1, workspace: workspace)
        return logits.withUnsafeBufferPointer { Sampler.pick($0, parameters: parameters, uniform: uniform) }.token
    }
}
