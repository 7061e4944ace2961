import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench robot`: sync vs naive async vs future-state async on the simulated clock.
struct RobotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robot",
        abstract: "Robot control benchmark: sync, naive async and future-state async (VLASH) on a simulated clock.")

    @Option(name: .long, help: "Policy: a .gguf robot policy, or 'expert' for the scripted expert.")
    var policy: String = "models/split-robot-policy.gguf"

    @Option(name: .long, help: "Inference delays to sweep, in control steps (repeatable).")
    var delay: [Int] = [0, 2, 4, 8, 12]

    @Option(name: .long, help: "Seeds per delay.")
    var seeds: Int = 10

    @Option(name: .long, help: "Jitter: each delay drawn uniformly from d … d + jitter steps.")
    var jitter: Int = 0

    @Option(name: .long, help: "Async: steps between requests.")
    var executionHorizon: Int = 4

    @Option(name: .long, help: "Sync: actions executed from each chunk before the next request (default: the whole chunk).")
    var syncExecutionHorizon: Int?

    @Option(name: .long, help: "Async: requests in flight at once.")
    var maxInFlight: Int = 1

    @Option(name: .long, help: "Future-state roll-forward: commanded (last command) or dynamics (point-mass model).")
    var rollForward: RollForward = .commanded

    @Option(name: .long, help: "Overlap aggregation: replace or blend (0.7 new).")
    var aggregation: Aggregation = .replace

    @Option(name: .long, help: "Write the rows as JSON to this file.")
    var json: String?

    @Option(name: .long, help: "Write a per-step trace (tracking task, seed 1) of each mode at --trace-delay to this CSV.")
    var traceCsv: String?

    @Option(name: .long, help: "Traced task: tracking or course.")
    var traceTask: TraceTask = .tracking

    @Option(name: .long, help: "Delay of the traced runs.")
    var traceDelay: Int = 8

    func run() throws {
        Parallel.setThreads(1)
        let chunkPolicy: any ChunkPolicy = policy == "expert"
            ? ScriptedExpert() : try TransformerPolicy(model: try ModelFile(path: policy).load())
        let blend: ActionChunkBuffer.Aggregation = aggregation == .blend ? .blend(newWeight: 0.7) : .replace
        let horizon = chunkPolicy.horizon
        let execution = executionHorizon
        let inFlight = maxInFlight
        let syncExecution = syncExecutionHorizon
        let roll: any StateRollForward = rollForward == .dynamics ? DynamicsRollForward() : CommandedTargetRollForward()
        let benchmark = RobotBenchmark(delays: delay, seeds: (1...UInt64(max(1, seeds))).map { $0 }, jitterSteps: jitter) { mode in
            ControlSettings(mode: mode, horizon: horizon, executionHorizon: mode == .sync ? syncExecution : execution,
                            maxInFlight: inFlight, aggregation: blend, rollForward: roll)
        }
        print("policy \(policy), H=\(horizon), 30 Hz, sync executes \(syncExecution ?? horizon) of each chunk, async request every \(execution) steps, \(inFlight) in flight, \(blend), roll-forward \(rollForward), "
              + "\(seeds) seeds, jitter \(jitter)")
        print("| d | mode | success % | mean err | p95 err | reaction steps | course s | idle % | max action jump |")
        print("|---|---|---|---|---|---|---|---|---|")
        let rows = benchmark.run(policy: chunkPolicy) { row in
            let t = row.tracking
            print(String(format: "| %d | %@ | %.1f | %.4f | %.4f | %.1f | %.2f%@ | %.1f | %.3f |", row.delaySteps,
                         row.mode.rawValue, 100 * t.successRate, t.meanTrackingError, t.p95TrackingError, t.meanReactionSteps,
                         row.completionSeconds, row.unfinishedCourses > 0 ? " (\(row.unfinishedCourses) unfinished)" : "",
                         100 * t.idleFraction, t.largestActionJump))
        }
        print("\nratios against sync at the same d (course time sync/mode; reaction sync/mode; success points mode − sync):")
        for d in delay {
            guard let sync = rows.first(where: { $0.delaySteps == d && $0.mode == .sync }) else { continue }
            for row in rows where row.delaySteps == d && row.mode != .sync {
                print(String(format: "d=%d %@: course %.2fx faster, reaction %.2fx lower, success %+.1f points, tracking error %.2fx",
                             d, row.mode.rawValue, sync.completionSeconds / row.completionSeconds,
                             sync.tracking.meanReactionSteps / max(row.tracking.meanReactionSteps, 1e-9),
                             100 * (row.tracking.successRate - sync.tracking.successRate),
                             row.tracking.meanTrackingError / sync.tracking.meanTrackingError))
            }
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
        }
        if let traceCsv {
            var csv = "mode,step,error,idle,jumped,x,y,tx,ty,cx,cy,observed\n"
            for mode in ControlMode.allCases {
                let trace = SimulatedControlRun.run(scenario: traceTask == .course ? .course() : .tracking(seed: 1), settings: benchmark.makeSettings(mode),
                                                    policy: chunkPolicy, latency: benchmark.latency(traceDelay, seed: 1))
                for (i, step) in trace.steps.enumerated() {
                    let error = ((step.position - step.target) * (step.position - step.target)).sum().squareRoot()
                    csv += "\(mode.rawValue),\(i),\(error),\(step.idle ? 1 : 0),\(step.jumped ? 1 : 0),"
                        + "\(step.position.x),\(step.position.y),\(step.target.x),\(step.target.y),"
                        + "\(step.command.x),\(step.command.y),\(step.observedAtStep ?? -1)\n"
                }
            }
            try csv.write(toFile: traceCsv, atomically: true, encoding: .utf8)
        }
    }
}

extension RobotCommand {
    /// How the future state is predicted.
    enum RollForward: String, ExpressibleByArgument { case commanded, dynamics }
    /// How a new chunk meets the remaining actions of the old one.
    enum Aggregation: String, ExpressibleByArgument { case replace, blend }
    /// Which task the trace records.
    enum TraceTask: String, ExpressibleByArgument { case tracking, course }
}
