/// A 2-D position in the robot's arena (`[-1, 1]²`), in arena units.
public typealias Point2 = SIMD2<Double>

/// What the robot reports each control period: where it is and how fast it moves.
public struct RobotState: Sendable, Equatable {
    /// Position in arena units.
    public var position: Point2
    /// Velocity in arena units per second.
    public var velocity: Point2

    /// Makes a state.
    public init(position: Point2, velocity: Point2 = .zero) {
        self.position = position
        self.velocity = velocity
    }

    /// The state as the policy's state vector `[px, py, vx, vy]`.
    public var vector: [Double] { [position.x, position.y, velocity.x, velocity.y] }
    /// Length of `vector`.
    public static let dimensions = 4
}

/// The simulated robot: a point mass whose position actuator follows a commanded position with a
/// first-order lag under a speed limit and, on the arm, an acceleration limit (position control).
/// Deterministic; the Python mirror in tools/train/robot_sim.py trains the policy on exactly
/// these dynamics.
public struct PointMassRobot: Sendable, Equatable {
    /// Control period in seconds (30 Hz).
    public var periodSeconds: Double = 1.0 / 30.0
    /// Actuator time constant: the position closes on the command at (command − position)/τ.
    public var lagSeconds: Double = 0.1
    /// Speed limit in arena units per second.
    public var maxSpeed: Double = 1.2
    /// Acceleration limit in arena units per s² (infinity: the velocity follows the lag at once).
    public var maxAcceleration: Double = .infinity
    /// Half-width of the square arena.
    public var arenaHalfWidth: Double = 1.0

    /// The robot the first policies were trained for (no acceleration limit).
    public init() {}

    /// The arm of the teleoperation-paced policy (`split-robot-policy-arm.gguf`): the same lag
    /// and speed limit, and an acceleration limit of 6 units/s² (from rest to full speed in 0.2 s).
    public static let arm: PointMassRobot = {
        var robot = PointMassRobot()
        robot.maxAcceleration = 6
        return robot
    }()

    /// The state one control period after commanding `command` from `state`.
    public func step(_ state: RobotState, command: Point2) -> RobotState {
        var velocity = clampedLength((command - state.position) / lagSeconds, maxSpeed)
        if maxAcceleration.isFinite {
            velocity = state.velocity + clampedLength(velocity - state.velocity, maxAcceleration * periodSeconds)
        }
        let moved = state.position + velocity * periodSeconds
        let bound = Point2(repeating: arenaHalfWidth)
        return RobotState(position: moved.clamped(lowerBound: -bound, upperBound: bound), velocity: velocity)
    }
}

/// Euclidean length of a 2-D vector.
@inline(__always) public func length(_ v: Point2) -> Double { (v * v).sum().squareRoot() }

/// `v` scaled down to length `limit` when longer.
@inline(__always) func clampedLength(_ v: Point2, _ limit: Double) -> Point2 {
    let size = length(v)
    return size > limit ? v * (limit / size) : v
}
