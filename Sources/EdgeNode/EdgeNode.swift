import ArgumentParser
import SplitCLI

@main
struct EdgeNode: ConfiguredMain {
    static let configuration = CommandConfiguration(
        commandName: "edge-node",
        abstract: "Split edge node: runs the first layers of a model on this device.",
        subcommands: [ServeCommand.self, CompleteCommand.self, GenerateCommand.self, SelectCommand.self, HistoryCommand.self,
                      PlanCommand.self, ProfileCommand.self, CalibrateCommand.self, TrainExitsCommand.self, KeygenCommand.self]
    )
}
