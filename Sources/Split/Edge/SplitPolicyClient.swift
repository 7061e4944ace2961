import Foundation
import Logging

/// The edge side of a robot policy split: input projection and layers [0, k) here, layers
/// [k, L) and the action head on a cloud node, which answers with the action chunk. Each call
/// is a fresh short sequence (position 0 onward) in one reused cloud session, so nothing is
/// cached between calls and the answer equals the local policy's exactly (with f32 activations).
///
/// The client's session hashes to one of the cloud replicas (rendezvous hashing, as split
/// generations do), so several clients spread over them; a replica that fails is skipped,
/// quarantined, for the next one in the session's order. With a replica directory, the replicas
/// are re-read before each call.
///
/// One client serves one caller at a time (it owns its socket).
public final class SplitPolicyClient: ChunkPolicy {
    public let model: TransformerModel
    public let splitLayer: Int
    public let encoding: ActivationEncoding
    public let modelIdentity: SHA256Digest
    public let link: EdgeLinkConfiguration
    private let context: ZMQContext
    private let logger: Logger
    private let workspace = Workspace()
    private let sessionID = UInt64.random(in: 1...UInt64.max)
    private var connection: CloudConnection?
    private var replicas: ReplicaSelector
    /// The endpoint that answered last (nil before the first answer or after a failure).
    public private(set) var lastEndpoint: String?

    /// - Parameters:
    ///   - model: the edge part; must hold the input projection and layers [0, splitLayer).
    /// - Throws: `ControlError.notAPolicy` or `ModelError` when the part cannot run the split.
    public init(model: TransformerModel, splitLayer: Int, encoding: ActivationEncoding = .f32, modelIdentity: SHA256Digest,
                link: EdgeLinkConfiguration, context: ZMQContext, logger: Logger = Logger(label: "split.edge.policy")) throws {
        try TransformerPolicy.check(model.configuration)
        guard splitLayer >= 0, splitLayer <= model.configuration.layerCount, model.hasEmbedding,
              model.layers.lowerBound == 0, model.layers.upperBound >= splitLayer else {
            throw ModelError.layerRangeOutOfBounds(requested: 0..<splitLayer, loaded: model.layers)
        }
        guard !link.endpoints.isEmpty else { throw ModelError.invalidConfiguration("no cloud endpoint configured for the policy") }
        self.model = model
        self.splitLayer = splitLayer
        self.encoding = encoding
        self.modelIdentity = modelIdentity
        self.link = link
        self.context = context
        self.logger = logger
        replicas = ReplicaSelector(link: link)
    }

    /// Actions per chunk.
    public var horizon: Int { model.configuration.actionHorizon }

    /// The chunk for `state`, `target` and the waypoint after it, through the cloud.
    /// - Throws: `LinkError` when no cloud answers; `ModelError`/`ControlError` for bad input or output.
    public func chunk(state: RobotState, target: Point2, next: Point2) throws -> [Point2] {
        try PolicyInput.commands(from: try output(PolicyInput.tokens(state: state, target: target, next: next)), state: state)
    }

    /// The action head's raw output for input tokens `tokens`, trying each endpoint once.
    /// - Throws: the last `LinkError` when every endpoint failed.
    public func output(_ tokens: [Float]) throws -> [Float] {
        let c = model.configuration
        let rows = tokens.count / max(1, c.inputDimensions)
        var hidden = try model.project(tokens, rows: rows)
        try model.forward(&hidden, rows: rows, startPosition: 0, layers: 0..<splitLayer,
                          cache: model.makeCache(layers: 0..<splitLayer, maxPositions: rows), workspace: workspace)
        let activations = try EncodedActivations(encoding: encoding, rows: rows, hiddenSize: c.hiddenSize, values: hidden)
        if replicas.refresh(from: link), let connection, !replicas.endpoints.contains(connection.endpoint) {
            connection.close()
            self.connection = nil
        }
        var lastError: any Error = LinkError.transport("no endpoint tried")
        // Each replica once, in the session's order (healthy ones first, by rendezvous score).
        for index in replicas.order(for: sessionID) {
            do {
                let connection = try connected(to: replicas.endpoints[index])
                let request = WireMessage.ForwardRequest(sessionID: sessionID, requestID: connection.makeRequestID(),
                                                         startPosition: 0, activations: activations)
                let chunk = try connection.actions(request)
                guard chunk.values.count == c.actionHorizon * c.actionDimensions,
                      Int(chunk.dimensions) == c.actionDimensions else {
                    throw LinkError.transport("the cloud answered \(chunk.horizon)×\(chunk.dimensions) actions; "
                                              + "the policy has \(c.actionHorizon)×\(c.actionDimensions)")
                }
                lastEndpoint = connection.endpoint.address
                replicas.markHealthy(index)
                return chunk.values
            } catch let error as LinkError where error.warrantsFailover {
                logger.warning("policy cloud failed; trying the next", metadata: ["error": "\(error)"])
                lastError = error
                lastEndpoint = nil
                connection?.close()
                connection = nil
                replicas.markFailed(index)
            }
        }
        throw lastError
    }

    private func connected(to endpoint: CloudEndpoint) throws -> CloudConnection {
        if let connection, connection.endpoint == endpoint { return connection }
        connection?.close()
        connection = nil
        let fresh: CloudConnection
        do {
            fresh = try CloudConnection(context: context, endpoint: endpoint, configuration: link)
        } catch {
            throw LinkError.transport("cannot connect to \(endpoint.address): \(error)")
        }
        connection = fresh
        _ = try fresh.hello(.init(modelIdentity: modelIdentity, splitLayer: UInt32(splitLayer), activationEncoding: encoding,
                                  clientName: link.clientName))
        return fresh
    }
}
