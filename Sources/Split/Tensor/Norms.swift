import CSplitKernels
import Foundation

/// Normalisation layers over rows of a `[n × width]` buffer, in place.
public enum Norms {
    /// RMSNorm: `x ← x / sqrt(mean(x²) + ε) · weight`.
    public static func rmsNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>,
        epsilon: Float
    ) {
        for row in 0..<rows { split_rms_norm(x + row * width, weight, width, epsilon) }
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
        split_silu_gate(gate, up, count)
    }

    /// `gate ← gelu(gate) · up` (tanh approximation), the GeGLU of Gemma MLPs.
    public static func geluGate(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        split_gelu_tanh(gate, count)
        for i in 0..<count { gate[i] *= up[i] }
    }

    /// `x ← cap · tanh(x / cap)`: Gemma 2's soft-capping of final logits.
    public static func softcap(_ x: UnsafeMutablePointer<Float>, count: Int, cap: Float) {
        for i in 0..<count { x[i] = cap * Foundation.tanh(x[i] / cap) }
    }

    /// `x ← gelu(x)` with the tanh approximation GPT-2 uses (`gelu_new`).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        split_gelu_tanh(x, count)
    }

    /// Softmax over `count` values in place; returns the max logit (for log-probabilities).
    @discardableResult
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        split_softmax(x, count)
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
