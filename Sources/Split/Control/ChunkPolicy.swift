/// Anything that maps (robot state, observed target) to a chunk of commanded positions: the
/// scripted expert, the transformer policy run locally, or the policy run through the split.
public protocol ChunkPolicy {
    /// Actions per chunk.
    var horizon: Int { get }
    /// The chunk for `state` and `target`; action i is the command for the i-th step of the chunk.
    /// - Throws: when the policy cannot answer (a model or network failure).
    func chunk(state: RobotState, target: Point2) throws -> [Point2]
}
