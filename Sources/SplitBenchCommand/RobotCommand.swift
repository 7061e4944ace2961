import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench robot`: sync, naive async, future-state async (VLASH) and an RTC-style blend on
/// the simulated clock, in VLASH's setup (H = 32 at 30 Hz, overlap sweep, injected disturbances).
struct RobotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robot",
        abstract: "Robot control benchmark in VLASH's setup: sync, naive async, future-state async, RTC-style blend on a simulated clock.")

    @Option(name: .long, help: "Policy: a .gguf robot policy, or 'expert' for the scripted expert of --robot (H = --horizon).")
    var policy: String = "models/split-robot-policy-arm.gguf"

    @Option(name: .long, help: "Robot: arm (acceleration limit; demonstrations at a third of the speed limit, split-robot-policy-arm) or point-mass (the first policies'). Default: the one the policy was trained on (its split.policy.robot); arm for the expert.")
    var robot: RobotKind?

    @Flag(name: .long, help: "Second task: a path passed through (the next waypoint shown) instead of a course of stops.")
    var path = false

    @Option(name: .long, help: "Chunk length of the scripted expert (a .gguf policy has its own).")
    var horizon: Int = 32

    @Option(name: .long, help: "Inference delays to sweep, in control steps (repeatable).")
    var delay: [Int] = [0, 4, 8, 12, 20]

    @Option(name: .long, help: "Async: VLASH's inference_overlap_steps to sweep (repeatable): a number of steps, or 'adaptive' (max(4, the delay the client measured on earlier chunks)). Default 4, VLASH's own setting, so that a plain run is the paper's setup; robot-loop and the live client default to adaptive, which the sweep found better (BENCHMARKS.md, \"Robot control\").")
    var overlap: [ChunkOverlap] = [4]

    @Option(name: .long, help: "Modes (repeatable): sync, naive-async, future-state-async, rtc-blend, future-state-every-4.")
    var mode: [RobotBenchmark.Mode] = RobotBenchmark.Mode.allCases

    @Option(name: .long, help: "Seeds per delay.")
    var seeds: Int = 10

    @Option(name: .long, help: "Jitter: each delay drawn uniformly from d … d + jitter steps.")
    var jitter: Int = 0

    @Option(name: .long, help: "Future-state roll-forward: dynamics (point-mass model from the measured state) or commanded (VLASH's last action).")
    var rollForward: RollForward = .dynamics

    @Option(name: .long, help: "VLASH's action_quant_ratio: execute every r-th action of a chunk, one per period (repeatable).")
    var quantRatio: [Int] = [1]

    @Option(name: .long, help: "VLASH's n_action_steps: the actions run from each chunk, every mode (counted before --quant-ratio's thinning), a number or 'adaptive' (half the chunk, longer when the measured delay needs it); default all, H (repeatable). The comparisons are against sync running whole chunks (when among them); the trace is of the first.")
    var actionSteps: [ChunkActionSteps] = []

    @Flag(name: .long, help: "Tracking task with a target circling without stop (0.6 units/s) instead of the jumping one.")
    var orbit = false

    @Option(name: .long, help: "Write the rows (with every reaction) as JSON to this file.")
    var json: String?

    @Option(name: .long, help: "Write a per-step trace (tracking task, or with --path the path; seed 1; the first --quant-ratio) of each mode at --trace-delay, the first --overlap and --action-steps, to this CSV.")
    var traceCsv: String?

    @Option(name: .long, help: "Delay of the traced runs.")
    var traceDelay: Int = 8

    func run() throws {
        Parallel.setThreads(1)
        let file = policy == "expert" ? nil : try ModelFile(path: policy)
        let robot = try Self.robot(self.robot, path: path, policy: policy, training: file.map { PolicyTraining($0.configuration) })
        let expert = robot == .arm ? ScriptedExpert.teleoperated(horizon: horizon) : ScriptedExpert(horizon: horizon)
        let chunkPolicy: any ChunkPolicy = try file.map { try TransformerPolicy(model: try $0.load()) } ?? expert
        let roll: any StateRollForward = rollForward == .dynamics ? DynamicsRollForward() : CommandedTargetRollForward()
        var benchmark = RobotBenchmark(delays: delay, overlaps: overlap, seeds: (1...UInt64(max(1, seeds))).map { $0 }, modes: mode,
                                       horizon: chunkPolicy.horizon, jitterSteps: jitter, rollForward: roll)
        benchmark.orbitingTarget = orbit
        benchmark.pathTask = path
        if robot == .arm { benchmark.useArm() }
        let second = path ? "path" : "course"
        print("policy \(policy), robot \(robot.rawValue) (disturbances every \(benchmark.disturbanceGap) steps, success within \(benchmark.successWindowSteps) steps), H=\(chunkPolicy.horizon), 30 Hz, overlap \(overlap), action quant ratio \(quantRatio), "
              + "roll-forward \(rollForward), \(seeds) seeds, jitter \(jitter); tracking\(orbit ? " (orbiting target)" : "") "
              + "\(benchmark.trackingSteps) steps + \(second), pushes and target jumps at seeded random times")
        print("| d | r | n | mode | overlap | success % | \(second) s | tracking err | \(second) err | reaction p50 / p90 steps | rms jerk | idle steps |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        let started = Date()
        var rows: [RobotBenchmark.Row] = []
        for (pass, steps) in (actionSteps.isEmpty ? [nil] : actionSteps.map(Optional.some)).enumerated() {
            benchmark.actionSteps = steps
            // Issue 7's re-planning client has no n_action_steps: its rows are run once.
            benchmark.modes = pass == 0 ? mode : mode.filter { $0 != .futureStateReplan }
            for ratio in quantRatio {
                benchmark.actionQuantRatio = ratio
                rows += benchmark.run(policy: chunkPolicy) { row in
                    let t = row.tracking
                    print(String(format: "| %d | %d | %@ | %@ | %@ | %.1f | %.2f%@ | %.4f | %.4f | %.0f / %.0f | %.0f | %.1f |", row.delaySteps,
                                 row.quantRatio, Self.describe(row.actionSteps), row.mode.rawValue, row.overlap?.description ?? "-",
                                 100 * t.successRate, row.completionSeconds,
                                 row.unfinishedCourses > 0 ? " (\(row.unfinishedCourses) unfinished)" : "",
                                 t.meanTrackingError, row.course?.meanTrackingError ?? .nan, row.reactionP50, row.reactionP90, t.rmsJerk,
                                 row.meanIdleSteps))
                }
            }
        }
        print(String(format: "(%.0f s)", Date().timeIntervalSince(started)))
        print("\nagainst sync with r = 1 at the same d running whole chunks (else the first n), VLASH's comparison (\(second) speed-up sync/mode; reaction p50 sync/mode; "
              + "success points mode − sync); future-state against naive async at the same r and n (errors naive/future):")
        for d in delay {
            // Sync at its fastest (whole chunks) when run, else at the first n.
            let syncRows = rows.filter { $0.delaySteps == d && $0.mode == .sync && $0.quantRatio == 1 }
            guard let sync = syncRows.first(where: { $0.actionSteps == nil || $0.actionSteps == .fixed(chunkPolicy.horizon) })
                ?? syncRows.first(where: { $0.actionSteps == actionSteps.first }) else { continue }
            for n in (actionSteps.isEmpty ? [] : actionSteps.map(Optional.some)) + [nil] {
                for row in rows where row.delaySteps == d && row.actionSteps == n
                    && !(row.mode == .sync && row.quantRatio == 1 && row.actionSteps == sync.actionSteps) {
                    // A mode that never acted on a disturbance (the blend at large d) has no reaction to compare.
                    let reaction = row.reactionSteps.isEmpty ? "no reactions"
                        : String(format: "reaction p50 %.2fx lower", sync.reactionP50 / max(row.reactionP50, 1e-9))
                    var line = String(format: "d=%d r=%d n=%@ %@ o=%@: %@ %.2fx faster, %@, success %+.1f points",
                                      d, row.quantRatio, Self.describe(n), row.mode.rawValue, row.overlap?.description ?? "-", second,
                                      sync.completionSeconds / row.completionSeconds, reaction,
                                      100 * (row.tracking.successRate - sync.tracking.successRate))
                    if row.mode == .futureStateAsync, let naive = Self.naiveRow(matching: row, in: rows) {
                        line += String(format: ", tracking error %.2fx lower than naive, %@ error %.2fx", naive.tracking.meanTrackingError
                                       / row.tracking.meanTrackingError, second,
                                       (naive.course?.meanTrackingError ?? .nan) / (row.course?.meanTrackingError ?? .nan))
                    }
                    print(line)
                }
            }
        }
        printPairedComparison(rows, second: second)
        if let json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
        }
        if let traceCsv {
            var csv = "mode,step,error,idle,jumped,pushed,x,y,tx,ty,cx,cy,observed\n"
            let task = path ? benchmark.courseTask(seed: 1) : benchmark.trackingTask(seed: 1)
            benchmark.actionQuantRatio = quantRatio[0]
            benchmark.actionSteps = actionSteps.first
            for mode in mode {
                let trace = SimulatedControlRun.run(scenario: task.scenario, settings: benchmark.settings(mode, overlap: overlap[0]),
                                                    policy: chunkPolicy, latency: benchmark.latency(traceDelay, seed: 1),
                                                    robot: benchmark.robot, pushes: task.pushes)
                for (i, step) in trace.steps.enumerated() {
                    csv += "\(mode.rawValue),\(i),\(step.error),\(step.idle ? 1 : 0),\(step.jumped ? 1 : 0),"
                        + "\(step.pushed ? 1 : 0),\(step.position.x),\(step.position.y),\(step.target.x),\(step.target.y),"
                        + "\(step.command.x),\(step.command.y),\(step.observedAtStep ?? -1)\n"
                }
            }
            try csv.write(toFile: traceCsv, atomically: true, encoding: .utf8)
        }
    }
}

extension RobotCommand {
    /// The robot to run `policy` on: `asked`, or the one the policy was trained on (`training`;
    /// nil for the scripted expert, which drives either, the arm by default).
    /// - Throws: `ValidationError` when `asked` is not the policy's robot, or for `path` (the next
    ///   waypoint shown) with a policy not trained with one.
    static func robot(_ asked: RobotKind?, path: Bool, policy: String, training: PolicyTraining?) throws -> RobotKind {
        guard let training else { return asked ?? .arm }
        if path, !training.sawNextWaypoint {
            throw ValidationError("--path shows the policy the next waypoint, but \(policy) was not trained with one (its "
                                  + "\(PolicyTraining.metadataKey) does not name next-waypoint): use models/split-robot-policy-arm.gguf")
        }
        let trained: RobotKind = training.accelerationLimit == nil ? .pointMass : .arm
        if let asked, asked != trained {
            throw ValidationError("\(policy) was trained on \(training.robot ?? "the point mass (no \(PolicyTraining.metadataKey))"), "
                                  + "not on --robot \(asked.rawValue): use --robot \(trained.rawValue)")
        }
        return trained
    }

    /// Future-state against naive async at the same d, r and overlap, seed by seed (the same
    /// scenarios and delays): naive − future of the tracking and the second task's error, mean ±
    /// standard error over seeds, and the seeds where future-state's error was lower.
    func printPairedComparison(_ rows: [RobotBenchmark.Row], second: String) {
        print("\nfuture-state against naive async at the same d, r and overlap, paired over seeds (naive − future error, "
              + "mean ± standard error; > 0: future-state lower; seeds where future-state is lower):")
        print("| d | r | n | overlap | tracking err naive − future | SEs | future lower | \(second) err naive − future | SEs | future lower |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for future in rows where future.mode == .futureStateAsync {
            guard let naive = Self.naiveRow(matching: future, in: rows),
                  let tracking = PairedDifference(naive.trackingErrorPerSeed, future.trackingErrorPerSeed) else { continue }
            let course = PairedDifference(naive.courseErrorPerSeed, future.courseErrorPerSeed)
            func cells(_ p: PairedDifference?) -> String {
                guard let p else { return "- | - | -" }
                return String(format: "%+.4f ± %.4f | %.1f | %d / %d", p.mean, p.standardError, p.standardErrors, p.larger, p.count)
            }
            print("| \(future.delaySteps) | \(future.quantRatio) | \(Self.describe(future.actionSteps)) | \(future.overlap?.description ?? "-") | "
                  + "\(cells(tracking)) | \(cells(course)) |")
        }
    }

    /// The naive-async row at `row`'s delay, action quant ratio, n_action_steps and overlap: what future-state
    /// async is compared with.
    static func naiveRow(matching row: RobotBenchmark.Row, in rows: [RobotBenchmark.Row]) -> RobotBenchmark.Row? {
        rows.first { $0.mode == .naiveAsync && $0.delaySteps == row.delaySteps && $0.quantRatio == row.quantRatio && $0.overlap == row.overlap
                     && $0.actionSteps == row.actionSteps }
    }

    /// A row's n_action_steps as the tables print it ("all": whole chunks).
    static func describe(_ actionSteps: ChunkActionSteps?) -> String { actionSteps?.description ?? "all" }

    /// How the future state is predicted.
    enum RollForward: String, ExpressibleByArgument { case commanded, dynamics }
    /// Which simulated robot.
    enum RobotKind: String, ExpressibleByArgument { case arm, pointMass = "point-mass" }
}

extension RobotBenchmark.Mode: ExpressibleByArgument {}

extension ChunkOverlap: ExpressibleByArgument {}
extension ChunkActionSteps: ExpressibleByArgument {}

extension ExpressibleByArgument where Self: ControlSettingText {
    /// The setting's text form ("4", "adaptive", …), as `init(parsing:)` reads it.
    public init?(argument: String) {
        guard let setting = try? Self(parsing: argument) else { return nil }
        self = setting
    }
}
