import Foundation
import Split

/// The simulated-clock robot benchmark: every mode × delay × seed on the tracking task and the
/// fixed course, averaged over seeds. Exactly reproducible (seeded scenarios and latencies).
public struct RobotBenchmark {
    /// One row of the table: a mode at a delay, averaged over seeds.
    public struct Row: Sendable, Codable, Equatable {
        public var mode: ControlMode
        public var delaySteps: Int
        /// Tracking task.
        public var tracking: ControlMetrics
        /// Course task: completion time (mean over seeds of latency draws; the course is fixed).
        public var completionSeconds: Double
        /// Course runs that did not finish within the cap.
        public var unfinishedCourses: Int
    }

    /// Delays to sweep, in control steps.
    public var delays: [Int]
    /// Seeds (each: its own tracking scenario and latency draws).
    public var seeds: [UInt64]
    /// Modes compared.
    public var modes: [ControlMode]
    /// Extra jitter: each delay is drawn uniformly from `d … d + jitterSteps`.
    public var jitterSteps: Int
    /// Settings other than the mode.
    public var makeSettings: @Sendable (ControlMode) -> ControlSettings

    /// A benchmark over `delays` × `seeds` × `modes`.
    public init(delays: [Int] = [0, 2, 4, 8, 12], seeds: [UInt64] = Array(1...10), modes: [ControlMode] = ControlMode.allCases,
                jitterSteps: Int = 0, makeSettings: @escaping @Sendable (ControlMode) -> ControlSettings = { ControlSettings(mode: $0) }) {
        self.delays = delays
        self.seeds = seeds
        self.modes = modes
        self.jitterSteps = jitterSteps
        self.makeSettings = makeSettings
    }

    /// The latency model of delay `d` for `seed`.
    public func latency(_ d: Int, seed: UInt64) -> LatencyModel {
        LatencyModel(jitterSteps > 0 ? .uniform(min: d, max: d + jitterSteps) : .constant(steps: d), seed: seed)
    }

    /// Runs everything with `policy`, calling `progress` after each row.
    public func run(policy: any ChunkPolicy, progress: (Row) -> Void = { _ in }) -> [Row] {
        var rows: [Row] = []
        for d in delays {
            for mode in modes {
                let settings = makeSettings(mode)
                var tracking: [ControlMetrics] = []
                var completion: [Double] = []
                var unfinished = 0
                for seed in seeds {
                    let trace = SimulatedControlRun.run(scenario: .tracking(seed: seed), settings: settings, policy: policy,
                                                        latency: latency(d, seed: seed))
                    tracking.append(ControlMetrics(trace: trace))
                    let course = SimulatedControlRun.run(scenario: .course(), settings: settings, policy: policy,
                                                         latency: latency(d, seed: seed &+ 1000))
                    if let seconds = ControlMetrics(trace: course).completionSeconds {
                        completion.append(seconds)
                    } else {
                        unfinished += 1
                    }
                }
                let row = Row(mode: mode, delaySteps: d, tracking: .average(tracking),
                              completionSeconds: completion.isEmpty ? .infinity : completion.reduce(0, +) / Double(completion.count),
                              unfinishedCourses: unfinished)
                rows.append(row)
                progress(row)
            }
        }
        return rows
    }
}

extension ControlMetrics {
    /// The mean of each figure over `runs` (largest action jump: the maximum).
    public static func average(_ runs: [ControlMetrics]) -> ControlMetrics {
        var result = runs.first ?? ControlMetrics(trace: ControlTrace())
        guard runs.count > 1 else { return result }
        let n = Double(runs.count)
        func mean(_ value: (ControlMetrics) -> Double) -> Double { runs.map(value).reduce(0, +) / n }
        let judged = runs.map(\.jumps).reduce(0, +)
        result.successRate = judged == 0 ? 1 : runs.map { $0.successRate * Double($0.jumps) }.reduce(0, +) / Double(judged)
        result.meanTrackingError = mean(\.meanTrackingError)
        result.p95TrackingError = mean(\.p95TrackingError)
        result.meanReactionSteps = mean(\.meanReactionSteps)
        result.idleFraction = mean(\.idleFraction)
        result.largestActionJump = runs.map(\.largestActionJump).max() ?? 0
        let completions = runs.compactMap(\.completionSeconds)
        result.completionSeconds = completions.isEmpty ? nil : completions.reduce(0, +) / Double(completions.count)
        result.jumps = judged
        return result
    }
}
