import Foundation

/// Pushes injected into a simulated run at seeded random times: at each the robot's position is
/// displaced (an external shove the position actuator then works against), so the policy must
/// re-plan from where the robot really is. Deterministic for a seed.
public struct PushSchedule: Sendable, Equatable {
    /// Displacement applied at the start of each step that has one.
    public let pushes: [Int: Point2]

    /// No pushes.
    public static let none = PushSchedule(pushes: [:])

    /// Pushes `[Int: Point2]` as given.
    public init(pushes: [Int: Point2]) { self.pushes = pushes }

    /// Pushes over `steps` steps, `gap` steps apart (drawn uniformly), each of a length drawn from
    /// `strength` in a uniformly random direction; none in the first `gap.lowerBound` steps.
    public static func random(seed: UInt64, steps: Int, gap: ClosedRange<Int> = 60...150,
                              strength: ClosedRange<Double> = 0.15...0.3) -> PushSchedule {
        var random = SplitMix64(state: seed &* 0xBF58_476D_1CE4_E5B9 &+ 7)
        var pushes: [Int: Point2] = [:]
        var step = 0
        while true {
            step += Int.random(in: max(1, gap.lowerBound)...max(1, gap.upperBound), using: &random)
            guard step < steps else { break }
            let angle = Double.random(in: 0..<(2 * Double.pi), using: &random)
            let size = Double.random(in: strength, using: &random)
            pushes[step] = size * Point2(cos(angle), sin(angle))
        }
        return PushSchedule(pushes: pushes)
    }

    /// The state after the push of `step`, if any (kept inside the arena of `robot`).
    public func apply(step: Int, to state: RobotState, robot: PointMassRobot) -> (state: RobotState, pushed: Bool) {
        guard let push = pushes[step] else { return (state, false) }
        let bound = Point2(repeating: robot.arenaHalfWidth)
        var moved = state
        moved.position = (state.position + push).clamped(lowerBound: -bound, upperBound: bound)
        return (moved, true)
    }
}
