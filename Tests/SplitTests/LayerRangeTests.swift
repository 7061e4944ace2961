import Testing
@testable import Split

@Suite("Running any layer range")
struct LayerRangeTests {
    static let tokens: [Int32] = [3, 17, 42, 8, 91, 5, 60]

    func fullLogits(_ model: TransformerModel) throws -> [Float] {
        var hidden = try model.embed(Self.tokens, startPosition: 0)
        let cache = model.makeCache()
        let workspace = Workspace()
        try model.forward(&hidden, rows: Self.tokens.count, startPosition: 0, layers: model.layers, cache: cache, workspace: workspace)
        return try model.logits(hidden, rows: Self.tokens.count, workspace: workspace)
    }

    @Test("layers [0,k) then [k,L) in separate parts give the logits of [0,L)",
          arguments: [ModelConfiguration.Architecture.llama, .qwen2, .gpt2], 0...4)
    func splitEqualsWhole(architecture: ModelConfiguration.Architecture, k: Int) throws {
        let whole = try RandomModel.model(architecture)
        let edge = try RandomModel.model(architecture, parts: .init(layers: 0..<k, embedding: true, head: false))
        let cloud = try RandomModel.model(architecture, parts: .init(layers: k..<4, embedding: false, head: true))
        let expected = try fullLogits(whole)

        var hidden = try edge.embed(Self.tokens, startPosition: 0)
        try edge.forward(&hidden, rows: Self.tokens.count, startPosition: 0, layers: edge.layers,
                         cache: edge.makeCache(), workspace: Workspace())
        let workspace = Workspace()
        try cloud.forward(&hidden, rows: Self.tokens.count, startPosition: 0, layers: cloud.layers,
                          cache: cloud.makeCache(), workspace: workspace)
        let split = try cloud.logits(hidden, rows: Self.tokens.count, workspace: workspace)
        #expect(maxAbsDifference(split, expected) == 0)
    }

    @Test("decoding one position at a time gives the logits of one batched pass, bit for bit",
          arguments: [ModelConfiguration.Architecture.llama, .qwen2, .gpt2])
    func incrementalEqualsBatch(architecture: ModelConfiguration.Architecture) throws {
        let model = try RandomModel.model(architecture)
        let batch = try fullLogits(model)
        let cache = model.makeCache()
        let workspace = Workspace()
        var incremental: [Float] = []
        for (position, token) in Self.tokens.enumerated() {
            var hidden = try model.embed([token], startPosition: position)
            try model.forward(&hidden, rows: 1, startPosition: position, layers: model.layers, cache: cache, workspace: workspace)
            incremental += try model.logits(hidden, rows: 1, workspace: workspace)
        }
        #expect(maxAbsDifference(incremental, batch) < 1e-4)
        // Every kernel computes a position alone (matrix rows, norms, RoPE, each attention row).
        #expect(incremental.map(\.bitPattern) == batch.map(\.bitPattern))
    }

    @Test("a part refuses layers it does not hold")
    func refusesForeignLayers() throws {
        let edge = try RandomModel.model(.llama, parts: .init(layers: 0..<2, embedding: true, head: false))
        var hidden = try edge.embed([1], startPosition: 0)
        #expect(throws: ModelError.self) {
            try edge.forward(&hidden, rows: 1, startPosition: 0, layers: 1..<3, cache: edge.makeCache(), workspace: Workspace())
        }
        #expect(throws: ModelError.self) { _ = try edge.logits(hidden, rows: 1, workspace: Workspace()) }
    }

    @Test("a token outside the vocabulary is an error, not a crash")
    func rejectsBadToken() throws {
        let model = try RandomModel.model(.llama)
        #expect(throws: ModelError.self) { _ = try model.embed([97], startPosition: 0) }
        #expect(throws: ModelError.self) { _ = try model.embed([-1], startPosition: 0) }
        #expect(throws: ModelError.self) { _ = try model.embed([1], startPosition: 64) }
    }
}
