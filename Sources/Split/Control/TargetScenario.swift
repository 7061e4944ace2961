import Foundation

/// Where the target is, step by step: either a tracking run (the target drifts on a smooth path
/// and jumps somewhere else every 2.5–3.5 s, whack-a-mole style) or a fixed course (a list of
/// waypoints; the next appears as soon as the robot is within `reachRadius` of the current). A
/// path is a course whose next waypoint is shown too, so the robot passes through each without
/// stopping (continuous motion, as in wiping or drawing along a path). Seeded and deterministic.
public struct TargetScenario: Sendable {
    /// Which task.
    public enum Kind: String, Sendable { case tracking, course }

    /// Which task this is.
    public let kind: Kind
    /// Steps a tracking run lasts; the cap on a course run.
    public let maxSteps: Int
    /// Course: how close counts as reached.
    public let reachRadius: Double
    /// Course: whether the waypoint after the current one is shown (a path passed through).
    public private(set) var passesThrough = false
    private var bases: [Point2]
    private let jumpSteps: [Int]
    /// Course: steps at which the current waypoint moves, and where to.
    private let relocations: [Int: Point2]
    /// Orbit runs: radians per second of the circling target (nil: the drifting, jumping target).
    private var orbitAngularSpeed: Double?
    private let phases: Point2
    private var index = 0

