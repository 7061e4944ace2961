import ArgumentParser
import Foundation
import Split
import SplitCLI

/// `edge-node select`: the strategy the selector picks for a task, and with `--explain` the
/// prediction for every candidate.
struct SelectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "select", abstract: "Pick the strategy for a task from the planner and the recorded history.")

    @Option(name: .long, help: "Model (.gguf); its shape and exit calibration are used.")
    var model = "models/split-code-7m.gguf"

    @Option(name: .long, help: "Edge device profile: a name in profiles/devices or a YAML file.")
    var device = "this-machine"

    @Option(name: .long, help: "Cloud device profile.")
    var cloud = "this-machine"

    @Option(name: .long, help: "Network profile.")
    var network = "lte"

    @Option(name: .long, help: "Measured round trip, ms (replaces the profile's).")
    var rttMs: Double?

    @Option(name: .long, help: "The cloud's load factor (1 idle).")
    var cloudLoad = 1.0

    @Option(name: .long, help: "Prompt tokens.")
    var promptTokens = 64

    @Option(name: .long, help: "Tokens to generate.")
    var outputTokens = 16

    @Option(name: .long, help: "Required quality: exact, or agreement>=X (an action chunk: agreement>=0 allows async control).")
    var quality = "exact"

    @Option(name: .long, help: "Task kind: completion, or action-chunk (a robot policy's chunk; --policy).")
    var kind: TaskKind = .completion

    @Option(name: .long, help: "Robot policy (.gguf) for action-chunk tasks.")
    var policy = "models/split-robot-policy.gguf"

    @Option(name: .long, help: "History database to learn from (none: the planner's cost model alone).")
    var history: String?

    @Option(name: .long, help: "Learner: planner, knn or meta.")
    var learner: SelectionLearner = .meta

    @Option(name: .long, help: "Directory holding devices/ and networks/.")
    var profiles = "profiles"

    @Flag(name: .long, help: "Print every candidate's prediction.")
    var explain = false

    func validate() throws {
        guard promptTokens > 0, outputTokens > 0, cloudLoad >= 1 else {
            throw ValidationError("--prompt-tokens and --output-tokens must be positive, --cloud-load at least 1")
        }
        _ = try QualityRequirement.parse(quality)
    }

    func run() throws {
        let store = ProfileStore(directory: profiles)
        let file = try ModelFile(path: model)
        let shape = ModelShape(model: try file.load(.init(layers: nil, embedding: false, head: false)),
                               name: (model as NSString).lastPathComponent)
        let edge = try store.device(device)
        var link = try store.network(network)
        if let rttMs { link.roundTripMilliseconds = ProfileFigure(rttMs, source: "--rtt-ms") }
        let requirement = try QualityRequirement.parse(quality)
        let chunk = kind == .actionChunk
        let policyFile = chunk ? try ModelFile(path: policy) : nil
        let policyShape = try policyFile.map { ModelShape(model: try $0.load(.init(layers: nil, embedding: false, head: false)),
                                                          name: (policy as NSString).lastPathComponent) }
        let task = if let policyShape, let policyFile {
            TaskFeatures(kind: .actionChunk, promptTokens: PolicyInput.tokenCount, outputTokens: policyFile.configuration.actionHorizon,
                         requirement: requirement, device: edge, network: link, cloudLoad: cloudLoad, shape: policyShape)
        } else {
            TaskFeatures(promptTokens: promptTokens, outputTokens: outputTokens, requirement: requirement,
                         device: edge, network: link, cloudLoad: cloudLoad, shape: shape)
        }
        let prior = PlannerPrior(shape: shape, policyShape: policyShape, cloud: try store.device(cloud), devices: [edge],
                                 calibration: try ExitCalibration.load(forModel: model))
        let candidates = StrategyCatalogue.standard(layerCount: shape.layerCount).strategies(layerCount: shape.layerCount)
            + (policyShape.map { StrategyCatalogue.controlStrategies(layerCount: $0.layerCount) } ?? [])
        var selector = StrategySelector(candidates: candidates, prior: prior, learner: learner)
        if let history { selector.train(on: try HistoryStore(path: history).records()) }
        let selection = try selector.select(for: task)
        print("task: \(chunk ? "action chunk of \(task.outputTokens) actions" : "\(promptTokens) prompt + \(outputTokens) output tokens"), "
              + "\(quality), \(edge.name), \(link.name) "
              + "(\(link.roundTripMilliseconds.value) ms, \(link.uplinkMegabitsPerSecond.value) Mbit/s), history \(selector.trainingRecords) records, learner \(learner)")
        print("choice: \(selection.strategy) (selector overhead \(String(format: "%.0f", selection.overheadSeconds * 1e6)) µs)")
        guard explain else { return }
        print("")
        print("| strategy | guarantee | planner ms | predicted ms | expected agreement | admitted | runs learned from |")
        print("|---|---|---|---|---|---|---|")
        for p in selection.predictions.sorted(by: { $0.predictedSeconds < $1.predictedSeconds }) {
            let mark = p.strategy == selection.strategy ? " **chosen**" : ""
            print("| \(p.strategy)\(mark) | \(p.guarantee.rawValue) | \(String(format: "%.1f", p.plannerSeconds * 1e3)) | "
                  + "\(String(format: "%.1f", p.predictedSeconds * 1e3)) | \(String(format: "%.2f", p.expectedAgreement)) | "
                  + "\(p.admitted ? "yes" : "no") | \(p.samples) |")
        }
    }
}
