import Testing
@testable import Split

/// The newer architectures keep the runtime's invariants: a model split at any layer gives the
/// logits of the whole model, decoding one position at a time gives the bits of one pass, and
/// a batched pass gives each sequence the bits of a pass of that sequence alone. Run on the
/// golden fixtures, so sliding windows, soft-caps, post-norms and q/k norms are all exercised.
@Suite("Newer architectures split, decode and batch like the others")
struct ArchitectureSplitTests {
    static let models = GoldenLogitsTests.issue18Models

    func file(_ name: String) throws -> ModelFile { try ModelFile(path: Fixtures.path("models/\(name)/model.gguf")) }

    func prompt(_ name: String) throws -> [Int32] { try Fixtures.golden(name).promptIds }

    func logits(_ model: TransformerModel, _ tokens: [Int32]) throws -> [Float] {
        var hidden = try model.embed(tokens, startPosition: 0)
        let workspace = Workspace()
        try model.forward(&hidden, rows: tokens.count, startPosition: 0, layers: model.layers, cache: model.makeCache(), workspace: workspace)
        return try model.logits(hidden, rows: tokens.count, workspace: workspace)
    }

    @Test("layers [0,k) on one part and [k,L) on another give the whole model's logits, for every k", arguments: models)
    func splitEqualsWhole(name: String) throws {
        let file = try file(name)
        let tokens = try prompt(name)
        let expected = try logits(try file.load(), tokens)
        let layerCount = file.configuration.layerCount
        for k in 0...layerCount {
            let edge = try file.load(.init(layers: 0..<k, embedding: true, head: false))
            let cloud = try file.load(.init(layers: k..<layerCount, embedding: false, head: true))
            var hidden = try edge.embed(tokens, startPosition: 0)
            try edge.forward(&hidden, rows: tokens.count, startPosition: 0, layers: edge.layers, cache: edge.makeCache(), workspace: Workspace())
            let workspace = Workspace()
            try cloud.forward(&hidden, rows: tokens.count, startPosition: 0, layers: cloud.layers, cache: cloud.makeCache(), workspace: workspace)
            let split = try cloud.logits(hidden, rows: tokens.count, workspace: workspace)
            #expect(split.map(\.bitPattern) == expected.map(\.bitPattern), "split at \(k)")
        }
    }

    @Test("decoding one position at a time gives the bits of one pass over the prompt", arguments: models)
    func incrementalEqualsBatch(name: String) throws {
        let model = try file(name).load()
        let tokens = try prompt(name)
        let batch = try logits(model, tokens)
        let cache = model.makeCache()
        let workspace = Workspace()
        var incremental: [Float] = []
        for (position, token) in tokens.enumerated() {
            var hidden = try model.embed([token], startPosition: position)
            try model.forward(&hidden, rows: 1, startPosition: position, layers: model.layers, cache: cache, workspace: workspace)
            incremental += try model.logits(hidden, rows: 1, workspace: workspace)
        }
        #expect(incremental.map(\.bitPattern) == batch.map(\.bitPattern))
    }

    @Test("a batched pass over sequences of different lengths gives each the bits of its own pass", arguments: models)
    func batchEqualsAlone(name: String) throws {
        let model = try file(name).load()
        let tokens = try prompt(name)
        let d = model.configuration.hiddenSize
        let workspace = Workspace()
        // Three sequences: the prompt's first 9, 3 and 12 tokens as history, then 1, 3 and 0+2 new rows.
        let shapes: [(history: Int, rows: Int)] = [(9, 1), (3, 3), (0, 2)]
        var batch: [Float] = [], alone: [[Float]] = [], segments: [BatchSegment] = []
        for (history, rows) in shapes {
            let batchCache = model.makeCache(), aloneCache = model.makeCache()
            for cache in [batchCache, aloneCache] where history > 0 {
                var h = try model.embed(Array(tokens[0..<history]), startPosition: 0)
                try model.forward(&h, rows: history, startPosition: 0, layers: model.layers, cache: cache, workspace: workspace)
            }
            var new = try model.embed(Array(tokens[history..<(history + rows)]), startPosition: history)
            batch += new
            segments.append(BatchSegment(rows: rows, startPosition: history, cache: batchCache))
            try model.forward(&new, rows: rows, startPosition: history, layers: model.layers, cache: aloneCache, workspace: workspace)
            alone.append(new)
        }
        try model.forward(&batch, segments: segments, layers: model.layers, workspace: workspace)
        var offset = 0
        for (index, shape) in shapes.enumerated() {
            let rows = Array(batch[(offset * d)..<((offset + shape.rows) * d)])
            #expect(rows.map(\.bitPattern) == alone[index].map(\.bitPattern), "sequence \(index)")
            offset += shape.rows
        }
    }
}
