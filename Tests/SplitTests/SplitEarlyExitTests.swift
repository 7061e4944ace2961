import Foundation
import Testing
@testable import Split

/// split-exit on the bundled model through a real in-process cloud node.
@Suite("split-exit: edge answers with exact deferred caches", .serialized)
struct SplitEarlyExitTests {
    @Test("the cloud's cache after split-exit equals one built from the true hidden states", arguments: [(4, 4), (4, 2)])
    func cloudCacheFromTrueStates(splitLayer k: Int, minLayer: Int) throws {
        let split = try LoopbackSplit()
        let generator = try split.generator(splitLayer: k)
        generator.closesSessions = false
        let request = CompletionRequest(prompt: try split.heldOutPrompts(3)[2], maxTokens: 40)
        let report = try generator.generate(request, decoding: .earlyExit(ExitPolicy(threshold: 0.5, minLayer: minLayer)))
        split.stop()
        let edgeAnswered = report.provenance.filter { $0.side == .edge }
        #expect(!edgeAnswered.isEmpty, "some tokens were answered on the edge")
        #expect(report.provenance.contains { $0.side == .cloud }, "and some by the cloud")
        if minLayer < k { #expect(edgeAnswered.contains { $0.layer < k }, "some below k, whose edge layers ran later") }
        let cloud = try #require(split.store.session(id: generator.lastSessionID))
        let tokens = report.result.promptTokens + report.result.tokens
        // The cloud saw every position up to its last request: edge-answered ones included.
        #expect(cloud.length > report.result.promptTokens.count)
        try CacheComparison.expectMatchesReference(cloud.cache, length: cloud.length, tokens: tokens, model: split.model,
                                                   layers: k..<8)
    }

    @Test("a threshold of 1 never exits and gives the full model's tokens")
    func neverExiting() throws {
        let split = try LoopbackSplit()
        let local = try LocalGenerator(model: split.model, tokenizer: split.tokenizer)
        let generator = try split.generator(splitLayer: 3)
        let request = CompletionRequest(prompt: try split.heldOutPrompts(1)[0], maxTokens: 16)
        let report = try generator.generate(request, decoding: .earlyExit(ExitPolicy(threshold: 1.01, minLayer: 1)))
        #expect(report.result.tokens == (try local.generate(request)).tokens)
        #expect(report.counts.edgeAnswered == 0)
    }

    @Test("exit tokens are the exit head's own greedy tokens at the layer that answered")
    func exitTokensAreExitHeads() throws {
        let split = try LoopbackSplit()
        let generator = try split.generator(splitLayer: 4)
        let request = CompletionRequest(prompt: try split.heldOutPrompts(2)[0], maxTokens: 24)
        let report = try generator.generate(request, decoding: .earlyExit(ExitPolicy(threshold: 0.6, minLayer: 2)))
        // Replay with the whole model, reading the exit at the recorded layer for edge tokens
        // and the final head for cloud tokens: every token must be reproduced.
        let tokens = report.result.promptTokens + report.result.tokens
        let model = split.model, d = model.configuration.hiddenSize
        let cache = model.makeCache(), workspace = Workspace()
        var hidden = try model.embed(tokens, startPosition: 0)
        var perLayer: [[Float]] = [hidden]
        for layer in 0..<8 {
            try model.forward(&hidden, rows: tokens.count, startPosition: 0, layers: layer..<(layer + 1), cache: cache, workspace: workspace)
            perLayer.append(hidden)
        }
        for (i, origin) in report.provenance.enumerated() {
            let position = report.result.promptTokens.count + i - 1
            let row = Array(perLayer[origin.layer][(position * d)..<((position + 1) * d)])
            let logits = try model.logits(row, rows: 1, workspace: workspace)
            #expect(logits.withUnsafeBufferPointer { Int32(Sampler.argmax($0)) } == report.result.tokens[i], "token \(i) from \(origin)")
        }
    }

    @Test("a controller that says stop ends the completion with finish reason controller_stop")
    func controllerStops() throws {
        let split = try LoopbackSplit()
        let d = split.model.configuration.hiddenSize
        let stop = ExitController.Head(weight: Array(repeating: 0, count: 3 * (d + 2)), bias: [0, 0, 10])
        let controller = ExitController(hiddenSize: d, heads: [4: stop], exitThreshold: 0.5, stopThreshold: 0.9)
        let generator = try split.generator(splitLayer: 4)
        let request = CompletionRequest(prompt: try split.heldOutPrompts(1)[0], maxTokens: 16)
        let report = try generator.generate(request, decoding: .earlyExit(ExitPolicy(threshold: 0.5, minLayer: 4, controller: controller)))
        #expect(report.result.finishReason == .controllerStop)
        #expect(report.result.tokens.count == 1, "only the prompt's token, from the cloud, before the first check")
    }
}
