/// A transformer, or the part of one that a node holds: the token embedding (edge), a contiguous
/// range of layers, and the final norm plus LM head (cloud, and the edge's exit heads).
///
/// A layer range is a property of a loaded model, not a copy: every part of the same file maps
/// the same weights, and the layers a part does not hold are never read.
public final class TransformerModel: @unchecked Sendable {
    // Safe to send: all weights are immutable after load; per-sequence state (KVCache,
    // Workspace) lives outside the model and is owned by one caller.
    public let configuration: ModelConfiguration
    /// Layers this part holds.
    public let layers: Range<Int>
    let tokenEmbedding: WeightMatrix?
    let positionEmbedding: WeightMatrix?
    let blocks: [TransformerBlock]
    let finalNorm: NormWeights?
    public let outputHead: WeightMatrix?
    /// Robot policies: input projection (edge) and action head (cloud), each with its bias.
    let inputProjection: (weight: WeightMatrix, bias: FloatBuffer)?
    let actionHead: (weight: WeightMatrix, bias: FloatBuffer)?
    /// When set, every piece of compute runs at the emulated device's speed (benchmarks only).
    public let pacer: (any ComputePacer)?

    /// Which pieces of the model a part should load.
    public struct Parts: Sendable, Equatable {
        public var layers: Range<Int>?
        public var embedding: Bool
        public var head: Bool

        /// The whole model.
        public static let all = Parts(layers: nil, embedding: true, head: true)

        public init(layers: Range<Int>?, embedding: Bool, head: Bool) {
            self.layers = layers
            self.embedding = embedding
            self.head = head
        }
    }

