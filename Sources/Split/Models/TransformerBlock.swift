import COpenBLAS

/// A norm layer's parameters, always held as f32 (they are tiny).
public struct NormWeights: @unchecked Sendable {
    // Safe to send: immutable after load.
    public let weight: FloatBuffer
    public let bias: FloatBuffer?
    public let epsilon: Float
    public let kind: ModelConfiguration.NormKind

    /// Normalises `rows` rows of width `weight.count` in place.
    func apply(_ x: UnsafeMutablePointer<Float>, rows: Int) {
        switch kind {
        case .rms:
            Norms.rmsNorm(x, rows: rows, width: weight.count, weight: weight.pointer, epsilon: epsilon)
        case .layer:
            Norms.layerNorm(x, rows: rows, width: weight.count, weight: weight.pointer,
                            bias: bias.map { UnsafePointer($0.pointer) }, epsilon: epsilon)
        }
    }
}

/// One pre-norm transformer layer: attention then feed-forward, each with a residual.
///
/// Covers the Llama family (RMSNorm, RoPE, GQA, SwiGLU, optional QKV bias as in Qwen2) and
/// GPT-2 (LayerNorm with bias, learned positions, GELU MLP, biases everywhere).
public final class TransformerBlock: @unchecked Sendable {
    // Safe to send: every weight is immutable after load.
    public struct Weights {
        public var attentionNorm: NormWeights
        public var query: WeightMatrix
        public var key: WeightMatrix
        public var value: WeightMatrix
        public var queryBias: FloatBuffer?
        public var keyBias: FloatBuffer?
        public var valueBias: FloatBuffer?
        public var output: WeightMatrix
        public var outputBias: FloatBuffer?
        public var feedForwardNorm: NormWeights
        public var gate: WeightMatrix?
        public var up: WeightMatrix
        public var upBias: FloatBuffer?
        public var down: WeightMatrix
        public var downBias: FloatBuffer?
    }

    public let index: Int
    let weights: Weights
    let configuration: ModelConfiguration
    let rotary: RotaryEmbedding?

    init(index: Int, weights: Weights, configuration: ModelConfiguration) {
        self.index = index
        self.weights = weights
        self.configuration = configuration
        rotary = configuration.usesLearnedPositions ? nil : RotaryEmbedding(
            layout: configuration.ropeLayout, dimensions: configuration.ropeDimensions,
            headDimension: configuration.headDimension, theta: configuration.ropeTheta)
    }

    /// Bytes of weights this layer reads per token.
    public var weightByteCount: Int {
        var total = weights.query.byteCount + weights.key.byteCount + weights.value.byteCount
        total += weights.output.byteCount + weights.up.byteCount + weights.down.byteCount
        total += weights.gate?.byteCount ?? 0
        return total
    }

    /// Runs the layer over `rows` consecutive positions starting at `start`, updating `x`
    /// (`[rows × hiddenSize]`) in place and writing the positions' keys and values to `cache`.
    /// - Throws: when the cache does not hold every earlier position of this layer.
    func forward(
        _ x: UnsafeMutablePointer<Float>, rows: Int, start: Int, cache: KVCache, workspace: Workspace
    ) throws {
        let c = configuration
        let d = c.hiddenSize
        let held = cache.length(layer: index)
        guard start <= held else {
            throw ModelError.invalidConfiguration(
                "layer \(index) holds \(held) positions; cannot run position \(start) without the ones before it")
        }
        try cache.reserve(upTo: start + rows)

        let normed = workspace.buffer(.normed, count: rows * d)
        normed.update(from: x, count: rows * d)
        weights.attentionNorm.apply(normed, rows: rows)

        let query = workspace.buffer(.query, count: rows * c.queryWidth)
        let keyRows = cache.keys(layer: index) + start * c.kvWidth
        let valueRows = cache.values(layer: index) + start * c.kvWidth
        weights.query.multiply(normed, count: rows, into: query)
        weights.key.multiply(normed, count: rows, into: keyRows)
        weights.value.multiply(normed, count: rows, into: valueRows)
        if let bias = weights.queryBias { Activations.addBias(query, rows: rows, bias: bias.pointer, width: c.queryWidth) }
        if let bias = weights.keyBias { Activations.addBias(keyRows, rows: rows, bias: bias.pointer, width: c.kvWidth) }
        if let bias = weights.valueBias { Activations.addBias(valueRows, rows: rows, bias: bias.pointer, width: c.kvWidth) }
        if let rotary {
            for row in 0..<rows {
                rotary.apply(query + row * c.queryWidth, headCount: c.headCount, position: start + row)
                rotary.apply(keyRows + row * c.kvWidth, headCount: c.kvHeadCount, position: start + row)
            }
        }
        cache.setLength(start + rows, layer: index)

        let attention = workspace.buffer(.attention, count: rows * c.queryWidth)
        Attention.compute(
            query: query, rows: rows, start: start, keys: cache.keys(layer: index),
            values: cache.values(layer: index), configuration: c, output: attention, workspace: workspace)

        let projection = workspace.buffer(.projection, count: rows * d)
        weights.output.multiply(attention, count: rows, into: projection)
        if let bias = weights.outputBias { Activations.addBias(projection, rows: rows, bias: bias.pointer, width: d) }
        Activations.add(x, projection, count: rows * d)

        normed.update(from: x, count: rows * d)
        weights.feedForwardNorm.apply(normed, rows: rows)
        let ff = c.intermediateSize
        let up = workspace.buffer(.up, count: rows * ff)
        weights.up.multiply(normed, count: rows, into: up)
        if let bias = weights.upBias { Activations.addBias(up, rows: rows, bias: bias.pointer, width: ff) }
        if let gateWeights = weights.gate {
            let gate = workspace.buffer(.gate, count: rows * ff)
            gateWeights.multiply(normed, count: rows, into: gate)
            Activations.siluGate(gate, up: up, count: rows * ff)
            weights.down.multiply(gate, count: rows, into: projection)
        } else {
            Activations.gelu(up, count: rows * ff)
            weights.down.multiply(up, count: rows, into: projection)
        }
        if let bias = weights.downBias { Activations.addBias(projection, rows: rows, bias: bias.pointer, width: d) }
        Activations.add(x, projection, count: rows * d)
    }
}
