import Foundation
import Split

/// The simulated-clock robot benchmark in VLASH's setup (chunks of H = 32 at 30 Hz, the next
/// chunk asked for `overlap` actions before the buffer ends): every mode × delay × overlap ×
/// seed on the tracking task and a course, both with pushes and target jumps at seeded random
/// times. Exactly reproducible (seeded scenarios, disturbances and latencies).
public struct RobotBenchmark {
    /// The control strategies compared.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// The robot holds while each chunk is inferred, then executes it (all of it, or the
        /// row's fixed n_action_steps).
        case sync
        /// Async in VLASH's cycle, the chunk started where the buffer ends but conditioned on
        /// the state at request time (stale by then): VLASH's ablation without future state.
        case naiveAsync = "naive-async"
        /// Async in VLASH's cycle, conditioned on the state rolled forward to the end of the
        /// buffer, the chunk started there (VLASH).
        case futureStateAsync = "future-state-async"
        /// Real-time-chunking style: conditioned on the state at request time, the chunk
        /// aligned by its observation's step (actions for steps already executed dropped) and
        /// blended into the remaining actions with RTC's soft mask.
        case rtcBlend = "rtc-blend"
        /// Not VLASH's cycle: issue 7's client, future-state async re-planning every 4 steps
        /// with the chunk spliced at the estimated delay (what the edge's clients run today).
        case futureStateReplan = "future-state-every-4"

        /// The control client's mode.
        public var controlMode: ControlMode {
            switch self {
            case .sync: return .sync
            case .naiveAsync, .rtcBlend: return .naiveAsync
            case .futureStateAsync, .futureStateReplan: return .futureStateAsync
            }
        }

