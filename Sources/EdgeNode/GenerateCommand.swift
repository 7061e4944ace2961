import ArgumentParser
import Foundation
import Split
import SplitCLI

/// `edge-node generate`: runs the whole model locally and streams the completion.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Complete a prompt with the whole model on this machine.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Prompt text.")
    var prompt: String

    @Option(name: .long, help: "Maximum tokens to generate.")
    var maxTokens: Int = 64

    @Option(name: .long, help: "Sampling temperature (0 = greedy).")
    var temperature: Float = 0

    @Option(name: .long, help: "Top-k (0 = off).")
    var topK: Int = 0

    @Option(name: .long, help: "Top-p (1 = off).")
    var topP: Float = 1

    @Option(name: .long, help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Stop when this string appears (repeatable).")
    var stop: [String] = []

    @Flag(name: .long, help: "Print timing figures to standard error.")
    var timings = false

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be ≥ 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        let file = try modelOptions.open()
        guard let tokenizer = file.tokenizer else {
            throw ValidationError("the model at \(modelOptions.model) has no tokenizer")
        }
        let generator = try LocalGenerator(model: try file.load(), tokenizer: tokenizer)
        let request = CompletionRequest(
            prompt: prompt, maxTokens: maxTokens,
            sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP, seed: seed), stop: stop)
        let output = FileHandle.standardOutput
        output.write(Data(prompt.utf8))
        let result = try generator.generate(request) { text in
            output.write(Data(text.utf8))
        }
        output.write(Data("\n".utf8))
        if timings {
            let line = String(
                format: "prompt %d tokens in %.3f s; generated %d tokens, %.1f tokens/s; finish: %@\n",
                result.promptTokens.count, result.prefillSeconds, result.tokens.count,
                result.decodeTokensPerSecond, result.finishReason.rawValue)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
