import ArgumentParser
import Foundation
import Split
import SplitCLI

/// `edge-node train-exits`: trains exit heads (a low-rank adapter per exit layer before the
/// shared final norm and LM head) and split-exit's stop/exit/continue controller on the user's
/// own code, on this machine's CPU, and writes them to a sidecar pinned to the model file.
struct TrainExitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-exits",
        abstract: "Train exit heads and the stop/exit/continue controller for a model on a folder of code.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Folder of source files to learn from (read recursively, hidden entries skipped).")
    var text: String

    @Option(name: .long, help: "Exit layers to train (repeatable; default: a quarter and half the depth).")
    var layers: [Int] = []

    @Option(name: .long, help: "File name endings read from --text, comma-separated.")
    var extensions = "py,swift,c,h,cc,cpp,hpp,rs,go,js,ts,java,kt,rb,sh,md"

    @Option(name: .long, help: "Positions (tokens) of the frozen model's states to learn from.")
    var positions = 4096

    @Option(name: .long, help: "Tokens per window the model runs over.")
    var window = 128

    @Flag(name: .long, help: "Learn from the model's own greedy line completions of prompts cut from --text (what split-spec drafts on) instead of windows of the text.")
    var selfDistill = false

    @Option(name: .long, help: "With --self-distill: tokens generated per prompt at most (a completion also ends at its first newline).")
    var continuation = 32

    @Option(name: .long, help: "Adapter rank.")
    var rank = 32

    @Option(name: .long, help: "Training steps per layer at most.")
    var steps = 800

    @Option(name: .long, help: "Wall-clock budget of the training loop in minutes.")
    var minutes = 10.0

    @Option(name: .long, help: "Positions per step.")
    var batch = 32

    @Option(name: .long, help: "Learning rate (Adam).")
    var learningRate: Float = 2e-3

    @Option(name: .long, help: "Weight α of the full model's distribution against the true token (loss (1−α)·CE + α·KL).")
    var distillation: Float = 0.9

    @Option(name: .long, help: "Tokens of the full model's distribution kept as the teacher (1: its greedy token only).")
    var teacherTopK = 32

    @Option(name: .long, help: "Where to write the heads (default: <model>.exits.gguf, which edge-node serve loads).")
    var out: String?

    @Option(name: .long, help: "Checkpoint to resume from and save to (default: <out>.checkpoint; removed once the heads are written).")
    var checkpoint: String?

    @Option(name: .long, help: "Also write the training report as JSON here.")
    var report: String?

    func validate() throws {
        guard (0...1).contains(distillation) else { throw ValidationError("--distillation must be in [0, 1]") }
        guard teacherTopK > 0 else { throw ValidationError("--teacher-top-k must be positive") }
        guard positions > 1, window > 1, continuation > 0, rank > 0, steps >= 0, minutes > 0, batch > 0, learningRate > 0 else {
            throw ValidationError("--positions and --window must exceed 1, --continuation must be positive; --rank, --batch, --minutes, --learning-rate must be positive")
        }
    }

    func run() throws {
        let file = try modelOptions.open()
        guard let tokenizer = file.tokenizer else { throw ValidationError("the model has no tokenizer") }
        let depth = file.configuration.layerCount
        let chosen = layers.isEmpty ? Array(Set([max(1, depth / 4), max(1, depth / 2)])).sorted() : layers
        let output = out ?? ExitHeads.sidecarPath(forModel: modelOptions.model)
        let checkpointPath = checkpoint ?? output + ".checkpoint"
        let start = DispatchTime.now()
        let texts = try ExitTrainingSet.sourceTexts(in: text, extensions: Set(extensions.split(separator: ",").map(String.init)))
        let model = try file.load()
        let identity = try file.identity()
        let bar = ProgressBar()
        let set = try selfDistill
            ? ExitTrainingSet.collectGreedy(model: model, tokenizer: tokenizer, texts: texts.map(\.text), layers: chosen,
                                            positions: positions, continuation: continuation, topK: teacherTopK) { fraction in
                bar.update(fraction, "completing lines of \(texts.count) files with the model")
            }
            : ExitTrainingSet.collect(model: model, tokenizer: tokenizer, texts: texts.map(\.text), layers: chosen,
                                      positions: positions, windowLength: window, topK: teacherTopK) { fraction in
                bar.update(fraction, "running the model over \(texts.count) files")
            }
        bar.finish()
        let collectSeconds = seconds(since: start)
        var options = ExitHeadTrainer.Options()
        options.rank = rank
        options.maxSteps = steps
        options.maxSeconds = minutes * 60
        options.batchSize = batch
        options.learningRate = learningRate
        options.distillation = distillation
        options.checkpointPath = checkpointPath
        let trainer = try ExitHeadTrainer(model: model, set: set, modelDigest: identity, options: options)
        let (heads, result) = try trainer.train { fraction, status in bar.update(fraction, status) }
        bar.finish()
        try heads.write(to: output, modelDigest: identity)
        try? FileManager.default.removeItem(atPath: checkpointPath)
        let peak = ProcessMemory.peakResidentBytes.map { String(format: "%.0f MiB", Double($0) / 1_048_576) } ?? "?"
        print("\(set.count) positions from \(texts.count) files (\(result.trainingPositions) trained on, \(result.validationPositions) held out); "
              + String(format: "collected in %.1f s, trained %d steps in %.1f s", collectSeconds, result.steps, result.seconds)
              + (result.resumedFromStep > 0 ? " (resumed at step \(result.resumedFromStep))" : "")
              + "; total \(String(format: "%.1f s", seconds(since: start))), peak resident \(peak)")
        print("| exit layer | agreement with the full model, shared head | with trained head | held-out loss before | after |")
        print("|---:|---:|---:|---:|---:|")
        for layer in result.layers {
            print(String(format: "| %d | %.1f%% | %.1f%% | %.3f | %.3f |", layer.layer, layer.agreementBefore * 100,
                         layer.agreementAfter * 100, layer.lossBefore, layer.lossAfter))
        }
        print("wrote \(output) (pinned to \(identity.hex))")
        if let report {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: report))
        }
    }

    private func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
