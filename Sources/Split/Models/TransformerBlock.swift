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

/// One transformer layer: attention then feed-forward, each with a residual.
///
/// Covers the Llama family (RMSNorm, RoPE, GQA, SwiGLU, optional QKV bias as in Qwen2), GPT-2
/// (LayerNorm with bias, learned positions, GELU MLP, biases everywhere), and the variations of
/// newer models: RMSNorm of queries and keys (Qwen3, Gemma 3, OLMo 2), norms after each sub-layer
/// (Gemma 2/3 before and after, OLMo 2 only after), GELU-gated MLPs, sliding-window layers and
/// soft-capped attention scores.
public final class TransformerBlock: @unchecked Sendable {
    // Safe to send: every weight is immutable after load.
    public struct Weights {
        /// Nil when the layer has no norm before attention (OLMo 2).
        public var attentionNorm: NormWeights?
        public var query: WeightMatrix
        public var key: WeightMatrix
        public var value: WeightMatrix
        public var queryBias: FloatBuffer?
        public var keyBias: FloatBuffer?
        public var valueBias: FloatBuffer?
        /// RMSNorm of each query/key head (width headDimension) or of all of them (full width).
        public var queryNorm: NormWeights?
        public var keyNorm: NormWeights?
        public var output: WeightMatrix
        public var outputBias: FloatBuffer?
        /// Norm of the attention output before the residual add (Gemma 2/3, OLMo 2).
        public var postAttentionNorm: NormWeights?
        /// Nil when the layer has no norm before the feed-forward (OLMo 2).
        public var feedForwardNorm: NormWeights?
        /// Norm of the feed-forward output before the residual add (Gemma 2/3, OLMo 2).
        public var postFeedForwardNorm: NormWeights?
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
    let attentionOptions: Attention.Options

    init(index: Int, weights: Weights, configuration: ModelConfiguration) {
        self.index = index
        self.weights = weights
        self.configuration = configuration
        rotary = configuration.rotaryEmbedding(layer: index)
        attentionOptions = Attention.Options(
            scale: configuration.attentionScale ?? 1 / Float(configuration.headDimension).squareRoot(),
            window: configuration.slidingWindow(layer: index) ?? 0,
            softcap: configuration.attentionSoftcap ?? 0)
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
        try forward(x, segments: workspace.segment(rows: rows, startPosition: start, cache: cache), workspace: workspace)
    }

