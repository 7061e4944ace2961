import ArgumentParser
import Foundation
import Split

/// `edge-node bench`: prefill and decode tokens/s of the runtime on a model file.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure prefill and decode speed of the local runtime.")

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
        let file = try modelOptions.open()
        let model = try file.load()
        let result = try RuntimeBenchmark(promptTokens: promptTokens, decodeTokens: decodeTokens, repetitions: repetitions).run(model)
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(String(format: "prefill %.1f tokens/s, decode %.1f tokens/s (%d MB of weights per token)",
                         result.prefillTokensPerSecond, result.decodeTokensPerSecond, Int(result.weightBytesPerToken >> 20)))
        }
    }
}
