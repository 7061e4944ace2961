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
}
