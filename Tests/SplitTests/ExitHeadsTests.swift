import Foundation
import Testing
@testable import Split

/// Exit heads trained on the edge (`edge-node train-exits`): the sidecar, its pinning to the
/// model file, and split-exit and split-spec running through them on the bundled model.
@Suite("Trained exit heads", .serialized)
struct ExitHeadsTests {
    /// Two stdlib files of the training split (never the held-out ones the prompts come from).
    static func trainingTexts() throws -> [String] {
        let list = BundledModelTests.models.deletingLastPathComponent().appendingPathComponent("tools/train/splits/train.txt").path
        let root = try LineCompletionSet.standardLibraryPath()
        let names = try String(contentsOfFile: list, encoding: .utf8).split(separator: "\n").prefix(2)
        return try names.map { try String(contentsOfFile: root + "/" + $0, encoding: .utf8) }
    }

    /// Heads whose adapters are random and large: they change what the exits predict.
    static func disruptiveHeads(layers: [Int], hiddenSize d: Int, rank: Int = 4, seed: UInt64 = 3) -> ExitHeads {
        var random = SplitMix64(state: seed)
        func values(_ n: Int, scale: Float) -> [Float] {
            (0..<n).map { _ in (Float(random.next() >> 40) / Float(1 << 24) - 0.5) * scale }
        }
        let adapters = Dictionary(uniqueKeysWithValues: layers.map {
            ($0, ExitHeads.Adapter(down: values(rank * d, scale: 1), up: values(d * rank, scale: 4)))
        })
        return ExitHeads(hiddenSize: d, rank: rank, adapters: adapters)
    }

    @Test("train-exits lowers the held-out loss, and its heads and controller round-trip through the sidecar; training resumes from its checkpoint")
    func trainsAndRoundTrips() throws {
        let file = try ModelFile(path: LoopbackSplit.modelPath)
        let model = try file.load()
        let tokenizer = try #require(file.tokenizer)
        let set = try ExitTrainingSet.collect(model: model, tokenizer: tokenizer, texts: try Self.trainingTexts(), layers: [4, 2],
                                              positions: 320, windowLength: 64)
        #expect(set.count == 320 && set.layers == [2, 4])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var options = ExitHeadTrainer.Options()
        options.rank = 8
        options.maxSteps = 6
        options.checkpointPath = directory.file("train.checkpoint")
        let identity = try file.identity()
        _ = try ExitHeadTrainer(model: model, set: set, modelDigest: identity, options: options).train()
        options.maxSteps = 40
        let (heads, report) = try ExitHeadTrainer(model: model, set: set, modelDigest: identity, options: options).train()
        #expect(report.resumedFromStep == 6 && report.steps == 40)
        for layer in report.layers {
            #expect(layer.lossAfter < layer.lossBefore, "layer \(layer.layer): \(layer.lossBefore) → \(layer.lossAfter)")
        }
        #expect(heads.adapters.keys.sorted() == [2, 4])
        #expect(heads.controller?.heads.keys.sorted() == [2, 4])
        let path = directory.file("m.exits.gguf")
        try heads.write(to: path, modelDigest: identity)
        #expect(try ExitHeads.load(for: file, path: path) == heads)
    }

