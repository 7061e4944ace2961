/// The demonstrator the policy is cloned from: a chunk of commanded positions heading straight
/// for the observed target, each leading the robot by what it can travel by then (so the speed
/// limit, not the lag, sets the pace), ending on the target. Same formula as
/// tools/train/robot_sim.py `expert_chunk`.
public struct ScriptedExpert: ChunkPolicy {
    /// The robot it plans for.
    public var robot: PointMassRobot
    /// Actions per chunk.
    public let horizon: Int

    /// An expert for `robot` producing chunks of `horizon` actions.
    public init(robot: PointMassRobot = PointMassRobot(), horizon: Int = 16) {
        self.robot = robot
        self.horizon = horizon
    }

    /// `horizon` commanded positions from `state` toward `target`.
    public func chunk(state: RobotState, target: Point2) -> [Point2] {
        let delta = target - state.position
        let distance = length(delta)
        let unit = distance > 1e-9 ? delta / distance : .zero
        let lead = robot.maxSpeed * robot.lagSeconds
        return (0..<horizon).map { i in
            let reach = robot.maxSpeed * robot.periodSeconds * Double(i + 1) + lead
            return state.position + unit * min(distance, reach)
        }
    }
}
