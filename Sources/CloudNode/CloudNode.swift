import ArgumentParser
import Split

@main
struct CloudNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloud-node",
        abstract: "Split cloud node: runs the remaining layers of a model for many edge nodes.",
        subcommands: [ServeCommand.self, KeygenCommand.self, BenchCommand.self],
        defaultSubcommand: ServeCommand.self
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
