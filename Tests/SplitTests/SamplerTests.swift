import Foundation
import Testing
@testable import Split

@Suite("Sampling")
struct SamplerTests {
    let logits: [Float] = [2.0, 1.0, 0.5, -1.0, 3.0]

    @Test("greedy takes the most likely token and reports its log-probability")
    func greedy() {
        var sampler = Sampler(.greedy)
        let picked = logits.withUnsafeBufferPointer { sampler.sample($0) }
        #expect(picked.token == 4)
        let expected = 3.0 - log(logits.map { exp(Double($0)) }.reduce(0, +))
        #expect(abs(Double(picked.logProbability) - expected) < 1e-5)
    }

    @Test("the same seed gives the same tokens")
    func seeded() {
        let parameters = SamplingParameters(temperature: 1, seed: 42)
        var a = Sampler(parameters), b = Sampler(parameters)
        let first = (0..<50).map { _ in logits.withUnsafeBufferPointer { a.sample($0).token } }
        let second = (0..<50).map { _ in logits.withUnsafeBufferPointer { b.sample($0).token } }
        #expect(first == second)
        #expect(Set(first).count > 1)
    }

    @Test("top-k 2 never picks outside the two most likely tokens")
    func topK() {
        var sampler = Sampler(SamplingParameters(temperature: 1, topK: 2, seed: 1))
        let tokens = Set((0..<200).map { _ in logits.withUnsafeBufferPointer { sampler.sample($0).token } })
        #expect(tokens == [0, 4])
    }

    @Test("sampling frequencies follow the softmax at temperature 1")
    func frequencies() {
        var sampler = Sampler(SamplingParameters(temperature: 1, seed: 9))
        var counts = [Int](repeating: 0, count: logits.count)
        let draws = 20_000
        for _ in 0..<draws { counts[Int(logits.withUnsafeBufferPointer { sampler.sample($0).token })] += 1 }
        let total = logits.map { exp(Double($0)) }.reduce(0, +)
        for i in logits.indices {
            let expected = exp(Double(logits[i])) / total
            #expect(abs(Double(counts[i]) / Double(draws) - expected) < 0.02)
        }
    }

    @Test("argmax is the first largest logit, never a NaN, and 0 when nothing is above −∞, at every length")
    func argmaxMatchesAScan() {
        var random = SplitMix64(state: 5)
        let special: [Float] = [.nan, -.infinity, .infinity, 0, -0.0, 1, 1, 2]
        for count in 1...70 {
            for trial in 0..<20 {
                let values: [Float] = (0..<count).map { _ in
                    let draw = Int(random.next() % 16)
                    // Every third trial holds only −∞ and NaN.
                    if trial % 3 == 0 { return draw < 8 ? -.infinity : .nan }
                    return draw < special.count ? special[draw] : Float(draw % 5)
                }
                var expected = 0
                var best = -Float.infinity
                for (index, value) in values.enumerated() where value > best {
                    best = value
                    expected = index
                }
                #expect(values.withUnsafeBufferPointer { Sampler.argmax($0) } == expected, "\(values)")
            }
        }
    }
}
