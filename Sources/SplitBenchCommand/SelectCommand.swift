import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench select`: measures the task × strategy matrix of the selection suite (or
/// reads it back from `--matrix`) and evaluates the selector on held-out task groups.
struct SelectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "select",
        abstract: "Measure the task x strategy matrix and evaluate strategy selection on held-out groups.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Matrix file: cells already in it are not measured again; new cells are added to it.")
    var matrix = "bench-select-matrix.json"

    @Option(name: .long, help: "Measured rounds over every strategy per cell.")
    var repeats = 2

    @Flag(name: .long, help: "Only evaluate the matrix file; measure nothing.")
    var noMeasure = false

    @Option(name: .long, help: "Write the evaluation report (JSON) here.")
    var out: String?

    @Option(name: .long, help: "Directory holding devices/ and networks/.")
    var profiles = "profiles"

    @Option(name: .long, help: "Measure at most this many cells and stop without evaluating (run again to go on; --no-measure evaluates).")
    var maxCells: Int?

    @Option(name: .long, help: "Other tenants on the cloud for the suite's busy-cloud cells (0: an idle cloud only).")
    var busyCloudSessions = 8

    @Option(name: .long, help: "Seeds for the learning curve's history subsamples.")
    var seeds = 3

    @Option(name: .long, help: "Robot policy (.gguf) for the suite's action-chunk tasks; \"none\" measures completions only.")
    var policy = "models/split-robot-policy.gguf"

    func run() async throws {
        let store = ProfileStore(directory: profiles)
        let thisMachine = try store.device("this-machine")
        let policyPath = policy == "none" ? nil : policy
        let policyHorizon = try policyPath.map { try ModelFile(path: $0).configuration.actionHorizon }
        let suite = try SelectionSuite.standard(store: store, busyCloudSessions: busyCloudSessions, controlHorizon: policyHorizon)
        var existing = FileManager.default.fileExists(atPath: matrix) ? try SelectionMatrix.read(matrix) : nil
        if !noMeasure {
            if let threads = modelOptions.threads { Parallel.setThreads(threads) }
            let file = try ModelFile(path: modelOptions.model)
            let layerCount = file.configuration.layerCount
            let strategies = StrategyCatalogue.standard(layerCount: layerCount).strategies(layerCount: layerCount)
            let policyLayers = try policyPath.map { try ModelFile(path: $0).configuration.layerCount } ?? 0
            let measurement = SelectionMeasurement(modelPath: modelOptions.model, suite: suite, strategies: strategies,
                                                   repeats: repeats, policyPath: policyPath,
                                                   controlStrategies: StrategyCatalogue.controlStrategies(layerCount: policyLayers)) { fraction, what in
                FileHandle.standardError.write(Data("[\(Int(fraction * 100))%] \(what)\n".utf8))
            }
            let path = matrix
            existing = try await measurement.run(existing: existing, command: CommandLine.arguments.joined(separator: " "),
                                                 thisMachine: thisMachine, maxCells: maxCells) { try $0.write(to: path) }
        }
        if maxCells != nil, !noMeasure { return }
        guard let measured = existing else { throw ValidationError("no matrix at \(matrix): run without --no-measure first") }
        print("matrix: \(measured.cells.count) cells x \(measured.strategies.count) strategies x \(measured.repeats) repeats")
        try evaluate(measured, thisMachine: thisMachine, store: store)
    }
}
