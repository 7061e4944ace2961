import ArgumentParser
import Split

@main
struct EdgeNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-node",
        abstract: "Split edge node: runs the first layers of a model on this device.",
        subcommands: [ServeCommand.self, SelectCommand.self, HistoryCommand.self, BenchSelectCommand.self, CompleteCommand.self, GenerateCommand.self, BenchCommand.self, BenchSplitCommand.self, RelayCommand.self, KeygenCommand.self, ProfileCommand.self, PlanCommand.self, BenchPlanCommand.self, BenchRobotCommand.self, RobotLoopCommand.self, BenchExitCommand.self, CalibrateCommand.self]
    )

    /// Expands `--config FILE` (YAML: option names to values) before parsing.
    static func main() async {
        do {
            let arguments = try ConfigurationFile.expand(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}


/// Options every command that loads a model shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model: a .gguf file, or a Hugging Face directory (config.json, *.safetensors, tokenizer.json).")
    var model: String = "models/split-code-7m.gguf"

    @Option(name: .long, help: "Threads for the model's kernels (default: all cores).")
    var threads: Int?

    func open() throws -> ModelFile {
        if let threads { RuntimeBenchmark.setThreads(threads) }
        return try ModelFile(path: model)
    }
}
