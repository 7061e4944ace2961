import ArgumentParser
import Split

/// The `main()` of every Split executable: expands `--config FILE` (YAML: option names to
/// values; command-line flags override) before parsing, then runs the chosen subcommand.
public protocol ConfiguredMain: AsyncParsableCommand {}

extension ConfiguredMain {
    /// Parses the process's arguments after `--config` expansion and runs the command.
    public static func main() async {
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
