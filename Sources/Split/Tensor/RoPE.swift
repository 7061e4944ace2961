import Foundation

/// How a model stretches RoPE past the context it was trained on. Each case changes the
/// rotation angles (and YaRN their magnitude), so a file that asks for one Split does not know
/// is refused rather than run with plain RoPE.
public enum RopeScaling: Sendable, Codable, Equatable {
    /// Plain RoPE.
    case none
    /// Positions divided by `factor` (HF `linear`; GGUF `rope.scaling.type = linear`).
    case linear(factor: Float)
    /// Each frequency divided by its own factor: Llama 3.1/3.2's `llama3` scaling, stored in GGUF
    /// as the `rope_freqs` tensor (`dimensions / 2` divisors).
    case frequencyFactors([Float])
    /// YaRN, as llama.cpp's `rope_yarn` computes it: per frequency a ramp between interpolated
    /// (`/ factor`) and original angles, and cos/sin scaled by `attentionFactor · (1 + 0.1 ln factor)`.
    case yarn(YaRN)

    /// YaRN's parameters (defaults as in llama.cpp and HF).
    public struct YaRN: Sendable, Codable, Equatable {
        public var factor: Float
        public var originalContextLength: Int
        public var betaFast: Float = 32
        public var betaSlow: Float = 1
        public var attentionFactor: Float = 1

        public init(factor: Float, originalContextLength: Int, betaFast: Float = 32, betaSlow: Float = 1,
                    attentionFactor: Float = 1) {
            self.factor = factor
            self.originalContextLength = originalContextLength
            self.betaFast = betaFast
            self.betaSlow = betaSlow
            self.attentionFactor = attentionFactor
        }
    }

    /// Llama 3's per-frequency divisors, exactly as `convert_hf_to_gguf.py` computes the
    /// `rope_freqs` tensor from HF `rope_scaling` (`rope_type: llama3`).
    public static func llama3Factors(theta: Float, dimensions: Int, factor: Double, lowFrequencyFactor: Double,
                                     highFrequencyFactor: Double, originalContextLength: Double) -> [Float] {
        let lowWavelength = originalContextLength / lowFrequencyFactor
        let highWavelength = originalContextLength / highFrequencyFactor
        return (0..<(dimensions / 2)).map { i in
            // The converter's frequencies are float32 (torch), the rest Python doubles.
            let frequency = Double(Float(1) / Foundation.powf(theta, Float(2 * i) / Float(dimensions)))
            let wavelength = 2 * Double.pi / frequency
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return Float(factor) }
            let smooth = (originalContextLength / wavelength - lowFrequencyFactor) / (highFrequencyFactor - lowFrequencyFactor)
            return Float(1 / ((1 - smooth) / factor + smooth))
        }
    }
}

/// Rotary position embedding.
///
/// Two layouts exist in the wild for the same model: HF checkpoints rotate the pair
/// `(x[i], x[i + d/2])` ("NeoX", `rotate_half`), while llama.cpp's GGUF Llama files permute the
/// Q/K weights at conversion so that the pair is `(x[2i], x[2i+1])` ("normal"/GPT-J layout).
public struct RotaryEmbedding: Sendable {
    /// Which elements of a head form a rotated pair.
    public enum Layout: String, Sendable, Codable { case interleaved, neox }

    public let layout: Layout
    public let dimensions: Int
    public let headDimension: Int
    /// Angle per position of each rotated pair, after scaling.
    private let inverseFrequencies: [Float]
    /// Factor on cos and sin (YaRN's attention scaling; 1 otherwise).
    private let magnitude: Float

    /// - Parameters:
    ///   - dimensions: how many leading dimensions of each head rotate (≤ headDimension).
    ///   - scaling: how the frequencies are stretched (`.frequencyFactors` must hold `dimensions / 2` values).
    public init(layout: Layout, dimensions: Int, headDimension: Int, theta: Float, scaling: RopeScaling = .none) {
        self.layout = layout
        self.dimensions = dimensions
        self.headDimension = headDimension
        let base = (0..<(dimensions / 2)).map { i in
            Float(1.0 / Foundation.pow(Double(theta), Double(2 * i) / Double(dimensions)))
        }
        switch scaling {
        case .none:
            inverseFrequencies = base
            magnitude = 1
        case .linear(let factor):
            inverseFrequencies = base.map { $0 / factor }
            magnitude = 1
        case .frequencyFactors(let factors):
            inverseFrequencies = base.indices.map { base[$0] / (factors.indices.contains($0) ? factors[$0] : 1) }
            magnitude = 1
        case .yarn(let yarn):
            // llama.cpp ggml_rope_yarn_corr_dims and rope_yarn_ramp (ext_factor 1).
            func correction(_ beta: Float) -> Float {
                Float(dimensions) * Foundation.logf(Float(yarn.originalContextLength) / (beta * 2 * Float.pi))
                    / (2 * Foundation.logf(theta))
            }
            let low = max(0, Foundation.floorf(correction(yarn.betaFast)))
            let high = min(Float(dimensions - 1), Foundation.ceilf(correction(yarn.betaSlow)))
            inverseFrequencies = base.indices.map { i in
                let y = (Float(i) - low) / max(0.001, high - low)
                let extrapolation = 1 - min(1, max(0, y))
                let interpolated = base[i] / yarn.factor
                return interpolated * (1 - extrapolation) + base[i] * extrapolation
            }
            magnitude = yarn.attentionFactor * (1 + 0.1 * Foundation.logf(yarn.factor))
        }
    }

    /// Rotates `headCount` heads of one row in place for position `position`.
    public func apply(_ row: UnsafeMutablePointer<Float>, headCount: Int, position: Int) {
        let half = dimensions / 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: half * 2) { table in
            for i in 0..<half {
                let angle = Float(position) * inverseFrequencies[i]
                table[i] = Foundation.cos(angle) * magnitude
                table[half + i] = Foundation.sin(angle) * magnitude
            }
            for head in 0..<headCount {
                let v = row + head * headDimension
                switch layout {
                case .interleaved:
                    for i in 0..<half {
                        let c = table[i], s = table[half + i]
                        let a = v[2 * i], b = v[2 * i + 1]
                        v[2 * i] = a * c - b * s
                        v[2 * i + 1] = a * s + b * c
                    }
                case .neox:
                    for i in 0..<half {
                        let c = table[i], s = table[half + i]
                        let a = v[i], b = v[i + half]
                        v[i] = a * c - b * s
                        v[i + half] = a * s + b * c
                    }
                }
            }
        }
    }
}
