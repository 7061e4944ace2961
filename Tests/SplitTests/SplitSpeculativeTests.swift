import Foundation
import Testing
@testable import Split

/// split-spec on the bundled model (8 layers) through a real in-process cloud node.
@Suite("split-spec: exact speculative decoding across the split", .serialized)
struct SplitSpeculativeTests {
    @Test("greedy split-spec gives the full model's tokens on held-out prompts", arguments: [2, 4])
    func greedyEqualsLocal(splitLayer k: Int) throws {
        let split = try LoopbackSplit()
        let local = try LocalGenerator(model: split.model, tokenizer: split.tokenizer)
        let generator = try split.generator(splitLayer: k)
        var drafted = 0, accepted = 0, roundTrips = 0, tokens = 0
        for prompt in try split.heldOutPrompts(8) {
            let request = CompletionRequest(prompt: prompt, maxTokens: 24)
            let expected = try local.generate(request)
            let report = try generator.generate(request, decoding: .speculative(draftLength: 4, adaptive: false))
            #expect(report.result.tokens == expected.tokens, "k=\(k) prompt …\(prompt.suffix(40))")
            #expect(report.result.finishReason == expected.finishReason)
            #expect(report.provenance.count == report.result.tokens.count)
            drafted += report.counts.drafted
            accepted += report.counts.acceptedDrafts
            roundTrips += report.roundTrips
            tokens += report.result.tokens.count
        }
        // Some drafts are kept, so fewer round trips than tokens (plain split needs one each).
        #expect(drafted > 0 && accepted > 0)
        #expect(roundTrips < tokens)
    }

    @Test("adaptive split-spec is still exact")
    func adaptiveEqualsLocal() throws {
        let split = try LoopbackSplit()
        let local = try LocalGenerator(model: split.model, tokenizer: split.tokenizer)
        let generator = try split.generator(splitLayer: 4)
        for prompt in try split.heldOutPrompts(3) {
            let request = CompletionRequest(prompt: prompt, maxTokens: 32)
            let report = try generator.generate(request, decoding: .speculative(draftLength: 2, adaptive: true))
            #expect(report.result.tokens == (try local.generate(request)).tokens)
        }
    }

    @Test("with sampling, split-spec's tokens come from the cloud's distributions, not the drafts'")
    func sampledRuns() throws {
        let split = try LoopbackSplit()
        let local = try LocalGenerator(model: split.model, tokenizer: split.tokenizer)
        let generator = try split.generator(splitLayer: 4)
        var drafted = 0, rejected = 0
        for prompt in try split.heldOutPrompts(4) {
            // top-k 1 makes the full model's distribution one-hot on its greedy token: the
            // speculative rule must then accept a draft only where it equals that token and
            // resample every rejected position to it, so the output is the full model's greedy
            // text whatever the seed, while the exit head's drafts (at layer 4) often differ.
            let oneHot = CompletionRequest(prompt: prompt, maxTokens: 16,
                                           sampling: SamplingParameters(temperature: 0.8, topK: 1, seed: 7))
            let report = try generator.generate(oneHot, decoding: .speculative(draftLength: 3, adaptive: false))
            let greedy = try local.generate(CompletionRequest(prompt: prompt, maxTokens: 16))
            #expect(report.result.tokens == greedy.tokens, "prompt …\(prompt.suffix(40))")
            drafted += report.counts.drafted
            rejected += report.counts.drafted - report.counts.acceptedDrafts
        }
        #expect(drafted > 0 && rejected > 0, "the rule was exercised: \(drafted) drafted, \(rejected) rejected")

        // Full distributions: the same seed gives the same tokens (the cloud's draws are seeded).
        let request = CompletionRequest(prompt: try split.heldOutPrompts(1)[0], maxTokens: 16,
                                        sampling: SamplingParameters(temperature: 0.8, topK: 40, seed: 7))
        let first = try generator.generate(request, decoding: .speculative(draftLength: 3, adaptive: false))
        let again = try generator.generate(request, decoding: .speculative(draftLength: 3, adaptive: false))
        #expect(first.result.tokens.count > 0)
        #expect(first.result.tokens == again.result.tokens, "the same seed gives the same tokens")
    }

    @Test("the cloud's cache after split-spec holds the full model's keys and values, no rejected draft's")
    func cloudCacheMatchesReference() throws {
        let split = try LoopbackSplit()
        let generator = try split.generator(splitLayer: 2)
        generator.closesSessions = false
        let request = CompletionRequest(prompt: try split.heldOutPrompts(2)[1], maxTokens: 20)
        let report = try generator.generate(request, decoding: .speculative(draftLength: 4, adaptive: false))
        split.stop()
        #expect(report.counts.drafted > report.counts.acceptedDrafts, "some drafts were rejected (else nothing was rolled back)")
        let cloud = try #require(split.store.session(id: generator.lastSessionID))
        try CacheComparison.expectMatchesReference(cloud.cache, length: cloud.length, tokens: report.result.promptTokens + report.result.tokens,
                                                   model: split.model, layers: 2..<8)
    }
}

/// Compares a part's KV cache with one built by running the whole model on the true tokens.
enum CacheComparison {
    /// Positions compared: those the cache holds, up to the last token's (the last token itself
    /// was never sent). Positions of rejected drafts that a later step overwrote are among them;
    /// rows past that, of a final rejected draft, are dropped by the close and never attended to.
    static func expectMatchesReference(_ cache: KVCache, length: Int, tokens: [Int32], model: TransformerModel,
                                       layers: Range<Int>, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let compared = min(length, tokens.count - 1)
        #expect(compared > 0, sourceLocation: sourceLocation)
        let reference = model.makeCache()
        var hidden = try model.embed(Array(tokens.prefix(compared)), startPosition: 0)
        try model.forward(&hidden, rows: compared, startPosition: 0, layers: 0..<model.configuration.layerCount,
                          cache: reference, workspace: Workspace())
        let width = cache.kvWidth
        var worst: Float = 0
        for layer in layers {
            #expect(cache.length(layer: layer) >= compared, sourceLocation: sourceLocation)
            for (got, want) in [(cache.keys(layer: layer), reference.keys(layer: layer)),
                                (cache.values(layer: layer), reference.values(layer: layer))] {
                for i in 0..<(compared * width) {
                    worst = max(worst, abs(got[i] - want[i]) / max(1, abs(want[i])))
                }
            }
        }
        #expect(worst < 1e-3, "largest relative KV difference \(worst)", sourceLocation: sourceLocation)
    }
}
