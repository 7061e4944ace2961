import ArgumentParser
import Foundation
import Split

/// `edge-node plan`: the split layer and activation encoding the planner picks for a model,
/// edge, cloud and network, with the predicted latency of every k.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Choose the split layer and activation encoding from device and network profiles.")

    @Option(name: .long, help: "Model (.gguf or Hugging Face directory); only its shape is used.")
    var model = "models/split-code-7m.gguf"

    @Option(name: .long, help: "Edge device profile: a name in profiles/devices or a YAML file.")
    var device: String

    @Option(name: .long, help: "Cloud device profile: a name in profiles/devices or a YAML file.")
    var cloud: String

    @Option(name: .long, help: "Network profile: a name in profiles/networks or a YAML file.")
    var network: String

    @Option(name: .long, help: "Bytes the edge may use (suffixes K, M, G allowed; default: the edge profile's memory).")
    var memoryLimit: String?

    @Option(name: .long, help: "The cloud's load factor: 1 idle, 2 when it gives this edge half its throughput.")
    var cloudLoad = 1.0

    @Option(name: .long, help: "Prompt tokens (time to first token).")
    var promptTokens = 64

    @Option(name: .long, help: "Tokens generated (their mean context prices a decode step).")
    var outputTokens = 32

    @Option(name: .long, help: "Encodings the plan may use (repeatable; default all): f32, f16, int8-32, int8-64.")
    var encoding: [String] = []

    @Option(name: .long, help: "Directory holding devices/ and networks/.")
    var profiles = "profiles"

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard cloudLoad >= 1, promptTokens > 0, outputTokens > 0 else {
            throw ValidationError("--cloud-load must be at least 1; --prompt-tokens and --output-tokens positive")
        }
        if let memoryLimit, Self.bytes(memoryLimit) == nil { throw ValidationError("cannot read --memory-limit \(memoryLimit)") }
        for name in encoding where ActivationEncoding(name: name) == nil { throw ValidationError("unknown encoding \(name)") }
    }

    func run() throws {
        let store = ProfileStore(directory: profiles)
        let file = try ModelFile(path: model)
        let transformer = try file.load(.init(layers: nil, embedding: false, head: false))
        let shape = ModelShape(model: transformer, name: (model as NSString).lastPathComponent)
        let costModel = CostModel(shape: shape, edge: try store.device(device), cloud: try store.device(cloud),
                                  network: try store.network(network), cloudLoadFactor: cloudLoad,
                                  workload: .init(promptTokens: promptTokens, outputTokens: outputTokens))
        let encodings = encoding.isEmpty ? ActivationEncoding.allCases : encoding.compactMap(ActivationEncoding.init(name:))
        let planner = SplitPlanner(costModel: costModel, memoryLimitBytes: memoryLimit.flatMap(Self.bytes), encodings: encodings)
        let plan = try planner.plan()
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(plan), as: UTF8.self))
            return
        }
        print(PlanTable.text(plan, calibrated: (costModel.edge.calibration != nil, costModel.cloud.calibration != nil)))
    }

    /// "512M" → 536870912; plain numbers are bytes.
    static func bytes(_ text: String) -> Int? {
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824]
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard let last = trimmed.last else { return nil }
        if let unit = units[last], let value = Double(trimmed.dropLast()), value >= 0 { return Int(value * unit) }
        if let value = Double(trimmed), value >= 0 { return Int(value) }
        return nil
    }
}
