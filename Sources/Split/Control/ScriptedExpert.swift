/// The demonstrator the policy is cloned from: a chunk of commanded positions along the path from
/// the robot to the observed target and on to the next waypoint (none: it stops at the target),
/// advancing at the demonstration pace and leading the robot by what it travels in the actuator's
/// lag. At pace = the speed limit and without a next waypoint, the first policies' expert (reach
/// at full speed, stop). Same formula as tools/train/robot_sim.py `expert_chunk`.
public struct ScriptedExpert: ChunkPolicy {
    /// The robot it plans for.
    public var robot: PointMassRobot
    /// Actions per chunk.
    public let horizon: Int
    /// Path length per second the demonstrations advance (teleoperated demonstrations: well below
    /// the speed limit).
    public var pace: Double

    /// An expert for `robot` producing chunks of `horizon` actions at `pace` (default: the speed limit).
    public init(robot: PointMassRobot = PointMassRobot(), horizon: Int = 16, pace: Double? = nil) {
        self.robot = robot
        self.horizon = horizon
        self.pace = pace ?? robot.maxSpeed
    }

    /// The teleoperation-paced demonstrator of `split-robot-policy-arm.gguf`: the arm, a third of
    /// its speed limit (as robot_sim.DEMO_PACE).
    public static func teleoperated(horizon: Int = 32) -> ScriptedExpert {
        ScriptedExpert(robot: .arm, horizon: horizon, pace: PointMassRobot.arm.maxSpeed / 3)
    }

    /// `horizon` commanded positions from `state` to `target`, stopping there.
    public func chunk(state: RobotState, target: Point2) -> [Point2] { chunk(state: state, target: target, next: target) }

    /// `horizon` commanded positions from `state` through `target` toward `next`.
    public func chunk(state: RobotState, target: Point2, next: Point2) -> [Point2] {
        let first = target - state.position, second = next - target
        let firstLength = length(first), secondLength = length(second)
        let lead = pace * robot.lagSeconds
        return (0..<horizon).map { i in
            let along = min(pace * robot.periodSeconds * Double(i + 1) + lead, firstLength + secondLength)
            if along <= firstLength {
                return firstLength > 1e-9 ? state.position + first * (along / firstLength) : state.position
            }
            return secondLength > 1e-9 ? target + second * ((along - firstLength) / secondLength) : target
        }
    }
}
