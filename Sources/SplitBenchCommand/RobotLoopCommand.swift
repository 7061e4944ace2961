import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench robot-loop`: the robot benchmark's tasks (pushes and target jumps included) run
/// by a wall-clock control loop (simulated point mass at 30 Hz) against a running edge node's
/// `act` API, in each mode.
struct RobotLoopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robot-loop", abstract: "Run the robot benchmark's tasks in real time against a running edge node's act API.")

    @Option(name: .long, help: "The edge node's client API endpoint.")
    var connect: String = "ipc:///tmp/split-edge.sock"

    @Option(name: .long, help: "Modes (repeatable): sync, naive-async, future-state-async, rtc-blend, future-state-every-4.")
    var mode: [RobotBenchmark.Mode] = RobotBenchmark.Mode.allCases

    @Option(name: .long, help: "Tracking steps per run (30 per second).")
    var steps: Int = 450

    @Flag(name: .long, help: "Also run a course per seed (completion time).")
    var course = false

    @Option(name: .long, help: "Cap on a course run, in steps.")
    var courseSteps: Int = 1200

    @Option(name: .long, help: "Seeds (each: a tracking run and a course run per mode).")
    var seeds: Int = 2

    @Option(name: .long, help: "Actions per chunk (the served policy's horizon).")
    var horizon: Int = 32

    @Option(name: .long, help: "Async: VLASH's inference_overlap_steps, a number of steps or 'adaptive' (max(4, the delay measured on earlier chunks)).")
    var overlap: ChunkOverlap = .liveDefault

    @Option(name: .long, help: "VLASH's action_quant_ratio: execute every r-th action of a chunk, one per period.")
    var quantRatio: Int = 1

    @Option(name: .long, help: "VLASH's n_action_steps: the actions run from each chunk (before --quant-ratio's thinning), a number or 'adaptive' (half the chunk, longer when the measured delay needs it).")
    var actionSteps: ChunkActionSteps = .liveDefault

    @Option(name: .long, help: "Robot: arm (split-robot-policy-arm's; disturbances every 5–10 s) or point-mass (the first policies').")
    var robot: RobotCommand.RobotKind = .arm

    @Flag(name: .long, help: "The course is a path passed through (the next waypoint shown).")
    var path = false

    @Flag(name: .long, help: "Run each next request in the control mode the edge named for the last answer (its selector's choice); the first in --mode.")
    var adoptEdgeMode = false

    @Option(name: .long, help: "Quality every act request states (exact, agreement>=X); the edge's choices are listed after the table.")
    var quality: String?

    @Option(name: .long, help: "Seconds before an unanswered request counts as failed.")
    var timeout: Double = 1.0

    func run() throws {
        let context = try ZMQContext()
        if path { try checkNextWaypoint(context: context) }
        var benchmark = RobotBenchmark(overlaps: [overlap], seeds: (1...UInt64(max(1, seeds))).map { $0 }, horizon: horizon,
                                       trackingSteps: steps, courseMaxSteps: courseSteps)
        benchmark.runsCourse = course
        benchmark.pathTask = path
        benchmark.actionQuantRatio = quantRatio
        benchmark.actionSteps = actionSteps
        if robot == .arm { benchmark.useArm() }
        print("edge \(connect), 30 Hz wall clock, robot \(robot.rawValue), H=\(horizon), overlap \(overlap), action quant ratio \(quantRatio), "
              + "n_action_steps \(actionSteps), \(seeds) seeds × (tracking \(steps) steps\(course ? path ? " + path" : " + course" : "")), pushes and target jumps at seeded random times"
              + (adoptEdgeMode ? "; each request in the mode the edge chose for the last answer" : ""))
        print("| mode | success % | course s | mean err | reaction p50 / p90 steps | rms jerk | idle steps | requests | failed | latency ms (mean / p95) | missed periods |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        var served: [String: Int] = [:]
        var planned: [ControlMode: Int] = [:]
        for mode in mode {
            var traces: [ControlTrace] = []
            let row = try benchmark.measure(mode, delayLabel: 0, overlap: overlap) { scenario, pushes, settings, _ in
                var settings = settings
                if adoptEdgeMode {
                    // Sync runs its chunks whole (unless a fixed n is asked for), the async modes
                    // VLASH's cycle: either may be adopted.
                    settings.executionHorizon = settings.horizon
                    settings.overlap = overlap
                }
                let client = try EdgeActClient(context: context, endpoint: connect, quality: quality)
                let loop = RealTimeControlLoop(settings: settings, transport: client, robot: benchmark.robot, requestTimeoutSeconds: timeout)
                loop.adoptsServedMode = adoptEdgeMode
                let trace = loop.run(scenario: scenario, pushes: pushes)
                traces.append(trace)
                planned.merge(trace.requestModes, uniquingKeysWith: +)
                served.merge(client.strategiesServed, uniquingKeysWith: +)
                return trace
            }
            let latencies = traces.flatMap(\.latencySteps).map { $0 * 1000 / 30 }.sorted()
            let mean = latencies.isEmpty ? 0 : latencies.reduce(0, +) / Double(latencies.count)
            let t = row.tracking
            print(String(format: "| %@ | %.1f | %@%@ | %.4f | %.0f / %.0f | %.0f | %.1f | %d | %d | %.1f / %.1f | %d |",
                         mode.rawValue, 100 * t.successRate, course ? String(format: "%.2f", row.completionSeconds) : "-",
                         row.unfinishedCourses > 0 ? " (\(row.unfinishedCourses) unfinished)" : "", t.meanTrackingError,
                         row.reactionP50, row.reactionP90, t.rmsJerk, row.meanIdleSteps, traces.map(\.requests).reduce(0, +),
                         traces.map(\.failures).reduce(0, +), mean, ControlMetrics.quantile(latencies, 0.95),
                         traces.map(\.missedPeriods).reduce(0, +)))
        }
        // The edge names the strategy it chose (or was told); the loop runs its --mode, or with
        // --adopt-edge-mode each next request in the mode named.
        print("strategies the edge named in its answers" + (quality.map { " (quality \($0))" } ?? "") + ": "
              + served.sorted { $0.key < $1.key }.map { "\($0.key) × \($0.value)" }.joined(separator: ", "))
        print("requests the loop made in each mode: "
              + planned.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) × \($0.value)" }.joined(separator: ", "))
    }

    /// Refuses `--path` against an edge whose policy was not trained with a next waypoint: one
    /// act request with a next waypoint, refused by such an edge as an invalid `target`. An edge
    /// that does not answer in time is left to the loop, which counts its failures.
    /// - Throws: `ValidationError` quoting the edge's refusal.
    private func checkNextWaypoint(context: ZMQContext) throws {
        let client = try EdgeActClient(context: context, endpoint: connect, quality: quality)
        let probe = ChunkRequest(id: 0, observedAtStep: 0, startStep: 0, state: RobotState(position: .zero), target: Point2(0.1, 0),
                                 next: Point2(0.1, 0.1))
        let deadline = Date().addingTimeInterval(max(timeout, 2))
        var sent = false
        while Date() < deadline {
            // ZeroMQ connects in the background: a send before that is refused, so try again.
            if !sent { sent = (try? client.send(probe, horizon: 1)) != nil }
            if sent, let answer = client.poll().first {
                if case .failure(let error as ClientAPIError) = answer.outcome, error.code == .invalidRequest, error.parameter == "target" {
                    throw ValidationError("--path shows the policy the next waypoint, but the edge at \(connect) refuses it: \(error.message)")
                }
                return
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
}
