import ArgumentParser
import Split

@main
struct EdgeNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-node",
        abstract: "Split edge node: runs the first layers of a model on this device.",
        subcommands: []
    )
}

