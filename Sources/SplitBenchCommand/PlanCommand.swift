import ArgumentParser
import Foundation
import Split
import SplitBench
import SplitCLI

/// `split-bench plan`: the planner's predictions against measurement under emulated
/// network profiles, this machine's per-layer profile against the roofline, and the effect of
/// lossy activation encodings on greedy tokens.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Measure predicted against measured latency for every split layer under emulated networks.")

    @Option(name: .long, help: "Models to measure (repeatable).")
    var model: [String] = ["models/split-code-7m.gguf"]

    @Option(name: .long, help: "Profile of this machine (edge and cloud both run here); measure it with `edge-node profile --model M`.")
    var device = "this-machine"

    @Option(name: .long, help: "Network profiles to emulate (repeatable).")
    var network: [String] = ["ethernet-lan", "wifi", "5g", "lte", "satellite"]

    @Option(name: .long, help: "Split layers to measure (repeatable; default: every layer up to 12 layers, else a stride of L/3 plus L-1 and L).")
    var splitLayer: [Int] = []

    @Option(name: .long, help: "Prompt tokens.")
    var promptTokens = 64

    @Option(name: .long, help: "Tokens generated per measurement.")
    var decodeTokens = 16

    @Option(name: .long, help: "Measured rounds over all split layers (median reported; 1 on links slower than 100 ms).")
    var rounds = 3

    @Option(name: .long, help: "Directory holding devices/ and networks/.")
    var profiles = "profiles"

    @Option(name: .long, help: "List of held-out files for the encoding agreement (paths relative to --held-out-root).")
    var heldOutList: String?

    @Option(name: .long, help: "Root the held-out list's paths are relative to (the Python stdlib for tools/train/splits/valid.txt).")
    var heldOutRoot = ""

    @Option(name: .long, help: "Write all results as JSON here (for tools/bench/plot_plan.py).")
    var jsonOut: String?

    @Option(name: .long, help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    func run() throws {
        if let threads { Parallel.setThreads(threads) }
        let store = ProfileStore(directory: profiles)
        let device = try store.device(self.device)
        // The emulator does not drop packets: plan and measure without the profiles' loss.
        let networks = try network.map { name -> NetworkProfile in
            var profile = try store.network(name)
            profile.lossPercent = nil
            return profile
        }
        var report = BenchPlanReport(device: device.name)
        for path in model {
            let file = try ModelFile(path: path)
            let L = file.configuration.layerCount
            let layers = splitLayer.isEmpty
                ? (L <= 12 ? Array(0...L) : Array(stride(from: 0, to: L - 1, by: max(1, L / 3))) + [L - 1, L]) : splitLayer
            let bar = ProgressBar()
            let benchmark = PlanBenchmark(modelPath: path, device: device, promptTokens: promptTokens, decodeTokens: decodeTokens,
                                          rounds: rounds, progress: bar.update)
            let (shape, results) = try benchmark.run(networks: networks, splitLayers: layers)
            bar.finish()
            let errors = PlanBenchmark.layerErrors(device: device, shape: shape)
            report.models.append(.init(model: shape.name, shape: shape.signature, layerCount: L, networks: results, layerErrors: errors))
            print(BenchPlanReport.text(shape: shape, results: results, errors: errors, device: device))
        }
        if let heldOutList {
            let texts = try Self.heldOutTexts(list: heldOutList, root: heldOutRoot)
            let file = try ModelFile(path: model[0])
            guard let tokenizer = file.tokenizer else { throw ValidationError("\(model[0]) has no tokenizer") }
            let transformer = try file.load()
            let L = transformer.configuration.layerCount
            let rows = try ActivationAgreement(model: transformer)
                .measure(texts: texts, tokenizer: tokenizer, splitLayers: Array(Set([1, L / 2, L - 1])).sorted())
            report.agreement = rows
            report.agreementModel = (model[0] as NSString).lastPathComponent
            report.agreementTexts = texts.count
            print(BenchPlanReport.agreementText(rows, model: report.agreementModel ?? "", texts: texts.count))
        }
        if let jsonOut {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: jsonOut))
        }
    }

    /// The held-out files' texts (unreadable entries are skipped and said).
    static func heldOutTexts(list: String, root: String) throws -> [String] {
        let names = try String(contentsOfFile: list, encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        return names.compactMap { name in
            let path = root.isEmpty ? name : root + "/" + name
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                FileHandle.standardError.write(Data("skipping unreadable held-out file \(path)\n".utf8))
                return nil
            }
            return text
        }
    }
}