        /// Whether the mode runs VLASH's chunk cycle (and so the overlap sweep).
        public var usesOverlap: Bool { self != .sync && self != .futureStateReplan }
    }

    /// One row of the table: a mode at a delay and overlap, over every seed.
    public struct Row: Sendable, Codable, Equatable {
        public var mode: Mode
        public var delaySteps: Int
        /// VLASH's `inference_overlap_steps`, fixed or adaptive (nil for the modes outside the cycle).
        public var overlap: ChunkOverlap?
        /// VLASH's `action_quant_ratio` the row ran with.
        public var quantRatio: Int
        /// VLASH's `n_action_steps` the row ran with (nil: whole chunks).
        public var actionSteps: ChunkActionSteps?
        /// Tracking task, averaged over seeds; `reactionSteps` holds every seed's reactions.
        public var tracking: ControlMetrics
        /// The tracking task's mean error of each seed, in seed order (for paired comparisons).
        public var trackingErrorPerSeed: [Double]
        /// The course's (path's) mean error of each seed, in seed order (empty without a course).
        public var courseErrorPerSeed: [Double]
        /// Reactions of both tasks (tracking and course disturbances), in steps.
        public var reactionSteps: [Double]
        /// Course (or path) task, averaged over seeds: its mean error is the path's cross-track error.
        public var course: ControlMetrics?
        /// Course: mean completion time of the finished runs (NaN when no course ran), and runs
        /// that did not finish.
        public var completionSeconds: Double
        public var unfinishedCourses: Int
        /// Idle (stalled) steps per run, mean over both tasks and seeds.
        public var meanIdleSteps: Double

        /// Median and 90th percentile of `reactionSteps`.
        public var reactionP50: Double { ControlMetrics.quantile(reactionSteps, 0.5) }
        public var reactionP90: Double { ControlMetrics.quantile(reactionSteps, 0.9) }
    }

    /// Delays to sweep, in control steps.
    public var delays: [Int]
    /// Overlaps to sweep for the async modes.
    public var overlaps: [ChunkOverlap]
    /// Seeds (each: its own scenarios, disturbances and latency draws).
    public var seeds: [UInt64]
    /// Modes compared.
    public var modes: [Mode]
    /// Actions per chunk (the policy's horizon).
    public var horizon: Int
    /// Extra jitter: each delay is drawn uniformly from `d … d + jitterSteps`.
    public var jitterSteps: Int
    /// How future-state mode predicts the state at the chunk's start.
    public var rollForward: any StateRollForward
    /// Steps of a tracking run, and the cap on a course run.
    public var trackingSteps: Int
    public var courseMaxSteps: Int
    /// Whether each seed also runs the course (false: tracking only; no completion time).
    public var runsCourse = true
    /// VLASH's `action_quant_ratio` (every r-th action executed; 1: all).
    public var actionQuantRatio = 1
    /// VLASH's `n_action_steps`, every mode but issue 7's re-planning client (the chunk's actions
    /// run, before r's thinning, fixed or adaptive; nil: all H).
    public var actionSteps: ChunkActionSteps?
    /// The tracking task's target: drifting and jumping (false) or circling without stop (true).
    public var orbitingTarget = false
    /// Whether the second task is a path passed through (true) or a course of stops (false).
    public var pathTask = false
    /// The robot (and the model future-state mode rolls the state through).
    public var robot = PointMassRobot()
    /// Steps between pushes, and between relocations of a course's waypoint (drawn uniformly).
    public var disturbanceGap = 60...150
    /// Success: within 0.1 of a tracking jump's target within this many steps.
    public var successWindowSteps = 60

    /// A benchmark over `delays` × `overlaps` × `seeds` × `modes`.
    public init(delays: [Int] = [0, 4, 8, 12, 20], overlaps: [ChunkOverlap] = [4], seeds: [UInt64] = Array(1...10),
                modes: [Mode] = Mode.allCases, horizon: Int = 32, jitterSteps: Int = 0,
                rollForward: any StateRollForward = DynamicsRollForward(), trackingSteps: Int = 900, courseMaxSteps: Int = 2400) {
        self.delays = delays
        self.overlaps = overlaps
        self.seeds = seeds
        self.modes = modes
        self.horizon = horizon
        self.jitterSteps = jitterSteps
        self.rollForward = rollForward
        self.trackingSteps = trackingSteps
        self.courseMaxSteps = courseMaxSteps
    }

    /// Runs on the arm (`PointMassRobot.arm`), whose demonstrations go at a third of the speed
    /// limit: disturbances and the success window on the same slower time scale (a push or a
    /// relocation every 5–10 s, 4 s to reach a jumped target).
    public mutating func useArm() {
        robot = .arm
        disturbanceGap = 150...300
        successWindowSteps = 120
    }

    /// The control client's settings for `mode` with `overlap`.
    public func settings(_ mode: Mode, overlap: ChunkOverlap) -> ControlSettings {
        ControlSettings(mode: mode.controlMode, horizon: horizon, executionHorizon: mode == .futureStateReplan ? 4 : nil,
                        aggregation: mode == .rtcBlend ? .softMask : .replace, rollForward: rolledThrough(robot),
                        overlap: mode.usesOverlap ? overlap : nil, actionQuantRatio: actionQuantRatio,
                        actionSteps: mode == .futureStateReplan ? nil : actionSteps)
    }

    /// The latency model of delay `d` for `seed`.
    public func latency(_ d: Int, seed: UInt64) -> LatencyModel {
        LatencyModel(jitterSteps > 0 ? .uniform(min: d, max: d + jitterSteps) : .constant(steps: d), seed: seed)
    }

    /// The tracking run of `seed`: its scenario and pushes.
    public func trackingTask(seed: UInt64) -> (scenario: TargetScenario, pushes: PushSchedule) {
        (orbitingTarget ? .orbit(seed: seed, steps: trackingSteps) : .tracking(seed: seed, steps: trackingSteps),
         .random(seed: seed, steps: trackingSteps, gap: disturbanceGap))
    }

    /// The course run of `seed`: 12 waypoints of its own (stops, or a path passed through),
    /// relocated and pushed at random times.
    public func courseTask(seed: UInt64) -> (scenario: TargetScenario, pushes: PushSchedule) {
        (pathTask ? .path(seed: 2026 &+ seed, maxSteps: courseMaxSteps, relocationSeed: seed, relocationGap: disturbanceGap)
                  : .course(seed: 2026 &+ seed, maxSteps: courseMaxSteps, relocationSeed: seed, relocationGap: disturbanceGap),
         .random(seed: seed &+ 500, steps: courseMaxSteps, gap: disturbanceGap))
    }

    /// The roll-forward with its dynamics model set to `robot` (a dynamics model is of the robot run).
    private func rolledThrough(_ robot: PointMassRobot) -> any StateRollForward {
        rollForward is DynamicsRollForward ? DynamicsRollForward(robot: robot) : rollForward
    }

    /// Runs everything with `policy`, calling `progress` after each row.
    public func run(policy: any ChunkPolicy, progress: (Row) -> Void = { _ in }) -> [Row] {
        var rows: [Row] = []
        for d in delays {
            for mode in modes {
                for overlap in mode.usesOverlap ? overlaps : [.fixed(0)] {
                    let row = measure(mode, delay: d, overlap: overlap, policy: policy)
                    rows.append(row)
                    progress(row)
                }
            }
        }
        return rows
    }

    /// One row: `mode` at delay `d` and `overlap` over every seed, on the simulated clock.
    public func measure(_ mode: Mode, delay d: Int, overlap: ChunkOverlap, policy: any ChunkPolicy) -> Row {
        measure(mode, delayLabel: d, overlap: overlap) { scenario, pushes, settings, latencySeed in
            SimulatedControlRun.run(scenario: scenario, settings: settings, policy: policy, latency: latency(d, seed: latencySeed),
                                    robot: robot, pushes: pushes)
        }
    }

    /// One row: `mode` with `overlap` over every seed, each task run by `run` (scenario, pushes,
    /// settings, a seed for its latency draws); `delayLabel` is the row's d. The wall-clock loop
    /// through the daemons runs the same tasks with it.
    /// - Throws: what `run` throws.
    public func measure(_ mode: Mode, delayLabel: Int, overlap: ChunkOverlap,
                        run: (TargetScenario, PushSchedule, ControlSettings, UInt64) throws -> ControlTrace) rethrows -> Row {
        let settings = settings(mode, overlap: overlap)
        var tracking: [ControlMetrics] = []
        var courses: [ControlMetrics] = []
        var reactions: [Double] = []
        var completion: [Double] = []
        var unfinished = 0
        var idle = 0
        for seed in seeds {
            let track = trackingTask(seed: seed)
            let metrics = ControlMetrics(trace: try run(track.scenario, track.pushes, settings, seed), window: successWindowSteps)
            tracking.append(metrics)
            guard runsCourse else {
                reactions += metrics.reactionSteps
                idle += metrics.idleSteps
                continue
            }
            let task = courseTask(seed: seed)
            let course = ControlMetrics(trace: try run(task.scenario, task.pushes, settings, seed &+ 1000), window: successWindowSteps)
            courses.append(course)
            reactions += metrics.reactionSteps + course.reactionSteps
            idle += metrics.idleSteps + course.idleSteps
            if let seconds = course.completionSeconds { completion.append(seconds) } else { unfinished += 1 }
        }
        return Row(mode: mode, delaySteps: delayLabel, overlap: mode.usesOverlap ? overlap : nil, quantRatio: actionQuantRatio,
                   actionSteps: settings.actionSteps,
                   tracking: .average(tracking), trackingErrorPerSeed: tracking.map(\.meanTrackingError),
                   courseErrorPerSeed: courses.map(\.meanTrackingError),
                   reactionSteps: reactions, course: courses.isEmpty ? nil : .average(courses),
                   completionSeconds: !runsCourse ? .nan : completion.isEmpty ? .infinity : completion.reduce(0, +) / Double(completion.count),
                   unfinishedCourses: unfinished, meanIdleSteps: Double(idle) / Double(max(1, (runsCourse ? 2 : 1) * seeds.count)))
    }
}

