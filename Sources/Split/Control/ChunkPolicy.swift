/// Anything that maps (robot state, observed target, next waypoint) to a chunk of commanded
/// positions: the scripted expert, the transformer policy run locally, or the policy run through
/// the split.
public protocol ChunkPolicy {
    /// Actions per chunk.
    var horizon: Int { get }
    /// The chunk for `state`, `target` and the waypoint after it (`next` = `target`: none, stop
    /// there); action i is the command for the i-th step of the chunk.
    /// - Throws: when the policy cannot answer (a model or network failure).
    func chunk(state: RobotState, target: Point2, next: Point2) throws -> [Point2]
}

extension ChunkPolicy {
    /// The chunk for `state` and `target`, with no waypoint after it.
    /// - Throws: what `chunk(state:target:next:)` throws.
    public func chunk(state: RobotState, target: Point2) throws -> [Point2] {
        try chunk(state: state, target: target, next: target)
    }
}
