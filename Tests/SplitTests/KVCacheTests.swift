import Testing
@testable import Split

@Suite("KV cache rollback")
struct KVCacheTests {
    /// Greedy tokens continuing `cache` from `position`, starting with `token`.
    func continueGreedy(_ model: TransformerModel, cache: KVCache, from token: Int32, at position: Int, count: Int) throws -> [Int32] {
        let workspace = Workspace()
        var token = token
        var out: [Int32] = []
        for step in 0..<count {
            var hidden = try model.embed([token], startPosition: position + step)
            try model.forward(&hidden, rows: 1, startPosition: position + step, layers: model.layers, cache: cache, workspace: workspace)
            let logits = try model.logits(hidden, rows: 1, workspace: workspace)
            token = Int32(logits.withUnsafeBufferPointer { Sampler.argmax($0) })
            out.append(token)
        }
        return out
    }

    @Test("generating, truncating to n and regenerating gives identical tokens",
          arguments: [ModelConfiguration.Architecture.llama, .gpt2], [0, 3, 9])
    func truncateAndRegenerate(architecture: ModelConfiguration.Architecture, keep: Int) throws {
        let model = try RandomModel.model(architecture)
        let cache = model.makeCache()
        let first = try continueGreedy(model, cache: cache, from: 1, at: 0, count: 16)
        #expect(cache.length == 16)
        cache.truncate(to: keep + 1)
        #expect(cache.length == keep + 1)
        // Re-run from the token that produced position keep+1.
        let again = try continueGreedy(model, cache: cache, from: first[keep], at: keep + 1, count: 15 - keep)
        #expect(again == Array(first[(keep + 1)...]))
    }

    @Test("a layer cannot run a position whose predecessors it has not seen")
    func refusesGaps() throws {
        let model = try RandomModel.model(.llama)
        let cache = model.makeCache()
        var hidden = try model.embed([1], startPosition: 3)
        #expect(throws: ModelError.self) {
            try model.forward(&hidden, rows: 1, startPosition: 3, layers: model.layers, cache: cache, workspace: Workspace())
        }
    }

    @Test("the cache refuses positions past the context length")
    func refusesOverflow() throws {
        let model = try RandomModel.model(.llama)
        let cache = model.makeCache(maxPositions: 4)
        var hidden = try model.embed([1, 2, 3, 4, 5], startPosition: 0)
        #expect(throws: ModelError.self) {
            try model.forward(&hidden, rows: 5, startPosition: 0, layers: model.layers, cache: cache, workspace: Workspace())
        }
    }
}

@Suite("Streaming text")
struct TextStreamTests {
    @Test("a multi-byte character split across tokens is emitted whole")
    func utf8Split() {
        var stream = TextStream()
        let bytes = Array("é€😀".utf8)
        var out = ""
        for byte in bytes { out += stream.append([byte]) }
        out += stream.finish()
        #expect(out == "é€😀")
    }

    @Test("text stops before a stop string, even one split across tokens")
    func stopString() {
        var stream = TextStream(stopStrings: ["\n\n"])
        var out = ""
        for piece in ["def f():", "\n", "    return 1", "\n", "\nclass"] { out += stream.append(Array(piece.utf8)) }
        out += stream.finish()
        #expect(out == "def f():\n    return 1")
        #expect(stream.stopped)
    }
}