extension ControlMetrics {
    /// The mean of each figure over `runs` (largest action jump: the maximum; reactions: all of them).
    public static func average(_ runs: [ControlMetrics]) -> ControlMetrics {
        var result = runs.first ?? ControlMetrics(trace: ControlTrace())
        guard runs.count > 1 else { return result }
        let n = Double(runs.count)
        func mean(_ value: (ControlMetrics) -> Double) -> Double { runs.map(value).reduce(0, +) / n }
        let judged = runs.map(\.jumps).reduce(0, +)
        result.successRate = judged == 0 ? 1 : runs.map { $0.successRate * Double($0.jumps) }.reduce(0, +) / Double(judged)
        result.meanTrackingError = mean(\.meanTrackingError)
        result.p95TrackingError = mean(\.p95TrackingError)
        result.reactionSteps = runs.flatMap(\.reactionSteps)
        result.meanReactionSteps = result.reactionSteps.isEmpty ? 0 : result.reactionSteps.reduce(0, +) / Double(result.reactionSteps.count)
        result.idleFraction = mean(\.idleFraction)
        result.idleSteps = Int(mean { Double($0.idleSteps) }.rounded())
        result.largestActionJump = runs.map(\.largestActionJump).max() ?? 0
        result.rmsJerk = mean(\.rmsJerk)
        let completions = runs.compactMap(\.completionSeconds)
        result.completionSeconds = completions.isEmpty ? nil : completions.reduce(0, +) / Double(completions.count)
        result.jumps = judged
        return result
    }
}