    @Test("--self-distill learns from the full model's own greedy line completions: each position's state, teacher and token are those of a fresh run over the prompt and the tokens before it")
    func selfDistillationFollowsGreedyCompletions() throws {
        let file = try ModelFile(path: LoopbackSplit.modelPath)
        let model = try file.load()
        let tokenizer = try #require(file.tokenizer)
        let texts = try Self.trainingTexts()
        // 200 positions ask for 25 prompts; completions of at most 6 tokens cannot fill them.
        let set = try ExitTrainingSet.collectGreedy(model: model, tokenizer: tokenizer, texts: texts, layers: [2, 4], positions: 200,
                                                    continuation: 6)
        let prompts = ExitTrainingSet.linePrompts(texts, tokenizer: tokenizer, maxTokens: 160, wanted: 25)
        #expect((2...26).contains(prompts.count) && set.layers == [2, 4], "\(prompts.count) prompts")
        #expect(set.count >= prompts.count && set.count <= 6 * prompts.count, "\(set.count) positions from \(prompts.count) prompts")
        let prompt = try #require(prompts.first)
        let c = model.configuration, d = c.hiddenSize
        var sequence = prompt
        for position in 0..<3 {
            // A fresh run over the prompt and the greedy tokens so far, no cache reused.
            let cache = model.makeCache(maxPositions: sequence.count)
            let workspace = Workspace()
            var hidden = try model.embed(sequence, startPosition: 0)
            for layer in 0..<c.layerCount {
                try model.forward(&hidden, rows: sequence.count, startPosition: 0, layers: layer..<(layer + 1), cache: cache,
                                  workspace: workspace)
                if let states = set.states[layer + 1] {
                    let want = Array(hidden[((sequence.count - 1) * d)...]), got = Array(states[(position * d)..<((position + 1) * d)])
                    #expect(zip(want, got).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) }, "layer \(layer + 1), position \(position)")
                }
            }
            let logits = try model.logits(Array(hidden[((sequence.count - 1) * d)...]), rows: 1, workspace: workspace)
            let greedy = logits.withUnsafeBufferPointer { Int32(Sampler.argmax($0)) }
            #expect(set.nextTokens[position] == greedy && set.teacherToken(position) == greedy)
            sequence.append(greedy)
            if tokenizer.tokenBytes(greedy).contains(UInt8(ascii: "\n")) { break }  // the next position is another prompt's
        }
    }

    @Test("--self-distill refuses a continuation that leaves no prompt token in the model's context, naming the context and the allowed range",
          arguments: [-1, 0, 40])
    func continuationMustLeaveRoomForAPrompt(pastContext: Int) throws {
        let file = try ModelFile(path: LoopbackSplit.modelPath)
        let model = try file.load()
        let tokenizer = try #require(file.tokenizer)
        let texts = try Self.trainingTexts(), context = model.configuration.maxPositions
        let continuation = context + pastContext
        do {
            _ = try ExitTrainingSet.collectGreedy(model: model, tokenizer: tokenizer, texts: texts, layers: [2], positions: 4,
                                                  continuation: continuation)
            Issue.record("--continuation \(continuation) was accepted for a context of \(context)")
        } catch let error as ExitTrainingError {
            guard case .invalidOption(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("1…\(context - 2)") && message.contains("\(context) positions") && message.contains("got \(continuation)"),
                    "\(message)")
        }
        // The longest continuation allowed still runs, from one-token prompts.
        let longest = try ExitTrainingSet.collectGreedy(model: model, tokenizer: tokenizer, texts: texts, layers: [2], positions: 4,
                                                        continuation: context - 2)
        #expect(longest.count >= 1)
        #expect(ExitTrainingSet.linePrompts(texts, tokenizer: tokenizer, maxTokens: 0, wanted: 4).isEmpty)
        #expect(ExitTrainingSet.linePrompts(texts, tokenizer: tokenizer, maxTokens: 1, wanted: 4).allSatisfy { $0.count == 1 })
    }

    @Test("a sidecar trained for another model file is refused, naming both SHA-256s")
    func otherModelRefused() throws {
        let file = try ModelFile(path: LoopbackSplit.modelPath)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("other.exits.gguf")
        let other = try SHA256Digest.of(Array("another model".utf8))
        try Self.disruptiveHeads(layers: [4], hiddenSize: file.configuration.hiddenSize).write(to: path, modelDigest: other)
        let modelDigest = try file.identity().hex
        do {
            _ = try ExitHeads.load(for: file, path: path)
            Issue.record("a sidecar for another model was accepted")
        } catch let error as ExitHeadsError {
            #expect(error == .trainedForAnotherModel(sidecar: path, trainedFor: other.hex, model: file.path, modelDigest: modelDigest))
            #expect(error.description.contains(other.hex) && error.description.contains(modelDigest))
        }
        #expect(ExitHeads.sidecarPath(forModel: "models/m.gguf") == "models/m.exits.gguf")
    }

