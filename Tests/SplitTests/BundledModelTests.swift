import Foundation
import Testing
@testable import Split

/// The bundled code models (models/) against PyTorch logits for the same weights and input,
/// recorded by tools/train/make_fixture.py: models/eval/fixture_logits.json for the 256-token
/// model, fixture_logits_1k.json (a 672-token prompt, so positions past 256) for the
/// 1024-token one.
@Suite("The bundled code model")
struct BundledModelTests {
    struct Fixture: Decodable {
        let modelFile: String
        let modelSha256: String
        let prompt: String
        let tokenIds: [Int32]
        let argmaxPerPosition: [Int32]
        let lastLogits: [Float]
        let exitLastLogits: [String: [Float]]
        let greedyContinuation: Continuation
        let fim: FIMCase
        struct Continuation: Decodable {
            let tokenIds: [Int32]
        }
        /// An infill input, the PSM prompt the model was fine-tuned on (tools/train/fim.py) and
        /// PyTorch's greedy middle for it.
        struct FIMCase: Decodable {
            let prefix: String
            let suffix: String
            let promptIds: [Int32]
            let middleIds: [Int32]
        }
    }

    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("models")

    static let fixtures = ["eval/fixture_logits.json", "eval/fixture_logits_1k.json"]

    func fixture(_ name: String) throws -> Fixture {
        let data = try Data(contentsOf: Self.models.appendingPathComponent(name))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Fixture.self, from: data)
    }

    @Test("the shipped model file is the one the fixture was made from", arguments: fixtures)
    func identity(_ name: String) throws {
        let fixture = try fixture(name)
        let path = Self.models.appendingPathComponent(fixture.modelFile).path
        #expect(try SHA256Digest.ofFile(atPath: path).hex == fixture.modelSha256)
    }

    @Test("its tokenizer, final logits, exit-head logits and greedy tokens match PyTorch", arguments: fixtures)
    func logitsMatchPyTorch(_ name: String) throws {
        let fixture = try fixture(name)
        let file = try ModelFile(path: Self.models.appendingPathComponent(fixture.modelFile).path)
        let tokenizer = try #require(file.tokenizer)
        let model = try file.load()
        let generator = try LocalGenerator(model: model, tokenizer: tokenizer)
        #expect(generator.promptTokens(fixture.prompt) == fixture.tokenIds)

        let workspace = Workspace()
        let cache = model.makeCache()
        let d = model.configuration.hiddenSize
        let n = fixture.tokenIds.count
        var hidden = try model.embed(fixture.tokenIds, startPosition: 0)
        var exits: [Int: [Float]] = [:]
        for layer in 0..<model.configuration.layerCount {
            try model.forward(&hidden, rows: n, startPosition: 0, layers: layer..<(layer + 1), cache: cache, workspace: workspace)
            exits[layer + 1] = try model.logits(Array(hidden[((n - 1) * d)...]), rows: 1, workspace: workspace)
        }
        let all = try model.logits(hidden, rows: n, workspace: workspace)
        let vocabulary = model.configuration.vocabularySize
        let argmax = (0..<n).map { row in
            Int32(all[(row * vocabulary)..<((row + 1) * vocabulary)].withUnsafeBufferPointer { Sampler.argmax($0) })
        }
        #expect(argmax == fixture.argmaxPerPosition)
        #expect(maxAbsDifference(Array(all[((n - 1) * vocabulary)...]), fixture.lastLogits) < 2e-3)
        for (layer, expected) in fixture.exitLastLogits {
            let ours = try #require(exits[Int(layer) ?? -1])
            #expect(maxAbsDifference(ours, expected) < 2e-3, "exit after layer \(layer)")
        }
        let continuation = try generator.generate(promptTokens: fixture.tokenIds, request: CompletionRequest(
            prompt: fixture.prompt, maxTokens: fixture.greedyContinuation.tokenIds.count))
        #expect(continuation.tokens == fixture.greedyContinuation.tokenIds)
    }

    @Test("an infill prompt for it is the FIM layout it was fine-tuned on, and it writes PyTorch's middle", arguments: fixtures)
    func infillMatchesTraining(_ name: String) throws {
        let fixture = try fixture(name)
        let file = try ModelFile(path: Self.models.appendingPathComponent(fixture.modelFile).path)
        let tokenizer = try #require(file.tokenizer)
        let builder = try FIMPrompt(tokenizer: tokenizer)
        #expect(builder.tokens.endTokens == [0, 4099])
        let maxTokens = 24
        let prompt = builder.build(InfillInput(prefix: fixture.fim.prefix, suffix: fixture.fim.suffix),
                                   window: .standard(contextTokens: file.configuration.maxPositions), maxNewTokens: maxTokens)
        #expect(!prompt.truncated)
        #expect(prompt.tokens == fixture.fim.promptIds)
        let middle = try LocalGenerator(model: try file.load(), tokenizer: tokenizer).generate(
            promptTokens: prompt.tokens, request: CompletionRequest(prompt: "", maxTokens: maxTokens),
            bounds: GenerationBounds(endTokens: builder.tokens.endTokens))
        #expect(middle.tokens == fixture.fim.middleIds)
    }
}
