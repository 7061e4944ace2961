import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

extension EditorSession.RequestShape: ExpressibleByArgument {}

/// `split-bench editor`: an editor session replayed as `/infill` requests against a real edge,
/// with and without prompt reuse, side by side.
struct EditorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "editor",
        abstract: "Replay an editor typing a held-out file: /infill time to first token and to a full line, with and without prompt reuse.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Python file to type, relative to the standard library (a held-out file of tools/train/splits/valid.txt).")
    var file = "email/parser.py"

    @Option(name: .long, help: "Lines typed.")
    var lines = 12

    @Option(name: .long, help: "Chance of a pause (a request) after a character inside a line; every line end pauses.")
    var pauseProbability = 0.08

    @Option(name: .long, help: "Most requests per strategy and mode.")
    var maxRequests = 40

    @Option(name: .long, help: "Seed of the typed region and the pauses.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Strategies (repeatable).")
    var strategy: [String] = ["split(k=4,f32)", "split-spec(k=4,gamma=4,f32)"]

    @Option(name: .long, help: "The edge's split layer.")
    var splitLayer = 4

    @Option(name: .long, help: "Emulated round-trip time in milliseconds.")
    var rttMs: Double = 40

    @Option(name: .long, help: "Emulated bandwidth each way in Mbit/s (0 = unlimited).")
    var bandwidthMbit: Double = 0

    @Option(name: .long, help: "How requests cut the document: llama-vim (256 lines before the cursor's line, the typed part of the line as prompt, 64 lines after, input_extra, n_indent: what llama.vim sends) or whole-document (all text before and after the cursor, no prompt: session 8's replay).")
    var requests: EditorSession.RequestShape = .llamaVim

    @Option(name: .long, help: "Files (relative to the standard library) whose chunks fill llama.vim's ring buffer, sent as input_extra with llama-vim requests (repeatable).")
    var ringFile: [String] = ["email/feedparser.py", "email/message.py", "email/_policybase.py"]

    @Option(name: .long, help: "n_predict of each request (default: llama.vim's 128 for llama-vim requests, 32 for whole-document).")
    var maxTokens: Int?

    @Flag(name: .long, help: "The edge builds SPM infill prompts (suffix first), as edge-node serve --spm-infill.")
    var spmInfill = false

    @Option(name: .long, help: "Write every request's timings here as JSON (for tools/bench/plot_editor.py).")
    var jsonOut: String?

    func run() throws {
        let root = try LineCompletionSet.standardLibraryPath()
        let text = try String(contentsOfFile: (root as NSString).appendingPathComponent(file), encoding: .utf8)
        let session = EditorSession(text: text, lineCount: lines, pauseProbability: pauseProbability, maxRequests: maxRequests,
                                    seed: seed, shape: requests)
        let ring = requests == .llamaVim
            ? EditorSession.ringChunks(of: try ringFile.map { name in
                InfillFile(filename: name, text: try String(contentsOfFile: (root as NSString).appendingPathComponent(name), encoding: .utf8))
            }, seed: seed)
            : []
        let budget = maxTokens ?? (requests == .llamaVim ? 128 : 32)
        let link = LinkEmulatorConfiguration(targetPort: 0, oneWayDelaySeconds: rttMs / 2000,
                                             bandwidthBitsPerSecond: bandwidthMbit > 0 ? bandwidthMbit * 1e6 : nil)
        let benchmark = EditorReplayBenchmark(modelPath: modelOptions.model, session: session, strategies: strategy,
                                              splitLayer: splitLayer, link: link, maxTokens: budget,
                                              layout: spmInfill ? .suffixPrefixMiddle : .prefixSuffixMiddle, shape: requests, extraFiles: ring)
        print("typing \(file) lines \(session.firstLine + 1)-\(session.firstLine + session.lineCount): "
              + "\(session.requests.count) requests (\(session.requests.filter(\.atLineEnd).count) at line ends); "
              + "\(requests.rawValue) requests, n_predict \(budget), \(ring.count) input_extra chunks; "
              + (spmInfill ? "SPM" : "PSM") + " infill prompts; " + String(format: "emulated RTT %.0f ms", rttMs) + (bandwidthMbit > 0 ? String(format: ", %.0f Mbit/s", bandwidthMbit) : ""))
        let result = try benchmark.run { print($0) }
        print("model \(result.model): context \(result.contextTokens) tokens")
        if let jsonOut {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try encoder.encode(result).write(to: URL(fileURLWithPath: jsonOut))
        }
        printTable(result)
    }

    private func printTable(_ result: EditorReplayBenchmark.Result) {
        func ms(_ seconds: Double) -> String { String(format: "%.0f", seconds * 1e3) }
        print("| strategy | prompt reuse | requests | TTFT p50 ms | TTFT p99 ms | full line p50 ms | full line p99 ms | whole answer p50 ms | edge TTFT p50 ms | prompt tokens (mean) | reused (mean) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        var medians: [String: [Bool: (ttft: Double, line: Double)]] = [:]
        for name in strategy {
            for reuse in [true, false] {
                let rows = result.samples.filter { $0.strategy == name && $0.reuse == reuse }.map(\.exchange)
                let ttft = rows.map { $0.firstTextSeconds ?? $0.totalSeconds }
                let line = rows.map(\.lineSeconds)
                let edge = rows.compactMap(\.edgeFirstTokenSeconds)
                let prompt = Double(rows.map(\.promptTokens).reduce(0, +)) / Double(max(1, rows.count))
                let cached = Double(rows.map(\.cachedTokens).reduce(0, +)) / Double(max(1, rows.count))
                medians[name, default: [:]][reuse] = (SampleStatistics.quantile(ttft, 0.5), SampleStatistics.quantile(line, 0.5))
                print("| \(name) | \(reuse ? "yes" : "no") | \(rows.count) | \(ms(SampleStatistics.quantile(ttft, 0.5))) | "
                      + "\(ms(SampleStatistics.quantile(ttft, 0.99))) | \(ms(SampleStatistics.quantile(line, 0.5))) | "
                      + "\(ms(SampleStatistics.quantile(line, 0.99))) | \(ms(SampleStatistics.median(rows.map(\.totalSeconds)))) | "
                      + "\(ms(SampleStatistics.median(edge))) | "
                      + String(format: "%.1f | %.1f |", prompt, cached))
            }
        }
        print(String(format: "heartbeat RTT %.1f ms; texts differing with and without reuse: %d", result.roundTripSeconds * 1e3,
                     result.textMismatches))
        let ttftTarget = rttMs / 1e3 + 0.020
        for name in strategy {
            guard let with = medians[name]?[true], let without = medians[name]?[false] else { continue }
            let speedup = without.ttft / with.ttft
            print("\(name): reuse p50 TTFT \(ms(with.ttft)) ms (target ≤ \(ms(ttftTarget)): \(with.ttft <= ttftTarget ? "met" : "NOT met")); "
                  + String(format: "%.2fx lower than without (target ≥ 5x: %@); ", speedup, speedup >= 5 ? "met" : "NOT met")
                  + "p50 full line \(ms(with.line)) ms (target ≤ 300: \(with.line <= 0.3 ? "met" : "NOT met"))")
        }
    }
}
