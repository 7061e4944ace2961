import Foundation

/// The acceptance rules of speculative decoding: which drafted tokens a verifying pass keeps and
/// which token follows them. Greedy: the longest prefix equal to the target's own choices, then
/// the target's token. Sampling (Leviathan et al. 2023, Chen et al. 2023): draft x with
/// probability q(x) is kept with probability min(1, p(x)/q(x)); at the first rejection the next
/// token is drawn from norm(max(0, p − q)); when all are kept, from the last row's p. The output
/// is then distributed exactly as sampling from the target alone.
public enum SpeculativeAcceptance {
    /// How many drafts were kept and the token after them.
    public struct Verdict: Sendable, Equatable {
        public var accepted: Int
        public var next: Int32
    }

    /// Greedy verification: `targets[i]` is the target's token after the prefix and drafts[0..<i];
    /// there is one more target than drafts.
    /// - Throws: `CompletionError.internalError` when the counts do not match.
    public static func greedy(drafts: [Int32], targets: [Int32]) throws -> Verdict {
        guard targets.count == drafts.count + 1 else {
            throw CompletionError.internalError("\(targets.count) targets for \(drafts.count) drafts")
        }
        var accepted = 0
        while accepted < drafts.count, drafts[accepted] == targets[accepted] { accepted += 1 }
        return Verdict(accepted: accepted, next: targets[accepted])
    }

    /// Speculative-sampling verification. `draftProbabilities[i]` is q at draft i (the draft was
    /// drawn from it), `targetProbabilities[i]` is p at the same row (one more than drafts), and
    /// `uniforms` are drafts + 1 independent draws in [0, 1).
    /// - Throws: `CompletionError.internalError` on mismatched shapes.
    public static func sampled(drafts: [Int32], draftProbabilities: [[Float]], targetProbabilities: [[Float]],
                               uniforms: [Float]) throws -> Verdict {
        guard draftProbabilities.count == drafts.count, targetProbabilities.count == drafts.count + 1,
              uniforms.count == drafts.count + 1,
              let width = targetProbabilities.first?.count,
              targetProbabilities.allSatisfy({ $0.count == width }), draftProbabilities.allSatisfy({ $0.count == width }),
              drafts.allSatisfy({ $0 >= 0 && Int($0) < width }) else {
            throw CompletionError.internalError("speculative verification shapes do not match")
        }
        for (i, draft) in drafts.enumerated() {
            let p = targetProbabilities[i][Int(draft)], q = draftProbabilities[i][Int(draft)]
            if q > 0, uniforms[i] < min(1, p / q) { continue }
            // Rejected: draw from the residual max(0, p − q), renormalised (p itself if it is empty).
            var residual = zip(targetProbabilities[i], draftProbabilities[i]).map { max(0, $0 - $1) }
            if residual.reduce(0, +) <= 0 { residual = targetProbabilities[i] }
            return Verdict(accepted: i, next: draw(residual, uniform: uniforms[drafts.count]))
        }
        return Verdict(accepted: drafts.count, next: draw(targetProbabilities[drafts.count], uniform: uniforms[drafts.count]))
    }

    /// The distribution `Sampler.pick` draws from: softmax(logits / T) cut to the top-k and the
    /// top-p nucleus, renormalised; one-hot on the argmax when greedy.
    public static func distribution(_ logits: UnsafeBufferPointer<Float>, parameters: SamplingParameters) -> [Float] {
        var result = [Float](repeating: 0, count: logits.count)
        guard !logits.isEmpty else { return result }
        if parameters.isGreedy {
            result[Sampler.argmax(logits)] = 1
            return result
        }
        var candidates = (0..<logits.count).map { (index: $0, logit: logits[$0] / parameters.temperature) }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.index < $1.index) }
        if parameters.topK > 0, parameters.topK < candidates.count { candidates.removeSubrange(parameters.topK...) }
        let maxLogit = candidates[0].logit
        let probabilities = candidates.map { Foundation.exp($0.logit - maxLogit) }
        var total = probabilities.reduce(0, +)
        var keep = probabilities.count
        if parameters.topP < 1 {
            var cumulative: Float = 0
            for (i, p) in probabilities.enumerated() {
                cumulative += p / total
                if cumulative >= parameters.topP { keep = i + 1; break }
            }
            total = probabilities[..<keep].reduce(0, +)
        }
        for i in 0..<keep { result[candidates[i].index] = probabilities[i] / total }
        return result
    }

    /// Same as `distribution` over an array.
    public static func distribution(_ logits: [Float], parameters: SamplingParameters) -> [Float] {
        logits.withUnsafeBufferPointer { distribution($0, parameters: parameters) }
    }

    /// Inverse-CDF draw from unnormalised `weights` with `uniform` in [0, 1).
    public static func draw(_ weights: [Float], uniform: Float) -> Int32 {
        let total = weights.reduce(0, +)
        var cumulative: Float = 0
        var last = 0
        for (i, w) in weights.enumerated() where w > 0 {
            cumulative += w / total
            last = i
            if uniform < cumulative { return Int32(i) }
        }
        return Int32(last)
    }

    /// The next draft length from the last verification: one longer after a fully accepted
    /// draft, one shorter when less than half was kept, within [1, 2 × configured] (and the
    /// catalogue's maximum).
    public static func adaptedDraftLength(_ current: Int, drafted: Int, accepted: Int, configured: Int) -> Int {
        guard drafted > 0 else { return current }
        let upper = min(2 * configured, Strategy.maxDraftLength)
        if accepted == drafted { return min(upper, current + 1) }
        if 2 * accepted < drafted { return max(1, current - 1) }
        return current
    }
}
