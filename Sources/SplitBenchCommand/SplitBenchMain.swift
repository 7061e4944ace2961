import ArgumentParser
import SplitCLI

@main
struct SplitBenchMain: ConfiguredMain {
    static let configuration = CommandConfiguration(
        commandName: "split-bench",
        abstract: "Split's benchmarks and evaluations: runtime speed, split and link, early exit, planner, selector, robot control, editor replay.",
        subcommands: [RuntimeCommand.self, SplitCommand.self, ExitCommand.self, PlanCommand.self, SelectCommand.self,
                      RobotCommand.self, RobotLoopCommand.self, CloudLoadCommand.self, RelayCommand.self, EditorCommand.self]
    )
}
