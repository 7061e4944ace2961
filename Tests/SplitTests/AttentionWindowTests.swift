import CSplitKernels
import Foundation
import Testing
@testable import Split

/// Sliding-window attention and soft-capped scores against a plain reference, and RoPE
/// scalings against each other where they must agree.
@Suite("Sliding windows, soft-caps and RoPE scalings")
struct AttentionWindowTests {
    /// Naive causal attention of one head's query rows: scores, optional cap, window, softmax.
    static func reference(query: [Float], keys: [Float], values: [Float], rows: Int, start: Int, headDimension d: Int,
                          scale: Float, window: Int, softcap: Float) -> [Float] {
        var output = [Float](repeating: 0, count: rows * d)
        for row in 0..<rows {
            let position = start + row
            let first = window > 0 ? max(0, position - window + 1) : 0
            var scores = (first...position).map { j -> Float in
                var s: Float = 0
                for c in 0..<d { s += query[row * d + c] * keys[j * d + c] }
                s *= scale
                return softcap > 0 ? softcap * Foundation.tanh(s / softcap) : s
            }
            let top = scores.max()!
            scores = scores.map { Foundation.exp($0 - top) }
            let sum = scores.reduce(0, +)
            for (index, j) in (first...position).enumerated() {
                for c in 0..<d { output[row * d + c] += scores[index] / sum * values[j * d + c] }
            }
        }
        return output
    }

    @Test("a window shows each query itself and the window − 1 positions before it; a cap bends the scores",
          arguments: [(0, Float(0)), (1, 0), (3, 0), (5, 2.5), (0, 1.5), (40, 0)])
    func windowAndCap(window: Int, softcap: Float) {
        var rng = SplitMix64(state: 11)
        let d = 24, start = 6, rows = 9, total = start + rows
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -2...2, using: &rng) } }
        let query = random(rows * d), keys = random(total * d), values = random(total * d)
        var output = [Float](repeating: 0, count: rows * d)
        var scores = [Float](repeating: 0, count: total)
        split_attention(query, rows, start, keys, values, 1, 1, d, d, d, 0.3, window, softcap, &scores, &output, 1)
        let expected = Self.reference(query: query, keys: keys, values: values, rows: rows, start: start, headDimension: d,
                                      scale: 0.3, window: window, softcap: softcap)
        #expect(maxAbsDifference(output, expected) < 1e-5)
    }

    func rotated(_ embedding: RotaryEmbedding, position: Int) -> [Float] {
        var row = (0..<32).map { Float($0 % 7) - 3 }
        row.withUnsafeMutableBufferPointer { embedding.apply($0.baseAddress!, headCount: 2, position: position) }
        return row
    }

    @Test("equal frequency factors are linear scaling; YaRN at factor 1 and linear at factor 1 are plain RoPE")
    func scalingsAgree() {
        func rope(_ scaling: RopeScaling) -> RotaryEmbedding {
            RotaryEmbedding(layout: .neox, dimensions: 16, headDimension: 16, theta: 10000, scaling: scaling)
        }
        for position in [0, 1, 7, 100] {
            #expect(maxAbsDifference(rotated(rope(.frequencyFactors([Float](repeating: 4, count: 8))), position: position),
                                     rotated(rope(.linear(factor: 4)), position: position)) < 1e-6)
            #expect(maxAbsDifference(rotated(rope(.yarn(.init(factor: 1, originalContextLength: 64))), position: position),
                                     rotated(rope(.none), position: position)) < 1e-6)
            #expect(maxAbsDifference(rotated(rope(.linear(factor: 1)), position: position),
                                     rotated(rope(.none), position: position)) == 0)
        }
        // And a scaling that is not the identity does move the rotation.
        #expect(maxAbsDifference(rotated(rope(.linear(factor: 4)), position: 7), rotated(rope(.none), position: 7)) > 0.1)
    }

    @Test("llama3 factors are 1 for short wavelengths, the factor for long ones, smooth between")
    func llama3Factors() {
        let factors = RopeScaling.llama3Factors(theta: 10000, dimensions: 16, factor: 8, lowFrequencyFactor: 1,
                                                highFrequencyFactor: 4, originalContextLength: 64)
        // Wavelengths 2π·10000^(i/8): 6.3, 19.9, 62.8, 199, … against 64/4 = 16 and 64/1 = 64.
        #expect(factors[0] == 1)
        #expect(factors[1] > 1 && factors[1] < 8)
        #expect(factors[2] > factors[1] && factors[2] < 8)
        #expect(factors[3...].allSatisfy { $0 == 8 })
    }
}
