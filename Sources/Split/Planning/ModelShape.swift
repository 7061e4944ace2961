/// The sizes of a transformer that decide its cost: how many FLOPs and bytes each layer, the
/// embedding and the head take per token. Built from a loaded model (or a configuration and
/// the bytes per weight, for what-if planning without the file).
public struct ModelShape: Sendable, Equatable, Codable {
    /// Display name (usually the file name).
    public var name: String
    public var layerCount: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDimension: Int
    public var vocabularySize: Int
    public var maxPositions: Int
    /// SwiGLU (three feed-forward matrices) rather than a plain MLP (two).
    public var gatedFeedForward: Bool
    /// Whether the LM head shares the embedding's weights (no extra memory).
    public var tiedEmbeddings: Bool
    /// Bytes per stored weight: 2 for f16, 4 for f32.
    public var bytesPerWeight: Int

    /// A shape from a configuration and the weight storage size.
    public init(configuration c: ModelConfiguration, bytesPerWeight: Int, name: String) {
        self.name = name
        layerCount = c.layerCount
        hiddenSize = c.hiddenSize
        intermediateSize = c.intermediateSize
        headCount = c.headCount
        kvHeadCount = c.kvHeadCount
        headDimension = c.headDimension
        vocabularySize = c.vocabularySize
        maxPositions = c.maxPositions
        gatedFeedForward = c.feedForward == .gatedSiLU
        tiedEmbeddings = c.tiedEmbeddings
        self.bytesPerWeight = bytesPerWeight
    }

    /// The shape of a loaded model; bytes per weight are read off its first layer's weights.
    public init(model: TransformerModel, name: String) {
        let c = model.configuration
        var shape = ModelShape(configuration: c, bytesPerWeight: 4, name: name)
        if let first = model.layers.first {
            let bytes = model.weightBytes(layers: first..<(first + 1))
            shape.bytesPerWeight = max(1, Int((Double(bytes) / Double(shape.layerParameters)).rounded()))
        }
        self = shape
    }

    /// Width of the query projection.
    public var queryWidth: Int { headCount * headDimension }
    /// Width of the key and value projections.
    public var kvWidth: Int { kvHeadCount * headDimension }

    /// Weights of one transformer layer (norms and biases are negligible and left out).
    public var layerParameters: Int {
        let attention = 2 * hiddenSize * queryWidth + 2 * hiddenSize * kvWidth
        return attention + (gatedFeedForward ? 3 : 2) * hiddenSize * intermediateSize
    }
    /// Bytes of one layer's weights.
    public var layerWeightBytes: Int { layerParameters * bytesPerWeight }
    /// Bytes of the token embedding table.
    public var embeddingBytes: Int { vocabularySize * hiddenSize * bytesPerWeight }
    /// Bytes the LM head reads per row (the embedding table again when tied).
    public var headReadBytes: Int { vocabularySize * hiddenSize * bytesPerWeight }
    /// Bytes the LM head adds in memory beyond the embedding.
    public var headExtraBytes: Int { tiedEmbeddings ? 0 : headReadBytes }

    /// Identifies shapes with the same costs, so a calibration measured on one file applies to
    /// another of the same shape (a re-trained model, random weights of a published shape).
    public var signature: String {
        "L\(layerCount) d\(hiddenSize) ff\(intermediateSize)\(gatedFeedForward ? "g" : "") h\(headCount)/\(kvHeadCount)x\(headDimension) v\(vocabularySize) w\(bytesPerWeight)"
    }

    /// FLOPs and bytes of one layer decoding one token with `context` positions before it.
    public func layerDecodeWork(context: Int) -> Work {
        // Projections: 2 FLOP per weight. Attention over context+1 positions: QK and AV, 2 FLOP
        // each per query element and position. The KV cache is f32.
        let positions = Double(context + 1)
        return Work(flops: 2 * Double(layerParameters) + 4 * positions * Double(queryWidth),
                    bytes: Double(layerWeightBytes) + 2 * positions * Double(kvWidth) * 4)
    }

    /// FLOPs and bytes of one layer running a prompt of `tokens` positions from position 0.
    public func layerPrefillWork(tokens: Int) -> Work {
        let n = Double(tokens)
        // Causal attention: n(n+1)/2 query-key pairs, QK and AV at 2 FLOP each per element.
        let pairs = n * (n + 1) / 2
        let activations = n * Double(2 * hiddenSize + queryWidth + 2 * kvWidth + 2 * intermediateSize) * 4
        return Work(flops: 2 * n * Double(layerParameters) + 4 * pairs * Double(queryWidth),
                    bytes: Double(layerWeightBytes) + activations + 2 * n * Double(kvWidth) * 4)
    }

    /// FLOPs and bytes of the final norm and LM head on one row.
    public var headWork: Work {
        Work(flops: 2 * Double(vocabularySize * hiddenSize), bytes: Double(headReadBytes + vocabularySize * 4))
    }

    /// FLOPs and bytes of looking up `tokens` embeddings.
    public func embedWork(tokens: Int) -> Work {
        Work(flops: 0, bytes: Double(tokens * hiddenSize * (bytesPerWeight + 4)))
    }

    /// Bytes of the KV cache of `layers` layers holding `positions` positions (f32).
    public func kvCacheBytes(layers: Int, positions: Int) -> Int { 2 * layers * positions * kvWidth * 4 }

    /// Arithmetic and memory traffic of a piece of work.
    public struct Work: Sendable, Equatable {
        public var flops: Double
        public var bytes: Double
    }
}
