/// Per-layer times measured on one device for one model shape, which the cost model prefers
/// to its roofline estimate (`edge-node profile --model M` writes them).
public struct LayerCalibration: Sendable, Equatable, Codable {
    /// `ModelShape.signature` of the model measured.
    public var modelShape: String
    /// The command that measured it.
    public var source: String
    /// Prompt length of the measured prefill.
    public var promptTokens: Int
    /// Position of the measured decode step (the cache held this many positions).
    public var decodeContext: Int
    /// Embedding look-up of one token, seconds.
    public var embedSeconds: Double
    /// Final norm and LM head of one row, seconds.
    public var headSeconds: Double
    /// Each layer's prefill of `promptTokens` positions, seconds.
    public var layerPrefillSeconds: [Double]
    /// Each layer's single-token decode step at `decodeContext`, seconds.
    public var layerDecodeSeconds: [Double]

    enum CodingKeys: String, CodingKey {
        case modelShape = "model_shape", source
        case promptTokens = "prompt_tokens", decodeContext = "decode_context"
        case embedSeconds = "embed_seconds", headSeconds = "head_seconds"
        case layerPrefillSeconds = "layer_prefill_seconds", layerDecodeSeconds = "layer_decode_seconds"
    }

    /// Makes a calibration.
    public init(modelShape: String, source: String, promptTokens: Int, decodeContext: Int, embedSeconds: Double,
                headSeconds: Double, layerPrefillSeconds: [Double], layerDecodeSeconds: [Double]) {
        self.modelShape = modelShape
        self.source = source
        self.promptTokens = promptTokens
        self.decodeContext = decodeContext
        self.embedSeconds = embedSeconds
        self.headSeconds = headSeconds
        self.layerPrefillSeconds = layerPrefillSeconds
        self.layerDecodeSeconds = layerDecodeSeconds
    }

    /// - Throws: `ProfileError.invalidField` for negative or non-finite times, lists of
    ///   different lengths, or a non-positive prompt length.
    func validate(path: String, field: String) throws(ProfileError) {
        guard !modelShape.isEmpty else { throw .invalidField(path: path, field: "\(field).model_shape", reason: "is empty") }
        guard promptTokens > 0, decodeContext >= 0 else {
            throw .invalidField(path: path, field: "\(field).prompt_tokens", reason: "must be positive (decode_context zero or more)")
        }
        guard !layerPrefillSeconds.isEmpty, layerPrefillSeconds.count == layerDecodeSeconds.count else {
            throw .invalidField(path: path, field: "\(field).layer_decode_seconds",
                                reason: "must list one time per layer, as layer_prefill_seconds does (\(layerDecodeSeconds.count) vs \(layerPrefillSeconds.count))")
        }
        let all = [embedSeconds, headSeconds] + layerPrefillSeconds + layerDecodeSeconds
        if let bad = all.first(where: { !$0.isFinite || $0 < 0 }) {
            throw .invalidField(path: path, field: field, reason: "holds a time of \(bad) s; times must be finite and zero or more")
        }
    }
}
