import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench cloud-load`: one cloud node under 1…N concurrent edge sessions, with and without
/// continuous batching, in one process (see `CloudLoadBenchmark`).
struct CloudLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloud-load", abstract: "Aggregate throughput and step latency of one cloud node under concurrent sessions.")

    @Option(name: .long, help: "Model file (.gguf) or Hugging Face directory.")
    var model: String = "models/split-code-7m.gguf"

    @Option(name: .long, help: "Split layer: the cloud runs layers [k, L) and the head (default L/2).")
    var splitLayer: Int?

    @Option(name: .long, help: "Concurrent session counts, comma-separated.")
    var sessions: String = "1,4,16,64"

    @Option(name: .long, help: "Prompt positions each session sends first.")
    var promptTokens: Int = 32

    @Option(name: .long, help: "Decode steps each session then sends, one at a time.")
    var decodeSteps: Int = 24

    @Option(name: .long, help: "The cloud's KV budget in MiB (sessions past it are evicted and rebuilt).")
    var kvBudgetMb: Int = 8192

    @Option(name: .long, help: "Batching modes to measure: off, on, or off,on.")
    var batching: String = "off,on"

    @Option(name: .long, help: "Rounds over every configuration; each row is its median round.")
    var rounds: Int = 3

    @Option(name: .long, help: "How long a pass waits for answered sessions' next requests while they keep arriving (µs; 0: never).")
    var gatherUs: Int = 1000

    @Option(name: .long, help: "Threads for the model's kernels (default: all cores).")
    var threads: Int?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        if let threads { Parallel.setThreads(threads) }
        ProcessMemory.returnLargeFreesToSystem()
        let counts = sessions.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (0...CloudServerConfiguration.maxGatherQuietMicroseconds).contains(gatherUs) else {
            throw ValidationError("--gather-us must be in 0…\(CloudServerConfiguration.maxGatherQuietMicroseconds)")
        }
        guard kvBudgetMb >= 0 else { throw ValidationError("--kv-budget-mb must not be negative") }
        guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 && $0 <= 1024 }) else {
            throw ValidationError("--sessions takes positive counts up to 1024, e.g. 1,4,16,64")
        }
        let layerCount = try ModelFile(path: model).configuration.layerCount
        let benchmark = CloudLoadBenchmark(modelPath: model, splitLayer: splitLayer ?? layerCount / 2,
                                           promptTokens: promptTokens, decodeSteps: decodeSteps, kvBudgetBytes: kvBudgetMb << 20,
                                           gatherQuietMicroseconds: gatherUs)
        let modes = try batching.split(separator: ",").map { mode -> Bool in
            switch mode.trimmingCharacters(in: .whitespaces) {
            case "on": return true
            case "off": return false
            default: throw ValidationError("--batching takes off, on, or off,on")
            }
        }
        let rows = try benchmark.run(sessionCounts: counts, batching: modes, rounds: rounds) { FileHandle.standardError.write(Data("… \($0)\n".utf8)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        print("model \(model), split layer \(benchmark.splitLayer), prompt \(promptTokens), \(decodeSteps) decode steps per session, gather \(gatherUs) µs, median of \(rounds) rounds")
        print("aggregate tok/s counts decode steps only, over the window in which they ran (every prompt is computed before it)")
        print("sessions  batching  agg tok/s   vs 1 session  step p50 ms  step p99 ms  rows/pass  decode rows/pass  RSS MB  KV MB  KV peak MB  evictions  rebuilds")
        let single = rows.first { $0.sessions == 1 && $0.batching }?.aggregateTokensPerSecond
        for row in rows {
            let ratio = single.map { String(format: "%.2fx", row.aggregateTokensPerSecond / $0) } ?? "-"
            print(String(format: "%8d  %8@  %9.1f  %12@  %11.1f  %11.1f  %9.1f  %16.1f  %6.0f  %5.0f  %10.0f  %9d  %8d", row.sessions,
                         row.batching ? "on" : "off", row.aggregateTokensPerSecond, ratio,
                         row.stepP50Milliseconds, row.stepP99Milliseconds, row.rowsPerPass, row.decodeRowsPerPass,
                         row.residentMegabytes, row.kvMegabytes, row.kvPeakMegabytes, row.evictions, row.rebuilds))
        }
        let phases = CloudMetrics.ComputePhase.allCases.map(\.rawValue) + ["idle"]
        print("\ncompute thread, ms per decode pass: " + phases.joined(separator: " / "))
        for row in rows {
            let values = phases.map { String(format: "%.2f", row.phaseMillisecondsPerPass[$0] ?? 0) }
            print(String(format: "%8d  %8@  ", row.sessions, row.batching ? "on" : "off") + values.joined(separator: " / "))
        }
    }
}