    /// Runs the layer over several sequences at once: `x` holds their rows one segment after
    /// another. Every matrix multiply covers all rows (one pass over the weights for the whole
    /// batch); RoPE and attention run per segment against its own cache. Each row's result is
    /// bit-identical to running its segment alone (the matrix kernel is row-independent).
    /// - Throws: when a segment's cache does not hold every earlier position of this layer.
    func forward(_ x: UnsafeMutablePointer<Float>, segments: [BatchSegment], workspace: Workspace) throws {
        let c = configuration
        let d = c.hiddenSize
        let rows = segments.reduce(0) { $0 + $1.rows }
        for segment in segments {
            let held = segment.cache.length(layer: index)
            guard segment.startPosition <= held else {
                throw ModelError.invalidConfiguration(
                    "layer \(index) holds \(held) positions; cannot run position \(segment.startPosition) without the ones before it")
            }
            try segment.cache.reserve(upTo: segment.startPosition + segment.rows)
        }

        let normed = workspace.buffer(.normed, count: rows * d)
        normed.update(from: x, count: rows * d)
        weights.attentionNorm?.apply(normed, rows: rows)

        let query = workspace.buffer(.query, count: rows * c.queryWidth)
        // One sequence writes its keys and values straight into its cache; several go through
        // a scratch buffer, since their caches are not one contiguous block.
        let single = segments.count == 1 ? segments[0] : nil
        let keyRows = single.map { $0.cache.keys(layer: index) + $0.startPosition * c.kvWidth }
            ?? workspace.buffer(.key, count: rows * c.kvWidth)
        let valueRows = single.map { $0.cache.values(layer: index) + $0.startPosition * c.kvWidth }
            ?? workspace.buffer(.value, count: rows * c.kvWidth)
        WeightMatrix.multiply(normed, count: rows, weights.query, into: query, weights.key, into: keyRows,
                              weights.value, into: valueRows)
        if let bias = weights.queryBias { Activations.addBias(query, rows: rows, bias: bias.pointer, width: c.queryWidth) }
        if let bias = weights.keyBias { Activations.addBias(keyRows, rows: rows, bias: bias.pointer, width: c.kvWidth) }
        if let bias = weights.valueBias { Activations.addBias(valueRows, rows: rows, bias: bias.pointer, width: c.kvWidth) }
        // A per-head norm's weight is headDimension wide: each head is a row of its own.
        if let norm = weights.queryNorm { norm.apply(query, rows: rows * c.queryWidth / norm.weight.count) }
        if let norm = weights.keyNorm { norm.apply(keyRows, rows: rows * c.kvWidth / norm.weight.count) }

        let attention = workspace.buffer(.attention, count: rows * c.queryWidth)
        var batch: [Attention.Segment] = []
        var offset = 0
        for segment in segments {
            let start = segment.startPosition
            let segmentQuery = query + offset * c.queryWidth
            let segmentKeys = keyRows + offset * c.kvWidth
            if let rotary {
                for row in 0..<segment.rows {
                    rotary.apply(segmentQuery + row * c.queryWidth, headCount: c.headCount, position: start + row)
                    rotary.apply(segmentKeys + row * c.kvWidth, headCount: c.kvHeadCount, position: start + row)
                }
            }
            if single == nil {
                (segment.cache.keys(layer: index) + start * c.kvWidth).update(from: segmentKeys, count: segment.rows * c.kvWidth)
                (segment.cache.values(layer: index) + start * c.kvWidth)
                    .update(from: valueRows + offset * c.kvWidth, count: segment.rows * c.kvWidth)
            }
            segment.cache.setLength(start + segment.rows, layer: index)
            if let single {
                Attention.compute(
                    query: segmentQuery, rows: single.rows, start: start, keys: single.cache.keys(layer: index),
                    values: single.cache.values(layer: index), configuration: c, options: attentionOptions,
                    output: attention, workspace: workspace)
            } else {
                batch.append(.init(query: segmentQuery, rows: segment.rows, start: start, keys: segment.cache.keys(layer: index),
                                   values: segment.cache.values(layer: index), output: attention + offset * c.queryWidth))
            }
            offset += segment.rows
        }
        // Several sequences: one pool job over all their heads (see `Attention.compute(batch:)`).
        if !batch.isEmpty { Attention.compute(batch: batch, configuration: c, options: attentionOptions, workspace: workspace) }

        let projection = workspace.buffer(.projection, count: rows * d)
        weights.output.multiply(attention, count: rows, into: projection)
        if let bias = weights.outputBias { Activations.addBias(projection, rows: rows, bias: bias.pointer, width: d) }
        weights.postAttentionNorm?.apply(projection, rows: rows)
        Activations.add(x, projection, count: rows * d)

        normed.update(from: x, count: rows * d)
        weights.feedForwardNorm?.apply(normed, rows: rows)
        let ff = c.intermediateSize
        let up = workspace.buffer(.up, count: rows * ff)
        let gate = weights.gate.map { _ in workspace.buffer(.gate, count: rows * ff) }
        if let gateWeights = weights.gate, let gate {
            WeightMatrix.multiply(normed, count: rows, gateWeights, into: gate, weights.up, into: up)
        } else {
            weights.up.multiply(normed, count: rows, into: up)
        }
        if let bias = weights.upBias { Activations.addBias(up, rows: rows, bias: bias.pointer, width: ff) }
        if let gate {
            if c.feedForward == .gatedGELU {
                Activations.geluGate(gate, up: up, count: rows * ff)
            } else {
                Activations.siluGate(gate, up: up, count: rows * ff)
            }
            weights.down.multiply(gate, count: rows, into: projection)
        } else {
            Activations.gelu(up, count: rows * ff)
            weights.down.multiply(up, count: rows, into: projection)
        }
        if let bias = weights.downBias { Activations.addBias(projection, rows: rows, bias: bias.pointer, width: d) }
        weights.postFeedForwardNorm?.apply(projection, rows: rows)
        Activations.add(x, projection, count: rows * d)
    }
}

/// One sequence's share of a batched forward pass: `rows` consecutive positions from
/// `startPosition`, with the KV cache they extend.
public struct BatchSegment: @unchecked Sendable {
    // Safe to send only to the thread that owns `cache` (the cloud's compute thread).
    public var rows: Int
    public var startPosition: Int
    public var cache: KVCache

    /// A segment of `rows` positions from `startPosition`, extending `cache`.
    public init(rows: Int, startPosition: Int, cache: KVCache) {
        self.rows = rows
        self.startPosition = startPosition
        self.cache = cache
    }
}