    /// Builds the requested parts from `store`.
    /// - Throws: `ModelError` naming a missing tensor or a shape that does not fit the configuration.
    public init(configuration c: ModelConfiguration, store: WeightStore, naming: WeightNaming, parts: Parts = .all,
                pacer: (any ComputePacer)? = nil) throws {
        try c.validate()
        self.pacer = pacer
        let layers = parts.layers ?? 0..<c.layerCount
        guard layers.lowerBound >= 0, layers.upperBound <= c.layerCount else {
            throw ModelError.layerRangeOutOfBounds(requested: layers, loaded: 0..<c.layerCount)
        }
        configuration = c
        self.layers = layers
        let loader = WeightLoader(store: store, transposeLinear: naming.linearWeightsTransposed)
        let d = c.hiddenSize
        func norm(_ names: (weight: String, bias: String?), width: Int = d, kind: ModelConfiguration.NormKind? = nil) throws -> NormWeights {
            let weight = try loader.vector(names.weight, count: width)
            // HF Gemma stores RMSNorm weights as w and computes with (1 + w); GGUF has 1 + w.
            if naming.normWeightOffset != 0 {
                for i in 0..<width { weight.pointer[i] += naming.normWeightOffset }
            }
            return NormWeights(weight: weight, bias: try loader.optionalVector(names.bias, count: width),
                               epsilon: c.normEpsilon, kind: kind ?? c.normKind)
        }
        func optionalNorm(_ names: (weight: String, bias: String?)?, width: Int = d,
                          kind: ModelConfiguration.NormKind? = nil) throws -> NormWeights? {
            try names.map { try norm($0, width: width, kind: kind) }
        }
        // Embeddings are never transposed, whatever the linear layers' convention.
        tokenEmbedding = !c.isPolicy && (parts.embedding || parts.head)
            ? try loader.matrix(naming.tokenEmbedding, rows: c.vocabularySize, columns: d, transposed: false) : nil
        inputProjection = c.isPolicy && parts.embedding
            ? (try loader.matrix(naming.inputProjection.weight, rows: d, columns: c.inputDimensions, transposed: false),
               try loader.vector(naming.inputProjection.bias, count: d)) : nil
        let actionWidth = c.actionHorizon * c.actionDimensions
        actionHead = c.isPolicy && parts.head
            ? (try loader.matrix(naming.actionHead.weight, rows: actionWidth, columns: d, transposed: false),
               try loader.vector(naming.actionHead.bias, count: actionWidth)) : nil
        if parts.embedding, let name = naming.positionEmbedding {
            positionEmbedding = try loader.matrix(name, rows: c.maxPositions, columns: d, transposed: false)
        } else {
            positionEmbedding = nil
        }
        blocks = try layers.map { layer in
            let n = naming.block(layer)
            let query: WeightMatrix, key: WeightMatrix, value: WeightMatrix
            var qb: FloatBuffer?, kb: FloatBuffer?, vb: FloatBuffer?
            if let fused = n.fusedQKV {
                let q = c.queryWidth, kv = c.kvWidth
                (query, key, value) = try loader.fusedQKV(fused, queryWidth: q, kvWidth: kv, columns: d)
                if let biasName = n.fusedQKVBias {
                    let all = try loader.vector(biasName, count: q + 2 * kv).array
                    qb = FloatBuffer(Array(all[0..<q]))
                    kb = FloatBuffer(Array(all[q..<(q + kv)]))
                    vb = FloatBuffer(Array(all[(q + kv)...]))
                }
            } else {
                guard let q = n.query, let k = n.key, let v = n.value else {
                    throw ModelError.missingTensor("attention weights of layer \(layer)")
                }
                query = try loader.matrix(q, rows: c.queryWidth, columns: d)
                key = try loader.matrix(k, rows: c.kvWidth, columns: d)
                value = try loader.matrix(v, rows: c.kvWidth, columns: d)
                qb = try loader.optionalVector(n.queryBias, count: c.queryWidth)
                kb = try loader.optionalVector(n.keyBias, count: c.kvWidth)
                vb = try loader.optionalVector(n.valueBias, count: c.kvWidth)
            }
            let gate: WeightMatrix?, up: WeightMatrix
            if n.fusedGateUp {
                // Phi-3's gate_up_proj: the gate's rows, then the up projection's.
                let whole = try loader.matrix(n.up, rows: 2 * c.intermediateSize, columns: d)
                gate = try whole.rows(0, count: c.intermediateSize)
                up = try whole.rows(c.intermediateSize, count: c.intermediateSize)
            } else {
                gate = try n.gate.map { try loader.matrix($0, rows: c.intermediateSize, columns: d) }
                up = try loader.matrix(n.up, rows: c.intermediateSize, columns: d)
            }
            let perHead = c.queryKeyNorm == .perHead
            let weights = TransformerBlock.Weights(
                attentionNorm: try optionalNorm(n.attentionNorm),
                query: query, key: key, value: value, queryBias: qb, keyBias: kb, valueBias: vb,
                queryNorm: try optionalNorm(n.queryNorm, width: perHead ? c.headDimension : c.queryWidth, kind: .rms),
                keyNorm: try optionalNorm(n.keyNorm, width: perHead ? c.headDimension : c.kvWidth, kind: .rms),
                output: try loader.matrix(n.output, rows: d, columns: c.queryWidth),
                outputBias: try loader.optionalVector(n.outputBias, count: d),
                postAttentionNorm: try optionalNorm(n.postAttentionNorm),
                feedForwardNorm: try optionalNorm(n.feedForwardNorm),
                postFeedForwardNorm: try optionalNorm(n.postFeedForwardNorm),
                gate: gate, up: up,
                upBias: try loader.optionalVector(n.upBias, count: c.intermediateSize),
                down: try loader.matrix(n.down, rows: d, columns: c.intermediateSize),
                downBias: try loader.optionalVector(n.downBias, count: d))
            return TransformerBlock(index: layer, weights: weights, configuration: c)
        }
        if parts.head {
            finalNorm = try norm(naming.finalNorm)
            if c.isPolicy {
                outputHead = nil
            } else if !c.tiedEmbeddings, store.contains(naming.outputHead) {
                outputHead = try loader.matrix(naming.outputHead, rows: c.vocabularySize, columns: d, transposed: false)
            } else {
                outputHead = tokenEmbedding
            }
        } else {
            finalNorm = nil
            outputHead = nil
        }
    }

    /// Whether this part can embed tokens (or, for a policy, project its inputs).
    public var hasEmbedding: Bool { tokenEmbedding != nil || inputProjection != nil }
    /// Whether this part can turn hidden states into logits (or, for a policy, actions).
    public var hasHead: Bool { (outputHead != nil || actionHead != nil) && finalNorm != nil }

