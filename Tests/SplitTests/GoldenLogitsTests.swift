import Foundation
import Testing
@testable import Split

@Suite("Logits agree with HF transformers")
struct GoldenLogitsTests {
    static let models = ["llama", "llama-tied", "qwen2", "gpt2"] + issue18Models
    /// RoPE scaling and the architectures of issue 18 (tools/fixtures/make_model_fixtures.py).
    static let issue18Models = ["llama-rope-llama3", "llama-rope-linear", "llama-rope-yarn", "mistral", "qwen3",
                                "gemma2", "gemma3", "phi3", "starcoder2", "olmo2"]

    /// Every position's logits for the golden prompt.
    func allLogits(_ model: TransformerModel, _ tokens: [Int32]) throws -> [Float] {
        var hidden = try model.embed(tokens, startPosition: 0)
        let workspace = Workspace()
        try model.forward(&hidden, rows: tokens.count, startPosition: 0, layers: model.layers,
                          cache: model.makeCache(), workspace: workspace)
        return try model.logits(hidden, rows: tokens.count, workspace: workspace)
    }

    func ggufModel(_ name: String) throws -> TransformerModel {
        try ModelFile(path: Fixtures.path("models/\(name)/model.gguf")).load()
    }

    func safetensorsModel(_ name: String) throws -> TransformerModel {
        try ModelFile(path: Fixtures.path("models/\(name)")).load()
    }

    @Test("a GGUF model's logits match the reference within 1e-3", arguments: models)
    func gguf(name: String) throws {
        let golden = try Fixtures.golden(name)
        let logits = try allLogits(try ggufModel(name), golden.promptIds)
        #expect(maxAbsDifference(logits, golden.logits.flatMap { $0 }) <= golden.toleranceMaxAbs)
    }

    @Test("a safetensors model's logits match the reference within 1e-3", arguments: models)
    func safetensors(name: String) throws {
        let golden = try Fixtures.golden(name)
        let logits = try allLogits(try safetensorsModel(name), golden.promptIds)
        #expect(maxAbsDifference(logits, golden.logits.flatMap { $0 }) <= golden.toleranceMaxAbs)
    }

    @Test("the same model from safetensors and from GGUF gives the same logits", arguments: models)
    func formatsAgree(name: String) throws {
        let golden = try Fixtures.golden(name)
        let a = try allLogits(try ggufModel(name), golden.promptIds)
        let b = try allLogits(try safetensorsModel(name), golden.promptIds)
        #expect(maxAbsDifference(a, b) <= 1e-4)
    }

    @Test("greedy decoding reproduces the reference continuation", arguments: models)
    func greedyContinuation(name: String) throws {
        let golden = try Fixtures.golden(name)
        let model = try ggufModel(name)
        let cache = model.makeCache()
        let workspace = Workspace()
        var hidden = try model.embed(golden.promptIds, startPosition: 0)
        try model.forward(&hidden, rows: golden.promptIds.count, startPosition: 0, layers: model.layers, cache: cache, workspace: workspace)
        let d = model.configuration.hiddenSize
        var logits = try model.logits(Array(hidden[((golden.promptIds.count - 1) * d)...]), rows: 1, workspace: workspace)
        var tokens: [Int32] = []
        for step in 0..<golden.greedyContinuation.count {
            let token = Int32(logits.withUnsafeBufferPointer { Sampler.argmax($0) })
            tokens.append(token)
            var row = try model.embed([token], startPosition: golden.promptIds.count + step)
            try model.forward(&row, rows: 1, startPosition: golden.promptIds.count + step, layers: model.layers, cache: cache, workspace: workspace)
            logits = try model.logits(row, rows: 1, workspace: workspace)
        }
        #expect(tokens == golden.greedyContinuation)
    }
}
