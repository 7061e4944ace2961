@testable import Split

/// Builds small random-weight models in memory for tests that need no file.
enum RandomModel {
    static func configuration(_ architecture: ModelConfiguration.Architecture, layers: Int = 4) -> ModelConfiguration {
        ModelConfiguration(
            architecture: architecture, vocabularySize: 97, hiddenSize: 32, intermediateSize: 48,
            layerCount: layers, headCount: 4, kvHeadCount: architecture == .gpt2 ? 4 : 2, headDimension: 8,
            normEpsilon: 1e-5, normKind: architecture == .gpt2 ? .layer : .rms,
            feedForward: architecture == .gpt2 ? .gelu : .gatedSiLU, ropeTheta: 10000,
            ropeLayout: .neox, ropeDimensions: 8, maxPositions: 64,
            attentionBias: architecture == .qwen2, tiedEmbeddings: architecture != .llama)
    }

    /// A store with every tensor the architecture's HF naming asks for, filled by a seeded RNG.
    static func store(for c: ModelConfiguration, seed: UInt64 = 7) -> (MemoryWeightStore, WeightNaming) {
        var rng = SplitMix64(state: seed)
        let store = MemoryWeightStore()
        func random(_ shape: [Int], scale: Float = 0.2) -> [Float] {
            (0..<shape.reduce(1, *)).map { _ in Float.random(in: -scale...scale, using: &rng) }
        }
        func ones(_ n: Int) -> [Float] { (0..<n).map { _ in 1 + Float.random(in: -0.1...0.1, using: &rng) } }
        let naming: WeightNaming = c.architecture == .gpt2
            ? GPT2WeightNaming(family: .gguf)
            : LlamaWeightNaming(family: .huggingFace, hasQKVBias: c.attentionBias)
        let d = c.hiddenSize
        store.set(naming.tokenEmbedding, shape: [c.vocabularySize, d], values: random([c.vocabularySize, d], scale: 1))
        if let name = naming.positionEmbedding {
            store.set(name, shape: [c.maxPositions, d], values: random([c.maxPositions, d], scale: 0.5))
        }
        store.set(naming.finalNorm.weight, shape: [d], values: ones(d))
        if let bias = naming.finalNorm.bias { store.set(bias, shape: [d], values: random([d])) }
        if !c.tiedEmbeddings { store.set(naming.outputHead, shape: [c.vocabularySize, d], values: random([c.vocabularySize, d])) }
        for layer in 0..<c.layerCount {
            let n = naming.block(layer)
            for norm in [n.attentionNorm, n.feedForwardNorm].compactMap({ $0 }) {
                store.set(norm.weight, shape: [d], values: ones(d))
                if let bias = norm.bias { store.set(bias, shape: [d], values: random([d])) }
            }
            if let fused = n.fusedQKV {
                store.set(fused, shape: [3 * d, d], values: random([3 * d, d]))
                if let b = n.fusedQKVBias { store.set(b, shape: [3 * d], values: random([3 * d])) }
            }
            if let q = n.query { store.set(q, shape: [c.queryWidth, d], values: random([c.queryWidth, d])) }
            if let k = n.key { store.set(k, shape: [c.kvWidth, d], values: random([c.kvWidth, d])) }
            if let v = n.value { store.set(v, shape: [c.kvWidth, d], values: random([c.kvWidth, d])) }
            if let b = n.queryBias { store.set(b, shape: [c.queryWidth], values: random([c.queryWidth])) }
            if let b = n.keyBias { store.set(b, shape: [c.kvWidth], values: random([c.kvWidth])) }
            if let b = n.valueBias { store.set(b, shape: [c.kvWidth], values: random([c.kvWidth])) }
            store.set(n.output, shape: [d, c.queryWidth], values: random([d, c.queryWidth]))
            if let b = n.outputBias { store.set(b, shape: [d], values: random([d])) }
            if let g = n.gate { store.set(g, shape: [c.intermediateSize, d], values: random([c.intermediateSize, d])) }
            store.set(n.up, shape: [c.intermediateSize, d], values: random([c.intermediateSize, d]))
            if let b = n.upBias { store.set(b, shape: [c.intermediateSize], values: random([c.intermediateSize])) }
            store.set(n.down, shape: [d, c.intermediateSize], values: random([d, c.intermediateSize]))
            if let b = n.downBias { store.set(b, shape: [d], values: random([d])) }
        }
        return (store, naming)
    }

    static func model(_ architecture: ModelConfiguration.Architecture, layers: Int = 4, parts: TransformerModel.Parts = .all) throws -> TransformerModel {
        let c = configuration(architecture, layers: layers)
        let (store, naming) = store(for: c)
        return try TransformerModel(configuration: c, store: store, naming: naming, parts: parts)
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
