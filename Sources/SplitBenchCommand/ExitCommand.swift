import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench exit`: line completion on held-out files through split, split-spec,
/// split-exit and cloud-only over the emulated link, against the full model.
struct ExitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exit", abstract: "Measure split-spec and split-exit line completion against split(k) and cloud-only.")

    @OptionGroup var modelOptions: ModelOptions

    @OptionGroup var heldOutOptions: HeldOutOptions

    @Option(name: .long, help: "Line-completion prompts timed per strategy and link.")
    var prompts = 20

    @Option(name: .long, help: "Prompts for the split-spec exactness check (0 skips it).")
    var exactnessPrompts = 100

    @Option(name: .long, help: "Most tokens per completion (a completion also stops at the end of the line).")
    var maxTokens = 32

    @Option(name: .long, help: "Emulated round-trip times in ms (repeatable).")
    var rttMs: [Double] = [10, 40, 100]

    @Option(name: .long, help: "Emulated bandwidth each way in Mbit/s.")
    var bandwidthMbit: Double = 50

    @Option(name: .long, help: "Strategies (repeatable; default: cloud, split, split-spec and split-exit at τ 0.5 and the calibrated τ at k = L/2; a split-exit without tau or split-spec without gamma takes the calibrated value).")
    var strategy: [String] = []

    @Flag(name: .long, help: "Plain thresholds for split-exit even when the model has a trained controller.")
    var noController = false

    @Option(name: .long, help: "Exit heads from `edge-node train-exits`: every split-spec and split-exit also runs with them (+heads), side by side; repeat to compare several sidecars (+heads2, +heads3, …).")
    var exits: [String] = []

    @Option(name: .long, help: "Write the rows as JSON here.")
    var json: String?

    func run() throws {
        let file = try modelOptions.open()
        guard let tokenizer = file.tokenizer else { throw ValidationError("the model has no tokenizer") }
        let k = file.configuration.layerCount / 2
        // Strategies without τ or γ take the model's calibrated defaults (`edge-node calibrate`).
        let calibration = try ExitCalibration.load(forModel: modelOptions.model)
        let names = strategy.isEmpty
            ? ["cloud(f32)", "split(k=\(k),f32)", "split-spec(k=\(k),gamma=4,f32)", "split-spec(k=\(k),gamma=6,adaptive,f32)",
               "split-exit(k=\(k),tau=0.5,f32)", calibration == nil ? "split-exit(k=\(k),tau=0.3,f32)" : "split-exit(k=\(k),f32)"]
            : strategy
        let strategies = try names.map { try Strategy.parse($0, default: "local", calibration: calibration) }
        let set = try heldOutOptions.cases(max(prompts, exactnessPrompts), tokenizer: tokenizer, defaultPart: .test)
        print("model \(modelOptions.model); \(set.cases.count) held-out line-completion cases from \(heldOutOptions.heldOut)")
        if exactnessPrompts > 0 {
            let check = ExitBenchmark(modelPath: modelOptions.model, cases: Array(set.cases.prefix(exactnessPrompts)), maxTokens: maxTokens,
                                      roundTripMilliseconds: [], bandwidthBitsPerSecond: nil, strategies: [])
            let L = file.configuration.layerCount
            let heads: [ExitHeads?] = [nil] + (try exits.map { try ExitHeads.load(for: file, path: $0) })
            for layer in Set([L / 4, k, 3 * L / 4]).sorted() {
                for (index, variant) in heads.enumerated() {
                    let result = try check.exactness(splitLayer: layer, draftLength: 4, exitHeads: variant)
                    let suffix = index == 0 ? "" : index == 1 ? "+heads" : "+heads\(index)"
                    print("exactness: greedy split-spec(k=\(layer),gamma=4,f32)\(suffix) == local on "
                          + "\(result.identical)/\(result.total) prompts" + (result.mismatches.isEmpty ? "" : " (differ: \(result.mismatches))"))
                }
            }
        }
        var benchmark = ExitBenchmark(modelPath: modelOptions.model, cases: Array(set.cases.prefix(prompts)), maxTokens: maxTokens,
                                      roundTripMilliseconds: rttMs, bandwidthBitsPerSecond: bandwidthMbit > 0 ? bandwidthMbit * 1e6 : nil,
                                      strategies: strategies, useController: !noController, exitHeadsPath: exits.first) { rtt, bandwidth in
            EmulatedLink(LinkEmulatorConfiguration(targetPort: 0, oneWayDelaySeconds: rtt / 2000, bandwidthBitsPerSecond: bandwidth))
        }
        benchmark.comparedExitHeadsPaths = Array(exits.dropFirst())
        print("| RTT ms | strategy | tok/s | decode tok/s | ms/completion | round trips/token | accepted drafts | edge-answered | agree w/ full | token agree | line EM | edit sim | stops (EM; full model's EM on them) |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        let rows = try benchmark.run { row in
            printLine(String(format: "| %.0f | %@ | %.1f | %.1f | %.0f | %.2f | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.1f%% | %.1f%% | %d (%.0f%%; %.0f%%) |",
                         row.roundTripMilliseconds, row.strategy, row.tokensPerSecond, row.decodeTokensPerSecond,
                         row.meanCompletionSeconds * 1e3, row.roundTripsPerToken, row.acceptanceRate * 100,
                         row.edgeAnsweredFraction * 100, row.agreement * 100, row.tokenAgreement * 100, row.lineExactMatch * 100,
                         row.lineEditSimilarity * 100, row.controllerStops, row.controllerStopExactMatch * 100,
                         row.controllerStopFullExactMatch * 100))
        }
        for rtt in rttMs {
            let at = rows.filter { $0.roundTripMilliseconds == rtt }
            guard let base = at.first(where: { $0.strategy.hasPrefix("split(") }) else { continue }
            for row in at where row.strategy != base.strategy {
                print(String(format: "RTT %.0f ms: %@ / %@ = %.2fx decode tok/s, %.2fx tok/s", rtt, row.strategy, base.strategy,
                             row.decodeTokensPerSecond / base.decodeTokensPerSecond, row.tokensPerSecond / base.tokensPerSecond))
            }
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
        }
    }
}

/// Prints a line at once (stdout is buffered when piped; rows arrive minutes apart).
private func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
