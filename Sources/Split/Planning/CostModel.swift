/// Predicted latency of running a model split at layer k: edge compute for the embedding and
/// layers [0, k), transfer of the layer-k hidden states, cloud compute for layers [k, L) and
/// the head; per decoded token and for the first token (prefill). k = L is local generation.
public struct CostModel: Sendable {
    /// What a generation looks like: prompt length and tokens generated after it.
    public struct Workload: Sendable, Equatable, Codable {
        public var promptTokens: Int
        public var outputTokens: Int

        /// A workload of `promptTokens` then `outputTokens`.
        public init(promptTokens: Int = 64, outputTokens: Int = 32) {
            self.promptTokens = max(1, promptTokens)
            self.outputTokens = max(1, outputTokens)
        }

        /// The mean number of earlier positions during decode.
        public var meanDecodeContext: Int { promptTokens + outputTokens / 2 }
    }

    /// Seconds spent on each side and on the link.
    public struct Breakdown: Sendable, Equatable, Codable {
        public var edgeSeconds: Double
        public var transferSeconds: Double
        public var cloudSeconds: Double
        /// The sum: the three happen one after another for one token.
        public var totalSeconds: Double { edgeSeconds + transferSeconds + cloudSeconds }
    }

    /// The prediction for one split layer and encoding.
    public struct Estimate: Sendable, Equatable, Codable {
        public var splitLayer: Int
        /// The activation encoding; nil for local (k = L: nothing travels).
        public var encoding: String?
        /// One decoded token.
        public var decode: Breakdown
        /// Time to first token: connecting, the prompt's prefill and the first token's head.
        public var firstToken: Breakdown
        /// Bytes sent to the cloud per decoded token.
        public var uplinkBytesPerToken: Int
        /// Memory the edge part needs.
        public var edgeMemoryBytes: Int

        /// The strategy name `EdgeService` understands.
        public var strategy: String { encoding.map { "split(k=\(splitLayer),\($0))" } ?? "local" }
    }

    public let shape: ModelShape
    public let edge: LayerTimeModel
    public let cloud: LayerTimeModel
    public let transfer: TransferModel
    public let workload: Workload
    /// Context the edge must be able to hold (KV cache sizing for the memory check).
    public let maxContext: Int

    /// A cost model; `cloudLoadFactor` ≥ 1 slows the cloud's compute by that factor.
    public init(shape: ModelShape, edge: DeviceProfile, cloud: DeviceProfile, network: NetworkProfile,
                cloudLoadFactor: Double = 1, workload: Workload = Workload(), maxContext: Int? = nil,
                limits: WireLimits = WireLimits()) {
        self.shape = shape
        self.edge = LayerTimeModel(shape: shape, device: edge)
        self.cloud = LayerTimeModel(shape: shape, device: cloud, loadFactor: cloudLoadFactor)
        transfer = TransferModel(network: network, hiddenSize: shape.hiddenSize, limits: limits)
        self.workload = workload
        self.maxContext = min(maxContext ?? shape.maxPositions, shape.maxPositions)
    }

    /// The prediction for split layer `k` (0…L) with `encoding` (ignored for k = L).
    public func estimate(splitLayer k: Int, encoding: ActivationEncoding) -> Estimate {
        let L = shape.layerCount
        let k = min(max(0, k), L)
        let local = k == L
        let n = workload.promptTokens
        let context = workload.meanDecodeContext
        let head = local ? edge.headSeconds : cloud.headSeconds
        let decode = Breakdown(
            edgeSeconds: edge.embedSeconds(tokens: 1) + edge.decodeSeconds(layers: 0..<k, context: context) + (local ? head : 0),
            transferSeconds: local ? 0 : transfer.decodeSeconds(encoding: encoding),
            cloudSeconds: local ? 0 : cloud.decodeSeconds(layers: k..<L, context: context) + head)
        let firstToken = Breakdown(
            edgeSeconds: edge.embedSeconds(tokens: n) + edge.prefillSeconds(layers: 0..<k, tokens: n) + (local ? head : 0),
            transferSeconds: local ? 0 : transfer.prefillSeconds(rows: n, encoding: encoding),
            cloudSeconds: local ? 0 : cloud.prefillSeconds(layers: k..<L, tokens: n) + head)
        return Estimate(splitLayer: k, encoding: local ? nil : encoding.description, decode: decode, firstToken: firstToken,
                        uplinkBytesPerToken: local ? 0 : transfer.requestBytes(rows: 1, encoding: encoding),
                        edgeMemoryBytes: shape.edgeMemoryBytes(splitLayer: k, maxContext: maxContext, promptRows: n))
    }
}