    @Test("greedy split-spec drafting with trained heads gives the full model's tokens on held-out prompts", arguments: [2, 4])
    func speculativeStaysExact(splitLayer k: Int) throws {
        let split = try LoopbackSplit()
        defer { split.stop() }
        let local = try LocalGenerator(model: split.model, tokenizer: split.tokenizer)
        let generator = try split.generator(splitLayer: k)
        generator.exitHeads = Self.disruptiveHeads(layers: [k], hiddenSize: split.model.configuration.hiddenSize)
        var drafted = 0
        for prompt in try split.heldOutPrompts(4) {
            let request = CompletionRequest(prompt: prompt, maxTokens: 24)
            let report = try generator.generate(request, decoding: .speculative(draftLength: 4, adaptive: false))
            #expect(report.result.tokens == (try local.generate(request)).tokens)
            drafted += report.counts.drafted
        }
        #expect(drafted > 0)
    }

    @Test("split-exit and split-spec draft through the adapter: changing it changes their exits; an all-zero adapter changes nothing")
    func exitsFollowTheAdapter() throws {
        let split = try LoopbackSplit()
        defer { split.stop() }
        let k = 4, d = split.model.configuration.hiddenSize
        let generator = try split.generator(splitLayer: k)
        let policy = ExitPolicy(threshold: 0.3, minLayer: k)
        let prompts = try split.heldOutPrompts(4)
        func run(_ heads: ExitHeads?) throws -> (tokens: [[Int32]], edge: Int, accepted: Int) {
            generator.exitHeads = heads
            var tokens: [[Int32]] = [], edge = 0, accepted = 0
            for prompt in prompts {
                let request = CompletionRequest(prompt: prompt, maxTokens: 24)
                let exit = try generator.generate(request, decoding: .earlyExit(policy))
                tokens.append(exit.result.tokens)
                edge += exit.counts.edgeAnswered
                accepted += try generator.generate(request, decoding: .speculative(draftLength: 4, adaptive: false)).counts.acceptedDrafts
            }
            return (tokens, edge, accepted)
        }
        let shared = try run(nil)
        var zero = Self.disruptiveHeads(layers: [k], hiddenSize: d)
        zero.adapters[k]!.up = [Float](repeating: 0, count: d * zero.rank)
        let unchanged = try run(zero)
        #expect(unchanged.tokens == shared.tokens && unchanged.edge == shared.edge && unchanged.accepted == shared.accepted)
        let disrupted = try run(Self.disruptiveHeads(layers: [k], hiddenSize: d))
        #expect(disrupted.tokens != shared.tokens || disrupted.edge != shared.edge)
        #expect(disrupted.accepted < shared.accepted, "random adapters draft worse than the trained shared head")
    }

    @Test("on the model trained without the exit loss, its committed trained heads load from beside it, draft more accepted tokens at layers 4 and 6, and split-spec stays the full model's")
    func committedHeadsOnTheNoExitModel() throws {
        let path = BundledModelTests.models.appendingPathComponent("split-code-7m-noexit.gguf").path
        let split = try LoopbackSplit(modelPath: path)
        defer { split.stop() }
        let heads = try #require(try ExitHeads.load(for: split.file))
        #expect(heads.adapters.keys.sorted() == [4, 6])
        let local = try LocalGenerator(model: split.model, tokenizer: split.tokenizer)
        // Self-distilled heads (`train-exits --self-distill`) draft more accepted tokens at both
        // layers (BENCHMARKS.md: 24 → 58% at k = 4, 43 → 64% at k = 6, γ = 4, 60 test prompts).
        var accepted: [Int: [Bool: Int]] = [:]
        for k in [4, 6] {
            let generator = try split.generator(splitLayer: k)
            for prompt in try split.heldOutPrompts(6) {
                let request = CompletionRequest(prompt: prompt, maxTokens: 24)
                let want = try local.generate(request).tokens
                for trained in [false, true] {
                    generator.exitHeads = trained ? heads : nil
                    let report = try generator.generate(request, decoding: .speculative(draftLength: 4, adaptive: false))
                    #expect(report.result.tokens == want, "k = \(k), trained heads: \(trained)")
                    accepted[k, default: [:]][trained, default: 0] += report.counts.acceptedDrafts
                }
            }
        }
        for (k, counts) in accepted {
            #expect(counts[true]! > counts[false]!, "accepted drafts at k = \(k): shared head \(counts[false]!), trained \(counts[true]!)")
        }
    }
}
