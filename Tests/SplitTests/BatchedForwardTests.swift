import Testing
@testable import Split

/// A batched pass (the cloud's continuous batching) gives every sequence exactly what a pass of
/// that sequence alone gives, whatever else shares the pass.
@Suite("Batched forward pass")
struct BatchedForwardTests {
    /// Sequences with different histories, each then extended by `rows` new positions.
    static let sequences: [(history: Int, rows: Int)] = [(5, 1), (0, 3), (12, 1), (7, 2), (1, 1), (20, 1), (3, 4)]

    static func hidden(rows: Int, width: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(state: seed)
        return (0..<(rows * width)).map { _ in Float(random.next() >> 40) / Float(1 << 24) * 2 - 1 }
    }

    @Test("each sequence's rows and cache after a batched pass are bit-identical to a pass of that sequence alone",
          arguments: [ModelConfiguration.Architecture.llama, .qwen2, .gpt2])
    func batchEqualsAlone(architecture: ModelConfiguration.Architecture) throws {
        let model = try RandomModel.model(architecture)
        let c = model.configuration
        let d = c.hiddenSize
        let layers = 1..<c.layerCount
        let workspace = Workspace()
        // Two caches per sequence, filled alike with its history: one for the batch, one alone.
        var batchCaches: [KVCache] = [], aloneCaches: [KVCache] = []
        for (index, sequence) in Self.sequences.enumerated() {
            let batchCache = model.makeCache(layers: layers), aloneCache = model.makeCache(layers: layers)
            if sequence.history > 0 {
                for cache in [batchCache, aloneCache] {
                    var history = Self.hidden(rows: sequence.history, width: d, seed: UInt64(100 + index))
                    try model.forward(&history, rows: sequence.history, startPosition: 0, layers: layers, cache: cache, workspace: workspace)
                }
            }
            batchCaches.append(batchCache)
            aloneCaches.append(aloneCache)
        }
        var batch: [Float] = []
        var segments: [BatchSegment] = []
        var alone: [[Float]] = []
        for (index, sequence) in Self.sequences.enumerated() {
            var rows = Self.hidden(rows: sequence.rows, width: d, seed: UInt64(200 + index))
            batch += rows
            segments.append(BatchSegment(rows: sequence.rows, startPosition: sequence.history, cache: batchCaches[index]))
            try model.forward(&rows, rows: sequence.rows, startPosition: sequence.history, layers: layers,
                              cache: aloneCaches[index], workspace: workspace)
            alone.append(rows)
        }
        try model.forward(&batch, segments: segments, layers: layers, workspace: workspace)
        var offset = 0
        for (index, sequence) in Self.sequences.enumerated() {
            let rowsEqual = Array(batch[(offset * d)..<((offset + sequence.rows) * d)]) == alone[index]
            #expect(rowsEqual, "sequence \(index): rows differ")
            let end = sequence.history + sequence.rows
            for layer in layers {
                #expect(batchCaches[index].length(layer: layer) == end)
                let width = end * c.kvWidth
                func same(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Bool {
                    Array(UnsafeBufferPointer(start: a, count: width)) == Array(UnsafeBufferPointer(start: b, count: width))
                }
                #expect(same(batchCaches[index].keys(layer: layer), aloneCaches[index].keys(layer: layer)),
                        "sequence \(index), layer \(layer): keys differ")
                #expect(same(batchCaches[index].values(layer: layer), aloneCaches[index].values(layer: layer)),
                        "sequence \(index), layer \(layer): values differ")
            }
            offset += sequence.rows
        }
    }
}
