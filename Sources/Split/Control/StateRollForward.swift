/// Predicts the robot's state after it executes some buffered commands: what the future-state
/// mode conditions the policy on (VLASH). Pluggable: a position-controlled robot can simply be
/// taken to be at its last command; otherwise a dynamics model is run.
public protocol StateRollForward: Sendable {
    /// The state after executing `commands` in order from `state`.
    func roll(_ state: RobotState, through commands: [Point2]) -> RobotState
}

/// For position control: after the commands the robot is (about) where it was last told to be,
/// moving as the last two commands differ. Needs no model of the robot.
public struct CommandedTargetRollForward: StateRollForward {
    /// Control period, to turn the last command step into a velocity.
    public var periodSeconds: Double

    /// A roll-forward for a loop at `1 / periodSeconds` Hz.
    public init(periodSeconds: Double = 1.0 / 30.0) { self.periodSeconds = periodSeconds }

    public func roll(_ state: RobotState, through commands: [Point2]) -> RobotState {
        guard let last = commands.last else { return state }
        let previous = commands.count >= 2 ? commands[commands.count - 2] : state.position
        return RobotState(position: last, velocity: (last - previous) / periodSeconds)
    }
}

/// Runs a dynamics model of the robot through the commands (here the point mass's own model).
public struct DynamicsRollForward: StateRollForward {
    /// The model.
    public var robot: PointMassRobot

    /// A roll-forward through `robot`'s dynamics.
    public init(robot: PointMassRobot = PointMassRobot()) { self.robot = robot }

    public func roll(_ state: RobotState, through commands: [Point2]) -> RobotState {
        commands.reduce(state) { robot.step($0, command: $1) }
    }
}