    /// A fresh cache for `range` (default: every layer this part holds).
    public func makeCache(layers range: Range<Int>? = nil, maxPositions: Int? = nil) -> KVCache {
        KVCache(layers: range ?? layers, kvWidth: configuration.kvWidth,
                maxPositions: min(maxPositions ?? configuration.maxPositions, configuration.maxPositions))
    }

    /// Bytes of weights read per decoded token by `layers` (for cost models and benchmarks).
    public func weightBytes(layers range: Range<Int>) -> Int {
        blocks.filter { range.contains($0.index) }.reduce(0) { $0 + $1.weightByteCount }
    }

    /// The input hidden states `[tokens.count × hiddenSize]` for tokens at positions
    /// `start ..< start + tokens.count`.
    /// - Throws: for a token outside the vocabulary, a position past the context, or a part
    ///   without the embedding.
    public func embed(_ tokens: [Int32], startPosition start: Int) throws -> [Float] {
        try paced { try embedUnpaced(tokens, startPosition: start) }
    }

    private func embedUnpaced(_ tokens: [Int32], startPosition start: Int) throws -> [Float] {
        guard let tokenEmbedding else { throw ModelError.notLoaded("token embedding") }
        let c = configuration
        guard start >= 0, start + tokens.count <= c.maxPositions else {
            throw ModelError.contextOverflow(position: start + tokens.count - 1, limit: c.maxPositions)
        }
        var hidden = [Float](repeating: 0, count: tokens.count * c.hiddenSize)
        try hidden.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            for (row, token) in tokens.enumerated() {
                guard token >= 0, Int(token) < c.vocabularySize else {
                    throw ModelError.invalidToken(token, vocabularySize: c.vocabularySize)
                }
                tokenEmbedding.copyRow(Int(token), into: base + row * c.hiddenSize)
                if let scale = c.embeddingScale {
                    for i in 0..<c.hiddenSize { base[row * c.hiddenSize + i] *= scale }
                }
            }
            if let positionEmbedding {
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: c.hiddenSize)
                defer { scratch.deallocate() }
                for row in 0..<tokens.count {
                    positionEmbedding.copyRow(start + row, into: scratch)
                    Activations.add(base + row * c.hiddenSize, scratch, count: c.hiddenSize)
                }
            }
        }
        return hidden
    }

    /// Writes the input hidden state of `token` at `position` into `destination` (`hiddenSize`
    /// floats), without allocating: the decode loop's embedding.
    /// - Throws: for a token outside the vocabulary, a position past the context, or a part
    ///   without the embedding.
    public func embed(_ token: Int32, position: Int, into destination: UnsafeMutablePointer<Float>, workspace: Workspace) throws {
        guard let tokenEmbedding else { throw ModelError.notLoaded("token embedding") }
        let c = configuration
        guard position >= 0, position < c.maxPositions else {
            throw ModelError.contextOverflow(position: position, limit: c.maxPositions)
        }
        guard token >= 0, Int(token) < c.vocabularySize else {
            throw ModelError.invalidToken(token, vocabularySize: c.vocabularySize)
        }
        tokenEmbedding.copyRow(Int(token), into: destination)
        if let scale = c.embeddingScale {
            for i in 0..<c.hiddenSize { destination[i] *= scale }
        }
        if let positionEmbedding {
            let scratch = workspace.buffer(.projection, count: c.hiddenSize)
            positionEmbedding.copyRow(position, into: scratch)
            Activations.add(destination, scratch, count: c.hiddenSize)
        }
    }

    /// Runs layers `range` over `rows` positions starting at `start`, in place on `hidden`.
    /// - Throws: when `range` is not held by this part, or the cache lacks earlier positions.
    public func forward(
        _ hidden: inout [Float], rows: Int, startPosition start: Int, layers range: Range<Int>,
        cache: KVCache, workspace: Workspace
    ) throws {
        try paced { try forwardUnpaced(&hidden, rows: rows, startPosition: start, layers: range, cache: cache, workspace: workspace) }
    }

    private func forwardUnpaced(
        _ hidden: inout [Float], rows: Int, startPosition start: Int, layers range: Range<Int>,
        cache: KVCache, workspace: Workspace
    ) throws {
        guard range.isEmpty || (range.lowerBound >= layers.lowerBound && range.upperBound <= layers.upperBound) else {
            throw ModelError.layerRangeOutOfBounds(requested: range, loaded: layers)
        }
        guard hidden.count == rows * configuration.hiddenSize else {
            throw ModelError.shapeMismatch(tensor: "hidden", expected: [rows, configuration.hiddenSize], found: [hidden.count])
        }
        guard start + rows <= configuration.maxPositions else {
            throw ModelError.contextOverflow(position: start + rows - 1, limit: configuration.maxPositions)
        }
        try hidden.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for layer in range {
                try blocks[layer - layers.lowerBound].forward(base, rows: rows, start: start, cache: cache, workspace: workspace)
            }
        }
    }

    /// Runs `layers` over several sequences in one pass: `hidden` holds each segment's rows in
    /// order, `[Σ rows × hiddenSize]`, and is updated in place. Each matrix multiply covers
    /// every row, so the weights are read once for the whole batch; each row's result equals
    /// running its sequence alone, bit for bit.
    /// - Throws: on a layer range outside this part, a shape mismatch or a position past the context.
    public func forward(
        _ hidden: inout [Float], segments: [BatchSegment], layers range: Range<Int>, workspace: Workspace
    ) throws {
        try paced { try forwardUnpaced(&hidden, segments: segments, layers: range, workspace: workspace) }
    }

    private func forwardUnpaced(
        _ hidden: inout [Float], segments: [BatchSegment], layers range: Range<Int>, workspace: Workspace
    ) throws {
        guard range.isEmpty || (range.lowerBound >= layers.lowerBound && range.upperBound <= layers.upperBound) else {
            throw ModelError.layerRangeOutOfBounds(requested: range, loaded: layers)
        }
        let rows = segments.reduce(0) { $0 + $1.rows }
        guard hidden.count == rows * configuration.hiddenSize else {
            throw ModelError.shapeMismatch(tensor: "hidden", expected: [rows, configuration.hiddenSize], found: [hidden.count])
        }
        for segment in segments where segment.startPosition + segment.rows > configuration.maxPositions {
            throw ModelError.contextOverflow(position: segment.startPosition + segment.rows - 1, limit: configuration.maxPositions)
        }
        try hidden.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for layer in range {
                try blocks[layer - layers.lowerBound].forward(base, segments: segments, workspace: workspace)
            }
        }
    }

    /// Logits `[rows × vocab]` from hidden states: final norm then LM head. Applied to an
    /// intermediate layer's hidden state this is that layer's exit head.
    /// - Throws: when this part lacks the head.
    public func logits(_ hidden: [Float], rows: Int, workspace: Workspace) throws -> [Float] {
        try paced { try logitsUnpaced(hidden, rows: rows, workspace: workspace) }
    }

    private func logitsUnpaced(_ hidden: [Float], rows: Int, workspace: Workspace) throws -> [Float] {
        let d = configuration.hiddenSize
        guard hidden.count == rows * d else {
            throw ModelError.shapeMismatch(tensor: "hidden", expected: [rows, d], found: [hidden.count])
        }
        var result = [Float](repeating: 0, count: rows * configuration.vocabularySize)
        try hidden.withUnsafeBufferPointer { input in
            try result.withUnsafeMutableBufferPointer { out in
                try logits(input.baseAddress!, rows: rows, into: out.baseAddress!, workspace: workspace)
            }
        }
        return result
    }

    /// Writes the logits `[rows × vocab]` of `rows` hidden states into `output`, without
    /// allocating (the decode loop's head).
    /// - Throws: when this part lacks the head.
    public func logits(
        _ hidden: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>, workspace: Workspace
    ) throws {
        guard let finalNorm, let outputHead else { throw ModelError.notLoaded("final norm and LM head") }
        let d = configuration.hiddenSize
        let normed = workspace.buffer(.hidden, count: rows * d)
        normed.update(from: hidden, count: rows * d)
        finalNorm.apply(normed, rows: rows)
        outputHead.multiply(normed, count: rows, into: output)
        if let cap = configuration.finalLogitSoftcap {
            Activations.softcap(output, count: rows * configuration.vocabularySize, cap: cap)
        }
    }

    /// One decode step of a whole model without allocating: embeds `token` at `position` into
    /// `row` (`hiddenSize` floats), runs every layer this part holds against `cache`, and writes
    /// the next logits into `logits` (`vocabularySize` floats).
    /// - Throws: as `embed`, `forward` and `logits` do, or when a buffer has the wrong size.
    public func decodeStep(
        _ token: Int32, position: Int, cache: KVCache, workspace: Workspace, row: inout [Float], logits: inout [Float]
    ) throws {
        let c = configuration
        guard row.count == c.hiddenSize, logits.count == c.vocabularySize else {
            throw ModelError.shapeMismatch(tensor: "decode buffers", expected: [c.hiddenSize, c.vocabularySize],
                                           found: [row.count, logits.count])
        }
        // Paced as a whole (an emulated slower device, for the selection harness).
        try paced {
            try row.withUnsafeMutableBufferPointer { try embed(token, position: position, into: $0.baseAddress!, workspace: workspace) }
            try forwardUnpaced(&row, rows: 1, startPosition: position, layers: layers, cache: cache, workspace: workspace)
            try row.withUnsafeBufferPointer { state in
                try logits.withUnsafeMutableBufferPointer { out in
                    try self.logits(state.baseAddress!, rows: 1, into: out.baseAddress!, workspace: workspace)
                }
            }
        }
    }

    /// Robot policies: the input hidden states `[rows × hiddenSize]` of `rows` input tokens
    /// `inputs[rows × inputDimensions]` (input projection plus bias; positions come from RoPE).
    /// - Throws: when this part lacks the projection, or for a size mismatch or a non-finite input.
    public func project(_ inputs: [Float], rows: Int) throws -> [Float] {
        guard let inputProjection else { throw ModelError.notLoaded("input projection") }
        let c = configuration
        guard rows > 0, rows <= c.maxPositions else { throw ModelError.contextOverflow(position: rows - 1, limit: c.maxPositions) }
        guard inputs.count == rows * c.inputDimensions else {
            throw ModelError.shapeMismatch(tensor: "policy input", expected: [rows, c.inputDimensions], found: [inputs.count])
        }
        guard inputs.allSatisfy(\.isFinite) else { throw ModelError.invalidConfiguration("policy input holds a NaN or infinity") }
        var hidden = [Float](repeating: 0, count: rows * c.hiddenSize)
        inputs.withUnsafeBufferPointer { input in
            hidden.withUnsafeMutableBufferPointer { out in
                inputProjection.weight.multiply(input.baseAddress!, count: rows, into: out.baseAddress!)
                Activations.addBias(out.baseAddress!, rows: rows, bias: inputProjection.bias.pointer, width: c.hiddenSize)
            }
        }
        return hidden
    }

    /// Robot policies: the action chunk `[actionHorizon × actionDimensions]` read from the last
    /// of `rows` hidden states: final norm, then action head plus bias.
    /// - Throws: when this part lacks the action head, or for a size mismatch.
    public func actions(_ hidden: [Float], rows: Int, workspace: Workspace) throws -> [Float] {
        guard let finalNorm, let actionHead else { throw ModelError.notLoaded("final norm and action head") }
        let d = configuration.hiddenSize
        guard rows > 0, hidden.count == rows * d else {
            throw ModelError.shapeMismatch(tensor: "hidden", expected: [rows, d], found: [hidden.count])
        }
        let normed = workspace.buffer(.hidden, count: d)
        hidden.withUnsafeBufferPointer { normed.update(from: $0.baseAddress! + (rows - 1) * d, count: d) }
        finalNorm.apply(normed, rows: 1)
        var result = [Float](repeating: 0, count: actionHead.weight.rows)
        result.withUnsafeMutableBufferPointer { out in
            actionHead.weight.multiply(normed, count: 1, into: out.baseAddress!)
            Activations.add(out.baseAddress!, actionHead.bias.pointer, count: actionHead.weight.rows)
        }
        return result
    }

    /// Runs `body` through the pacer when one is set.
    private func paced<T>(_ body: () throws -> T) rethrows -> T {
        if let pacer { return try pacer.pace(body) }
        return try body()
    }
}
