import Foundation
import Split

/// How much a lossy activation encoding changes the model's output: the layer-k hidden states
/// of held-out text are sent through each encoding (encode, decode, as the wire does) and the
/// remaining layers' greedy token at every position is compared with the one f32 transfer
/// (exact) gives. Runs in process: the cloud's arithmetic on decoded rows is the same code.
public struct ActivationAgreement: Sendable {
    /// One encoding at one split layer.
    public struct Row: Sendable, Codable, Equatable {
        public var splitLayer: Int
        public var encoding: String
        /// Positions compared.
        public var positions: Int
        /// Positions whose greedy next token equals the f32 one.
        public var agreeing: Int
        /// Bytes of one encoded row of hidden state.
        public var payloadBytesPerToken: Int
        /// Bytes of one decode step's request on the wire (header and transport included).
        public var requestBytesPerToken: Int
        /// Largest absolute difference of a decoded hidden value from the f32 one.
        public var maxAbsoluteError: Float
        /// `agreeing / positions`.
        public var agreement: Double { positions == 0 ? 0 : Double(agreeing) / Double(positions) }
    }

    public let model: TransformerModel
    /// Tokens per text (the first ones; at most the model's context).
    public var tokensPerText: Int

    /// Agreement on `model` (whole).
    public init(model: TransformerModel, tokensPerText: Int = 256) {
        self.model = model
        self.tokensPerText = tokensPerText
    }

    /// Compares every encoding with f32 at each split layer over `texts`, tokenized by `tokenizer`.
    /// - Throws: model errors.
    public func measure(texts: [String], tokenizer: some TextTokenizer, splitLayers: [Int],
                        encodings: [ActivationEncoding] = ActivationEncoding.allCases) throws -> [Row] {
        try measure(tokenSequences: texts.map { tokenizer.encode($0) }, splitLayers: splitLayers, encodings: encodings)
    }

    /// Compares every encoding with f32 at each split layer over token sequences (each cut to
    /// `tokensPerText` and the model's context).
    /// - Throws: model errors.
    public func measure(tokenSequences: [[Int32]], splitLayers: [Int], encodings: [ActivationEncoding] = ActivationEncoding.allCases) throws -> [Row] {
        let c = model.configuration
        let workspace = Workspace()
        let transfer = TransferModel(network: NetworkProfile.loopback, hiddenSize: c.hiddenSize)
        var rows: [Row] = []
        for k in splitLayers where (0..<c.layerCount).contains(k) {
            for encoding in encodings {
                rows.append(Row(splitLayer: k, encoding: encoding.description, positions: 0, agreeing: 0,
                              payloadBytesPerToken: encoding.rowByteCount(hiddenSize: c.hiddenSize) ?? 0,
                              requestBytesPerToken: transfer.requestBytes(rows: 1, encoding: encoding), maxAbsoluteError: 0))
            }
        }
        for sequence in tokenSequences {
            let tokens = Array(sequence.prefix(min(tokensPerText, c.maxPositions)))
            guard tokens.count > 1 else { continue }
            var hidden = try model.embed(tokens, startPosition: 0)
            var done = 0
            let edgeCache = model.makeCache(layers: 0..<c.layerCount, maxPositions: tokens.count)
            for k in splitLayers.sorted() where (0..<c.layerCount).contains(k) {
                try model.forward(&hidden, rows: tokens.count, startPosition: 0, layers: done..<k, cache: edgeCache, workspace: workspace)
                done = k
                let reference = try greedyTokens(hidden, rows: tokens.count, from: k, workspace: workspace)
                for encoding in encodings {
                    let encoded = try EncodedActivations(encoding: encoding, rows: tokens.count, hiddenSize: c.hiddenSize, values: hidden)
                    let decoded = encoded.decoded()
                    let picked = try greedyTokens(decoded, rows: tokens.count, from: k, workspace: workspace)
                    guard let index = rows.firstIndex(where: { $0.splitLayer == k && $0.encoding == encoding.description }) else { continue }
                    rows[index].positions += tokens.count
                    rows[index].agreeing += zip(reference, picked).filter { $0 == $1 }.count
                    let error = zip(hidden, decoded).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                    rows[index].maxAbsoluteError = max(rows[index].maxAbsoluteError, error)
                }
            }
        }
        return rows
    }

    /// The greedy token after each position, running layers [k, L) and the head on `hidden`.
    private func greedyTokens(_ hidden: [Float], rows: Int, from k: Int, workspace: Workspace) throws -> [Int32] {
        let c = model.configuration
        var state = hidden
        let cache = model.makeCache(layers: k..<c.layerCount, maxPositions: rows)
        try model.forward(&state, rows: rows, startPosition: 0, layers: k..<c.layerCount, cache: cache, workspace: workspace)
        let logits = try model.logits(state, rows: rows, workspace: workspace)
        return (0..<rows).map { row in
            logits.withUnsafeBufferPointer { all in
                Int32(Sampler.argmax(UnsafeBufferPointer(rebasing: all[(row * c.vocabularySize)..<((row + 1) * c.vocabularySize)])))
            }
        }
    }
}

extension NetworkProfile {
    /// Loopback: no delay, no bandwidth limit to speak of (sizes only).
    static let loopback = NetworkProfile(
        name: "loopback", description: "this machine to itself",
        roundTripMilliseconds: ProfileFigure(0, source: "loopback"), jitterMilliseconds: ProfileFigure(0, source: "loopback"),
        uplinkMegabitsPerSecond: ProfileFigure(1e5, source: "loopback"), downlinkMegabitsPerSecond: ProfileFigure(1e5, source: "loopback"))
}
