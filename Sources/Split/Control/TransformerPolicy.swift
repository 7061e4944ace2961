/// The transformer policy run whole on this machine (the reference the split must equal):
/// input projection, every layer, action head.
public final class TransformerPolicy: ChunkPolicy {
    /// The model (all layers, projection and head loaded).
    public let model: TransformerModel
    private let workspace = Workspace()

    /// Wraps `model`, checking it is a point-mass policy this client can drive.
    /// - Throws: `ControlError.notAPolicy` naming what does not fit.
    public init(model: TransformerModel) throws {
        try TransformerPolicy.check(model.configuration)
        guard model.hasEmbedding, model.hasHead, model.layers == 0..<model.configuration.layerCount else {
            throw ControlError.notAPolicy("the local policy needs every layer, the input projection and the action head")
        }
        self.model = model
    }

    /// Checks that `configuration` is a policy with this client's token and action layout.
    /// - Throws: `ControlError.notAPolicy`.
    public static func check(_ c: ModelConfiguration) throws {
        guard c.isPolicy else { throw ControlError.notAPolicy("the model has no input projection (a language model?)") }
        guard c.inputDimensions == PolicyInput.tokenFeatures, c.actionDimensions == 2 else {
            throw ControlError.notAPolicy("tokens of \(c.inputDimensions) features and \(c.actionDimensions)-D actions; "
                                          + "this client uses \(PolicyInput.tokenFeatures) and 2")
        }
    }

    /// Actions per chunk.
    public var horizon: Int { model.configuration.actionHorizon }

    /// The chunk for `state`, `target` and the waypoint after it.
    /// - Throws: `ModelError` or `ControlError` for non-finite input or output.
    public func chunk(state: RobotState, target: Point2, next: Point2) throws -> [Point2] {
        try PolicyInput.commands(from: try output(PolicyInput.tokens(state: state, target: target, next: next)), state: state)
    }

    /// The action head's raw output for input tokens `tokens`.
    /// - Throws: `ModelError` for a size mismatch or non-finite input.
    public func output(_ tokens: [Float]) throws -> [Float] {
        let rows = tokens.count / max(1, model.configuration.inputDimensions)
        var hidden = try model.project(tokens, rows: rows)
        try model.forward(&hidden, rows: rows, startPosition: 0, layers: model.layers,
                          cache: model.makeCache(maxPositions: rows), workspace: workspace)
        return try model.actions(hidden, rows: rows, workspace: workspace)
    }
}
