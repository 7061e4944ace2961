import CSplitKernels
import Foundation

/// How to pick the next token from logits. Temperature 0 means greedy.
public struct SamplingParameters: Sendable, Codable, Equatable {
    public var temperature: Float
    /// Keep only the `topK` most likely tokens (0 = all).
    public var topK: Int
    /// Keep the smallest set of tokens whose probability reaches `topP` (1 = all).
    public var topP: Float
    public var seed: UInt64

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    /// Greedy decoding.
    public static let greedy = SamplingParameters()

    /// Whether this always takes the most likely token.
    public var isGreedy: Bool { temperature <= 0 || topK == 1 }
}

/// A token chosen from a distribution, with its log-probability under the model (before
/// temperature and truncation).
public struct SampledToken: Sendable, Equatable {
    public var token: Int32
    public var logProbability: Float
}

/// Seeded sampler: the same seed and logits always give the same tokens.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var generator: SplitMix64

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        generator = SplitMix64(state: parameters.seed)
    }

    /// The next uniform draw in [0, 1).
    ///
    /// Split nodes draw on the edge and send the draw with the request, so that the node that
    /// picks the token is stateless and a retried or failed-over step picks the same token.
    public mutating func nextUniform() -> Float {
        Float(generator.next() >> 40) / Float(1 << 24)
    }

    /// Picks a token from one row of logits, drawing from this sampler's generator.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> SampledToken {
        let uniform = parameters.isGreedy ? 0 : nextUniform()
        return Self.pick(logits, parameters: parameters, uniform: uniform)
    }

    /// Picks a token from one row of logits with the given uniform draw: deterministic.
    public static func pick(_ logits: UnsafeBufferPointer<Float>, parameters: SamplingParameters, uniform u: Float) -> SampledToken {
        let logSumExp = Self.logSumExp(logits)
        if parameters.isGreedy {
            let best = Self.argmax(logits)
            return SampledToken(token: Int32(best), logProbability: logits[best] - logSumExp)
        }
        var candidates = (0..<logits.count).map { (index: $0, logit: logits[$0] / parameters.temperature) }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.index < $1.index) }
        if parameters.topK > 0, parameters.topK < candidates.count {
            candidates.removeSubrange(parameters.topK...)
        }
        let maxLogit = candidates[0].logit
        var probabilities = candidates.map { Foundation.exp($0.logit - maxLogit) }
        let total = probabilities.reduce(0, +)
        for i in probabilities.indices { probabilities[i] /= total }
        if parameters.topP < 1 {
            var cumulative: Float = 0
            var keep = probabilities.count
            for (i, p) in probabilities.enumerated() {
                cumulative += p
                if cumulative >= parameters.topP { keep = i + 1; break }
            }
            probabilities.removeSubrange(keep...)
            candidates.removeSubrange(keep...)
            let kept = probabilities.reduce(0, +)
            for i in probabilities.indices { probabilities[i] /= kept }
        }
        var cumulative: Float = 0
        var chosen = candidates[candidates.count - 1].index
        for (i, p) in probabilities.enumerated() {
            cumulative += p
            if u < cumulative { chosen = candidates[i].index; break }
        }
        return SampledToken(token: Int32(chosen), logProbability: logits[chosen] - logSumExp)
    }

    /// Index of the largest logit (the first one on ties; NaNs never win; 0 when none is above
    /// −∞). Vectorised (`split_argmax`): the scalar scan over 49,152 logits cost a batching
    /// cloud about as much as the log-sum-exp, once per row on its compute thread.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        guard let base = logits.baseAddress else { return 0 }
        return split_argmax(base, logits.count)
    }

    /// log Σ exp(logits), computed stably (a vectorised exponential: the scalar one over a
    /// 49,152-token vocabulary was 6% of a batching cloud's time, on its compute thread alone).
    public static func logSumExp(_ logits: UnsafeBufferPointer<Float>) -> Float {
        guard let base = logits.baseAddress else { return -.infinity }
        return split_log_sum_exp(base, logits.count)
    }
}
