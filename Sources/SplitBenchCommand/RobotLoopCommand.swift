import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench robot-loop`: a wall-clock robot control loop (simulated point mass at 30 Hz)
/// against a running edge node's `act` API, in each mode.
struct RobotLoopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robot-loop", abstract: "Run the robot control loop in real time against a running edge node's act API.")

    @Option(name: .long, help: "The edge node's client API endpoint.")
    var connect: String = "ipc:///tmp/split-edge.sock"

    @Option(name: .long, help: "Modes to run (repeatable): sync, naive-async, future-state-async.")
    var mode: [ControlMode] = ControlMode.allCases

    @Option(name: .long, help: "Tracking steps per mode (30 per second).")
    var steps: Int = 450

    @Flag(name: .long, help: "Also run the fixed course in each mode (completion time).")
    var course = false

    @Option(name: .long, help: "Actions per chunk (the policy's horizon).")
    var horizon: Int = 16

    @Option(name: .long, help: "Async: steps between requests.")
    var executionHorizon: Int = 4

    @Option(name: .long, help: "Seconds before an unanswered request counts as failed.")
    var timeout: Double = 1.0

    func run() throws {
        let modes = mode
        let context = try ZMQContext()
        print("edge \(connect), 30 Hz wall clock, H=\(horizon), async request every \(executionHorizon) steps")
        print("| mode | success % | mean err | p95 err | reaction steps | course s | idle % | max action jump | requests | failed | latency ms (mean / p95) | missed periods | degraded steps |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for mode in modes {
            let settings = ControlSettings(mode: mode, horizon: horizon, executionHorizon: mode == .sync ? nil : executionHorizon)
            let loop = RealTimeControlLoop(settings: settings, transport: try EdgeActClient(context: context, endpoint: connect),
                                           requestTimeoutSeconds: timeout)
            let trace = loop.run(scenario: .tracking(seed: 1, steps: steps))
            let metrics = ControlMetrics(trace: trace)
            var courseText = "-"
            var missed = trace.missedPeriods, degraded = trace.degradedSteps
            if course {
                let courseLoop = RealTimeControlLoop(settings: settings, transport: try EdgeActClient(context: context, endpoint: connect),
                                                     requestTimeoutSeconds: timeout)
                let courseTrace = courseLoop.run(scenario: .course(maxSteps: 1200))
                courseText = ControlMetrics(trace: courseTrace).completionSeconds.map { String(format: "%.2f", $0) } ?? "unfinished"
                missed += courseTrace.missedPeriods
                degraded += courseTrace.degradedSteps
            }
            let latencies = trace.latencySteps.map { $0 * 1000 / 30 }.sorted()
            let mean = latencies.isEmpty ? 0 : latencies.reduce(0, +) / Double(latencies.count)
            let p95 = latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(0.95 * Double(latencies.count)))]
            print(String(format: "| %@ | %.1f | %.4f | %.4f | %.1f | %@ | %.1f | %.3f | %d | %d | %.1f / %.1f | %d | %d |",
                         mode.rawValue, 100 * metrics.successRate, metrics.meanTrackingError, metrics.p95TrackingError,
                         metrics.meanReactionSteps, courseText, 100 * metrics.idleFraction, metrics.largestActionJump,
                         trace.requests, trace.failures, mean, p95, missed, degraded))
        }
    }
}
