import Testing
@testable import Split

@Suite("Speculative acceptance rules")
struct SpeculativeAcceptanceTests {
    @Test("greedy keeps the agreeing prefix and takes the target's next token")
    func greedy() throws {
        #expect(try SpeculativeAcceptance.greedy(drafts: [5, 6, 7], targets: [5, 6, 7, 8]) == .init(accepted: 3, next: 8))
        #expect(try SpeculativeAcceptance.greedy(drafts: [5, 6, 7], targets: [5, 9, 7, 8]) == .init(accepted: 1, next: 9))
        #expect(try SpeculativeAcceptance.greedy(drafts: [5], targets: [4, 1]) == .init(accepted: 0, next: 4))
        #expect(try SpeculativeAcceptance.greedy(drafts: [], targets: [3]) == .init(accepted: 0, next: 3))
        #expect(throws: CompletionError.self) { try SpeculativeAcceptance.greedy(drafts: [1, 2], targets: [1]) }
    }

    @Test("the sampled rule's first token is distributed as the target's, whatever the draft")
    func sampledMatchesTarget() throws {
        let p: [Float] = [0.5, 0.3, 0.15, 0.05], q: [Float] = [0.1, 0.2, 0.3, 0.4]
        var generator = SplitMix64(state: 42)
        func uniform() -> Float { Float(generator.next() >> 40) / Float(1 << 24) }
        var counts = [0, 0, 0, 0]
        let trials = 40_000
        for _ in 0..<trials {
            let draft = SpeculativeAcceptance.draw(q, uniform: uniform())
            let verdict = try SpeculativeAcceptance.sampled(drafts: [draft], draftProbabilities: [q],
                                                            targetProbabilities: [p, p], uniforms: [uniform(), uniform()])
            counts[Int(verdict.accepted == 1 ? draft : verdict.next)] += 1
        }
        for i in 0..<4 {
            #expect(abs(Double(counts[i]) / Double(trials) - Double(p[i])) < 0.01, "token \(i): \(counts[i])")
        }
    }

    @Test("distribution is what Sampler.pick draws from")
    func distributionMatchesSampler() {
        let logits: [Float] = [1, 3, 2, 0.5, 2.5]
        let parameters = SamplingParameters(temperature: 0.7, topK: 4, topP: 0.9)
        let p = SpeculativeAcceptance.distribution(logits, parameters: parameters)
        #expect(abs(p.reduce(0, +) - 1) < 1e-5)
        #expect(p[3] == 0, "cut by top-k")
        for u in stride(from: Float(0.01), to: 1, by: 0.07) {
            let picked = logits.withUnsafeBufferPointer { Sampler.pick($0, parameters: parameters, uniform: u) }.token
            #expect(p[Int(picked)] > 0)
        }
        #expect(SpeculativeAcceptance.distribution(logits, parameters: .greedy) == [0, 1, 0, 0, 0])
    }

    @Test("the adaptive draft length grows on full acceptance and shrinks on poor acceptance")
    func adaptive() {
        #expect(SpeculativeAcceptance.adaptedDraftLength(4, drafted: 4, accepted: 4, configured: 4) == 5)
        #expect(SpeculativeAcceptance.adaptedDraftLength(8, drafted: 8, accepted: 8, configured: 4) == 8)
        #expect(SpeculativeAcceptance.adaptedDraftLength(4, drafted: 4, accepted: 1, configured: 4) == 3)
        #expect(SpeculativeAcceptance.adaptedDraftLength(1, drafted: 1, accepted: 0, configured: 4) == 1)
        #expect(SpeculativeAcceptance.adaptedDraftLength(4, drafted: 4, accepted: 2, configured: 4) == 4)
    }
}
