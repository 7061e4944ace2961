import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench runtime`: prefill and decode tokens/s of the runtime on a model file.
struct RuntimeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime", abstract: "Measure prefill and decode speed of the local runtime.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Prompt length in tokens.")
    var promptTokens: Int = 128

    @Option(name: .long, help: "Tokens to decode after the prompt.")
    var decodeTokens: Int = 128

    @Option(name: .long, help: "Measured repetitions (after one warm-up); the median is reported.")
    var repetitions: Int = 3

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        // Freed caches of earlier repetitions go back to the system, not into the peak RSS.
        ProcessMemory.returnLargeFreesToSystem()
        let loadStart = ContinuousClock.now
        let file = try modelOptions.open()
        let model = try file.load()
        let loadTime = ContinuousClock.now - loadStart
        let loadPeak = ProcessMemory.peakResidentBytes
        var benchmark = RuntimeBenchmark(promptTokens: promptTokens, decodeTokens: decodeTokens, repetitions: repetitions)
        benchmark.modelPath = URL(fileURLWithPath: modelOptions.model).standardizedFileURL.resolvingSymlinksInPath().path
        var result = try benchmark.run(model)
        result.peakResidentBytesAfterLoad = loadPeak
        result.loadSeconds = Double(loadTime.components.seconds) + Double(loadTime.components.attoseconds) * 1e-18
        result.modelFileBytes = (try? FileManager.default.attributesOfItem(atPath: modelOptions.model)[.size] as? Int) ?? nil
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(String(format: "prefill %.1f tokens/s, decode %.1f tokens/s (%d MB of weights per token; ",
                         result.prefillTokensPerSecond, result.decodeTokensPerSecond, Int(result.weightBytesPerToken >> 20))
                  + "\(result.kernelPath) kernels)")
            if let peak = result.peakResidentBytes, let file = result.modelFileBytes {
                print(String(format: "peak RSS %d MB after load (%.2f s), %d MB after the runs; model file %d MB (%.2fx)",
                             (result.peakResidentBytesAfterLoad ?? 0) >> 20, result.loadSeconds ?? 0, peak >> 20, file >> 20,
                             Double(peak) / Double(file)))
            }
            if let parts = result.residentBreakdown {
                print(String(format: "resident after the last decode: model file %.1f MB (%.1f MB of it in 2 MB pages), executable and libraries %.1f MB, anonymous %.1f MB (KV cache %.1f MB, scratch %.1f MB)",
                             Double(parts.modelFileBytes) / 1e6, Double(parts.modelFileHugePageBytes) / 1e6,
                             Double(parts.codeBytes) / 1e6, Double(parts.anonymousBytes) / 1e6,
                             Double(result.kvCacheBytes ?? 0) / 1e6, Double(result.workspaceBytes ?? 0) / 1e6))
            }
            if let allocations = result.decodeAllocations {
                print("allocations in the last decode loop: \(allocations) (\(decodeTokens) tokens)")
            }
        }
    }
}
