import Foundation

/// Normalisation layers over rows of a `[n × width]` buffer, in place.
public enum Norms {
    /// RMSNorm: `x ← x / sqrt(mean(x²) + ε) · weight`.
    public static func rmsNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>,
        epsilon: Float
    ) {
        for row in 0..<rows {
            let v = x + row * width
            var sumSquares: Float = 0
            for i in 0..<width { sumSquares += v[i] * v[i] }
            let scale = 1 / (sumSquares / Float(width) + epsilon).squareRoot()
            for i in 0..<width { v[i] = v[i] * scale * weight[i] }
        }
    }

    /// LayerNorm: `x ← (x − mean) / sqrt(var + ε) · weight + bias`.
    public static func layerNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, epsilon: Float
    ) {
        for row in 0..<rows {
            let v = x + row * width
            var mean: Float = 0
            for i in 0..<width { mean += v[i] }
            mean /= Float(width)
            var variance: Float = 0
            for i in 0..<width {
                let d = v[i] - mean
                variance += d * d
            }
            variance /= Float(width)
            let scale = 1 / (variance + epsilon).squareRoot()
            if let bias {
                for i in 0..<width { v[i] = (v[i] - mean) * scale * weight[i] + bias[i] }
            } else {
                for i in 0..<width { v[i] = (v[i] - mean) * scale * weight[i] }
            }
        }
    }
}

/// Element-wise activations and softmax.
public enum Activations {
    /// `gate ← silu(gate) · up`, the SwiGLU of Llama-family MLPs.
    public static func siluGate(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            gate[i] = g / (1 + Foundation.exp(-g)) * up[i]
        }
    }

    /// `x ← gelu(x)` with the tanh approximation GPT-2 uses (`gelu_new`).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let c: Float = 0.7978845608028654  // sqrt(2/π)
        for i in 0..<count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + Foundation.tanh(c * (v + 0.044715 * v * v * v)))
        }
    }

    /// Softmax over `count` values in place; returns the max logit (for log-probabilities).
    @discardableResult
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var maxValue = -Float.infinity
        for i in 0..<count where x[i] > maxValue { maxValue = x[i] }
        var sum: Float = 0
        for i in 0..<count {
            let e = Foundation.exp(x[i] - maxValue)
            x[i] = e
            sum += e
        }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
        return maxValue
    }

    /// `x += y`, element-wise.
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// Adds `bias` to each of `rows` rows of width `bias.count`.
    public static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, bias: UnsafePointer<Float>, width: Int) {
        for row in 0..<rows {
            let v = x + row * width
            for i in 0..<width { v[i] += bias[i] }
        }
    }
}
