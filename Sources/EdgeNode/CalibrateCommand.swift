import ArgumentParser
import Foundation
import Split
import SplitCLI

/// `edge-node calibrate`: sweeps split-exit's τ and split-spec's γ on held-out files and writes
/// the chosen defaults next to the model (`<model>.exit.json`).
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate", abstract: "Choose split-exit's τ and split-spec's γ for a model on held-out files.")

    @OptionGroup var modelOptions: ModelOptions

    @OptionGroup var heldOutOptions: HeldOutOptions

    @Option(name: .long, help: "Line-completion prompts to measure on.")
    var prompts = 40

    @Option(name: .long, help: "Split layer (default: half the depth).")
    var splitLayer: Int?

    @Option(name: .long, help: "How τ is chosen: line-match (most tokens on the edge keeping line exact match and edit similarity within the tolerances of the full model's) or agreement (smallest τ keeping --agreement-target token agreement).")
    var criterion: Criterion = .lineMatch

    @Option(name: .long, help: "line-match: how far below the full model's line exact match split-exit may fall (0.015 = 1.5 points).")
    var exactMatchTolerance = 0.015

    @Option(name: .long, help: "line-match: how far below the full model's line edit similarity split-exit may fall.")
    var editSimilarityTolerance = 0.015

    @Option(name: .long, help: "agreement: smallest token agreement with the full model split-exit must keep.")
    var agreementTarget = 0.9

    @Flag(name: .long, help: "Plain thresholds for split-exit even when the model has a trained controller.")
    var noController = false

    @Option(name: .long, help: "Exit heads from `edge-node train-exits` to calibrate with (default: <model>.exits.gguf when there is one).")
    var exits: String?

    @Flag(name: .long, help: "Calibrate the shared head even when the model has trained exit heads.")
    var noExits = false

    @Option(name: .long, help: "Thresholds τ to try (repeatable).")
    var tau: [Float] = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

    @Option(name: .long, help: "Draft lengths γ to try (repeatable).")
    var gamma: [Int] = [2, 3, 4, 6, 8]

    @Option(name: .long, help: "Round-trip time in ms that γ is chosen for.")
    var rttMs: Double = 40

    @Option(name: .long, help: "Where to write (default: next to the model, <model>.exit.json).")
    var out: String?

    func validate() throws {
        guard agreementTarget > 0, agreementTarget <= 1 else { throw ValidationError("--agreement-target must be in (0, 1]") }
        guard exactMatchTolerance >= 0, editSimilarityTolerance >= 0 else { throw ValidationError("tolerances must be at least 0") }
        guard tau.allSatisfy({ $0 > 0 && $0 <= 1 }), !tau.isEmpty else { throw ValidationError("every --tau must be in (0, 1]") }
        guard gamma.allSatisfy({ (1...Strategy.maxDraftLength).contains($0) }), !gamma.isEmpty else {
            throw ValidationError("every --gamma must be 1…\(Strategy.maxDraftLength)")
        }
    }

    func run() throws {
        let file = try modelOptions.open()
        guard let tokenizer = file.tokenizer else { throw ValidationError("the model has no tokenizer") }
        let k = splitLayer ?? file.configuration.layerCount / 2
        guard (1..<file.configuration.layerCount).contains(k) else { throw ValidationError("--split-layer must be 1…\(file.configuration.layerCount - 1)") }
        let set = try heldOutOptions.cases(prompts, tokenizer: tokenizer, defaultPart: .calibration)
        let sidecar = ExitHeads.sidecarPath(forModel: modelOptions.model)
        let headsPath = noExits ? nil : exits ?? (FileManager.default.fileExists(atPath: sidecar) ? sidecar : nil)
        if let headsPath { print("with the trained exit heads \(headsPath)") }
        let rule: ExitCalibration.Criterion = switch criterion {
        case .agreement: .agreement(target: agreementTarget)
        case .lineMatch: .lineMatch(exactMatchTolerance: exactMatchTolerance, editSimilarityTolerance: editSimilarityTolerance)
        }
        let calibration = try ExitCalibration.run(modelPath: modelOptions.model, cases: set.cases, splitLayer: k, thresholds: tau,
                                                  draftLengths: gamma, criterion: rule, roundTripMilliseconds: rttMs,
                                                  useController: !noController, exitHeadsPath: headsPath)
        print("\(set.cases.count) cases; full model: line EM \(String(format: "%.1f%%", (calibration.fullLineExactMatch ?? 0) * 100)), "
              + "edit sim \(String(format: "%.1f%%", (calibration.fullLineEditSimilarity ?? 0) * 100))")
        print("| τ | token agreement | completions identical | edge-answered | round trips/token | line EM | edit sim |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for c in calibration.thresholds {
            print(String(format: "| %.2f | %.1f%% | %.1f%% | %.1f%% | %.2f | %.1f%% | %.1f%% |", c.value, c.tokenAgreement * 100,
                         c.agreement * 100, c.edgeAnsweredFraction * 100, c.roundTripsPerToken, (c.lineExactMatch ?? 0) * 100,
                         (c.lineEditSimilarity ?? 0) * 100))
        }
        print("| γ | accepted drafts | round trips/token | est. ms/completion at \(Int(rttMs)) ms |")
        print("|---:|---:|---:|---:|")
        for c in calibration.draftLengths {
            print(String(format: "| %.0f | %.1f%% | %.2f | %.0f |", c.value, c.acceptanceRate * 100, c.roundTripsPerToken,
                         c.estimatedCompletionSeconds * 1e3))
        }
        let path = out ?? ExitCalibration.path(forModel: modelOptions.model)
        try calibration.write(to: path)
        let chosen = calibration.thresholds.first { Float($0.value) == calibration.threshold }
        let why: String
        switch rule {
        case .agreement(let target):
            why = (chosen?.tokenAgreement ?? 0) >= target ? "token agreement ≥ \(target)" : "no τ reached token agreement \(target): the highest tried"
        case .lineMatch:
            why = "most edge-answered tokens with line EM within \(exactMatchTolerance) and edit similarity within \(editSimilarityTolerance) of the full model's"
        }
        print("k=\(k): τ=\(calibration.threshold) (\(why)), γ=\(calibration.draftLength); wrote \(path)")
    }
}

extension CalibrateCommand {
    /// How τ is chosen.
    enum Criterion: String, ExpressibleByArgument {
        case lineMatch = "line-match"
        case agreement
    }
}