    /// A tracking run of `steps` control periods; jumps and path depend only on `seed`.
    public static func tracking(seed: UInt64, steps: Int = 900) -> TargetScenario {
        var random = SplitMix64(state: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        var bases = [randomPoint(&random, within: 0.6, awayFrom: nil)]
        var jumps = [0]
        while true {
            let next = jumps[jumps.count - 1] + Int.random(in: 75...105, using: &random)
            guard next < steps else { break }
            jumps.append(next)
            bases.append(randomPoint(&random, within: 0.6, awayFrom: bases[bases.count - 1]))
        }
        let phases = Point2(Double.random(in: 0..<6.28, using: &random), Double.random(in: 0..<6.28, using: &random))
        return TargetScenario(kind: .tracking, maxSteps: steps, reachRadius: 0, bases: bases, jumpSteps: jumps, phases: phases)
    }

    /// A tracking run whose target never jumps but circles the arena's centre without stopping
    /// (radius 0.5, `speed` arena units per second, starting phase from `seed`): the robot is
    /// always moving when a chunk starts, as a real arm mid-task is.
    public static func orbit(seed: UInt64, steps: Int = 900, speed: Double = 0.6) -> TargetScenario {
        var random = SplitMix64(state: seed &* 0x9E37_79B9_7F4A_7C15 &+ 11)
        let phase = Double.random(in: 0..<(2 * Double.pi), using: &random)
        var scenario = TargetScenario(kind: .tracking, maxSteps: steps, reachRadius: 0, bases: [.zero], jumpSteps: [0],
                                      phases: Point2(phase, 0))
        scenario.orbitAngularSpeed = speed / 0.5
        return scenario
    }

    /// The fixed course: `waypoints` points drawn once from `seed`, visited in order. With a
    /// `relocationSeed`, the current waypoint is moved to a random place at random times,
    /// `relocationGap` steps apart (a target jump injected during the task).
    public static func course(waypoints: Int = 12, seed: UInt64 = 2026, reachRadius: Double = 0.08,
                              maxSteps: Int = 4000, relocationSeed: UInt64? = nil,
                              relocationGap: ClosedRange<Int> = 60...150) -> TargetScenario {
        var random = SplitMix64(state: seed)
        var points: [Point2] = []
        for _ in 0..<max(1, waypoints) { points.append(randomPoint(&random, within: 0.8, awayFrom: points.last)) }
        var relocations: [Int: Point2] = [:]
        if let relocationSeed {
            var random = SplitMix64(state: relocationSeed &* 0x94D0_49BB_1331_11EB &+ 3)
            var step = 0
            while true {
                step += Int.random(in: max(1, relocationGap.lowerBound)...max(1, relocationGap.upperBound), using: &random)
                guard step < maxSteps else { break }
                relocations[step] = randomPoint(&random, within: 0.8, awayFrom: nil)
            }
        }
        return TargetScenario(kind: .course, maxSteps: maxSteps, reachRadius: reachRadius, bases: points, jumpSteps: [],
                              phases: .zero, relocations: relocations)
    }

    private init(kind: Kind, maxSteps: Int, reachRadius: Double, bases: [Point2], jumpSteps: [Int], phases: Point2,
                 relocations: [Int: Point2] = [:]) {
        self.kind = kind
        self.maxSteps = maxSteps
        self.reachRadius = reachRadius
        self.bases = bases
        self.jumpSteps = jumpSteps
        self.phases = phases
        self.relocations = relocations
    }

    /// The same waypoints, relocations and cap as `course`, shown as a path: the policy also sees
    /// the waypoint after the current one and passes through without stopping.
    public static func path(waypoints: Int = 12, seed: UInt64 = 2026, reachRadius: Double = 0.08,
                            maxSteps: Int = 4000, relocationSeed: UInt64? = nil,
                            relocationGap: ClosedRange<Int> = 60...150) -> TargetScenario {
        var scenario = course(waypoints: waypoints, seed: seed, reachRadius: reachRadius, maxSteps: maxSteps,
                              relocationSeed: relocationSeed, relocationGap: relocationGap)
        scenario.passesThrough = true
        return scenario
    }

    /// A path's waypoint after the current one (nil: none shown, or the last).
    public var next: Point2? {
        guard passesThrough, index + 1 < bases.count else { return nil }
        return bases[index + 1]
    }

    /// How far `position` is off the task: from `target`, or on a path from the segment the robot
    /// should be on (previous waypoint to current).
    public func trackingError(at position: Point2, target: Point2) -> Double {
        guard passesThrough, index >= 1, index < bases.count else { return length(position - target) }
        let start = bases[index - 1], segment = bases[index] - start
        let t = max(0, min(1, ((position - start) * segment).sum() / max((segment * segment).sum(), 1e-12)))
        return length(position - (start + t * segment))
    }

    /// Number of waypoints (course) or jumps including the first placement (tracking).
    public var segmentCount: Int { bases.count }
    /// Course: waypoints reached so far.
    public var reached: Int { kind == .course ? index : 0 }
    /// Whether the task is over (course: every waypoint reached).
    public var finished: Bool { kind == .course && index >= bases.count }

    /// The target at `step` given the robot's position now; `jumped` is true on the step the
    /// target appeared somewhere new (a tracking jump or the next waypoint).
    public mutating func advance(step: Int, robot position: Point2) -> (target: Point2, jumped: Bool) {
        switch kind {
        case .tracking:
            if let omega = orbitAngularSpeed {
                let angle = phases.x + omega * Double(step) / 30.0
                return (0.5 * Point2(Foundation.cos(angle), Foundation.sin(angle)), step == 0)
            }
            var jumped = false
            while index + 1 < jumpSteps.count && jumpSteps[index + 1] <= step {
                index += 1
                jumped = true
            }
            let t = Double(step) / 30.0
            let drift = 0.12 * Point2((2 * Double.pi * t / 4.1 + phases.x).sin, (2 * Double.pi * t / 5.3 + phases.y).sin)
            return ((bases[index] + drift).clamped(lowerBound: Point2(-0.95, -0.95), upperBound: Point2(0.95, 0.95)),
                    jumped || step == 0)
        case .course:
            guard index < bases.count else { return (bases[bases.count - 1], false) }
            var relocated = false
            if let place = relocations[step] {
                bases[index] = place
                relocated = true
            }
            if length(position - bases[index]) <= reachRadius {
                index += 1
                return (bases[min(index, bases.count - 1)], index < bases.count)
            }
            return (bases[index], step == 0 || relocated)
        }
    }

    private static func randomPoint(_ random: inout SplitMix64, within bound: Double, awayFrom previous: Point2?) -> Point2 {
        while true {
            let point = Point2(Double.random(in: -bound...bound, using: &random), Double.random(in: -bound...bound, using: &random))
            guard let previous else { return point }
            let distance = length(point - previous)
            if distance >= 0.4 && distance <= 1.0 { return point }
        }
    }
}

extension Double {
    fileprivate var sin: Double { Foundation.sin(self) }
}
