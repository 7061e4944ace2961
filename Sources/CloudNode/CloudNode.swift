import ArgumentParser
import SplitCLI

@main
struct CloudNode: ConfiguredMain {
    static let configuration = CommandConfiguration(
        commandName: "cloud-node",
        abstract: "Split cloud node: runs the remaining layers of a model for many edge nodes.",
        subcommands: [ServeCommand.self, KeygenCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
