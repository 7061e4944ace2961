import ArgumentParser
import Split

/// Options every command that loads a model shares.
public struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model: a .gguf file, or a Hugging Face directory (config.json, *.safetensors, tokenizer.json).")
    public var model: String = "models/split-code-7m.gguf"

    @Option(name: .long, help: "Threads for the model's kernels (default: all cores).")
    public var threads: Int?

    public init() {}

    /// Sets the kernels' thread count and opens the model file.
    /// - Throws: `ModelError` when the file cannot be read.
    public func open() throws -> ModelFile {
        if let threads { Parallel.setThreads(threads) }
        return try ModelFile(path: model)
    }
}
