import Foundation
import Testing
@testable import Split

/// A prompt as an editor sends it while a user types and edits, one request after another:
/// it grows, changes near its start, shrinks, grows again and comes back.
private func editedPrompts(from base: String) -> [String] {
    let start = base.index(base.startIndex, offsetBy: min(3, base.count))
    return [
        base,
        base + "    ",                                               // typed at the end
        base + "    return",                                         // typed more
        String(base[..<start]) + "#" + String(base[start...]),       // edited near the start
        String(base.prefix(base.count / 2)),                         // deleted half
        base + "    return",                                         // back to an earlier prompt
    ]
}

private let decodings: [(name: String, decoding: SplitDecoding)] = [
    ("split", .plain),
    ("split-exit", .earlyExit(ExitPolicy(threshold: 0.5, minLayer: 2))),
    ("split-spec", .speculative(draftLength: 3, adaptive: true)),
]

@Suite("Prompt reuse: a kept session continues the next prompt on the edge and the cloud", .serialized)
struct PromptReuseTests {
    @Test("greedy output with prompt reuse equals output without it, over edited prompts, for split, split-exit and split-spec",
          arguments: [0, 1, 2])
    func reuseChangesNoToken(decodingIndex: Int) throws {
        let (name, decoding) = decodings[decodingIndex]
        let cloud = try LoopbackSplit()
        defer { cloud.stop() }
        let reusing = try cloud.generator(splitLayer: 4)
        let fresh = try cloud.generator(splitLayer: 4)
        let cache = PromptCache()
        let reuse = PromptReuse(cache: cache, slot: nil)
        let base = try cloud.heldOutPrompts(1)[0]
        var cachedTotal = 0
        for (index, prompt) in editedPrompts(from: base).enumerated() {
            let request = CompletionRequest(prompt: prompt, maxTokens: 12)
            let expected = try fresh.generate(request, decoding: decoding)
            let report = try reusing.generate(request, promptTokens: nil, decoding: decoding, allowDegraded: false,
                                              bounds: .none, reuse: reuse, onText: { _ in })
            #expect(report.result.tokens == expected.result.tokens, "\(name), prompt \(index): tokens differ with reuse")
            #expect(report.result.text == expected.result.text)
            #expect(report.rebuilds == 0, "\(name), prompt \(index): the cloud did not hold the kept session")
            if index == 0 { #expect(report.cachedPromptTokens == 0) }
            cachedTotal += report.cachedPromptTokens
            #expect(report.cachedPromptTokens < report.result.promptTokens.count)
            if index == 1 || index == 2 {
                // Only the rows after the shared prefix travel.
                #expect(report.bytesSent < expected.bytesSent, "\(name), prompt \(index): \(report.bytesSent) bytes sent with reuse")
            }
        }
        // Growing prompts reuse all but their last token; the early edit reuses almost nothing.
        let baseTokens = cloud.tokenizer.encode(base).count
        #expect(cachedTotal > 2 * baseTokens, "\(name): only \(cachedTotal) prompt tokens reused")
    }

    @Test("a kept session the cloud no longer has (evicted, or the cloud restarted) is rebuilt from the edge's states: same output")
    func evictedCloudSessionIsRebuilt() throws {
        let cloud = try LoopbackSplit()
        defer { cloud.stop() }
        let generator = try cloud.generator(splitLayer: 4)
        let cache = PromptCache()
        let reuse = PromptReuse(cache: cache, slot: 7)
        let base = try cloud.heldOutPrompts(1)[0]
        let first = CompletionRequest(prompt: base, maxTokens: 8)
        _ = try generator.generate(first, promptTokens: nil, decoding: .plain, allowDegraded: false, bounds: .none,
                                   reuse: reuse, onText: { _ in })
        // The cloud forgets the session, as its KV budget's eviction would.
        let prompt = cloud.tokenizer.encode(base + "    ")
        let kept = try #require(cache.take(slot: 7, splitLayer: 4, encoding: .f32, prompt: prompt))
        generator.closeCloudSession(of: kept.entry)
        _ = cache.insert(kept.entry)
        Thread.sleep(forTimeInterval: 0.2)
        let exposition = String(decoding: cloud.server.metrics.registry.emitToBuffer(), as: UTF8.self)
        #expect(MetricsExposition.value(of: "split_cloud_sessions", in: exposition) == 0, "the cloud kept the session")

        let request = CompletionRequest(prompt: base + "    ", maxTokens: 8)
        let report = try generator.generate(request, promptTokens: nil, decoding: .plain, allowDegraded: false, bounds: .none,
                                            reuse: reuse, onText: { _ in })
        let expected = try cloud.generator(splitLayer: 4).generate(request)
        #expect(report.result.tokens == expected.result.tokens)
        #expect(report.rebuilds >= 1, "the cloud still had the session: the test did not evict it")
        #expect(report.cachedPromptTokens > 0, "the edge's own states were not reused")
    }

    @Test("the prompt cache keeps at most its entries and bytes, least recently used out first, one entry per slot")
    func cacheIsBounded() throws {
        let model = try LoopbackSplit()
        defer { model.stop() }
        let cache = PromptCache(limits: .init(maxEntries: 2, maxBytes: 1 << 30))
        func entry(slot: Int?, tokens: [Int32]) -> PromptCache.Entry {
            PromptCache.Entry(sessionID: UInt64(tokens.count), splitLayer: 4, encoding: .f32, slot: slot, endpoint: nil,
                              cache: model.model.makeCache(layers: 0..<4), hidden: [], tokens: tokens, owner: nil)
        }
        #expect(cache.insert(entry(slot: 1, tokens: [1, 2, 3])).isEmpty)
        #expect(cache.insert(entry(slot: 1, tokens: [1, 2, 4])).map(\.tokens) == [[1, 2, 3]])
        #expect(cache.insert(entry(slot: nil, tokens: [5, 6])).isEmpty)
        #expect(cache.insert(entry(slot: nil, tokens: [9, 9, 9, 9])).map(\.tokens) == [[1, 2, 4]])
        // Without a slot: the entry sharing the longest prefix, if it shares at least half the prompt.
        #expect(cache.take(slot: nil, splitLayer: 4, encoding: .f32, prompt: [7, 7, 7]) == nil)
        let hit = try #require(cache.take(slot: nil, splitLayer: 4, encoding: .f32, prompt: [9, 9, 9, 1]))
        #expect(hit.common == 3 && hit.entry.tokens == [9, 9, 9, 9])
        // Another split layer's entry is never continued.
        #expect(cache.take(slot: nil, splitLayer: 2, encoding: .f32, prompt: [5, 6]) == nil)
        let small = PromptCache(limits: .init(maxEntries: 8, maxBytes: 1))
        #expect(small.insert(entry(slot: nil, tokens: [1])).count == 1 && small.count == 0)
    }
}

/// The bundled model split at layer 4 behind `cloud`, served by `workers` edge workers.
private func splitEdge(_ cloud: LoopbackSplit, workers: Int = 2, pacer: (any ComputePacer)? = nil) throws -> EdgeService {
    var configuration = EdgeService.Configuration(modelPath: LoopbackSplit.modelPath, splitLayer: 4, encoding: .f32,
                                                  link: cloud.link, workers: workers)
    configuration.computePacer = pacer
    return try EdgeService(configuration: configuration)
}

@Suite("Prompt reuse and slots through the edge service", .serialized)
struct EdgePromptReuseTests {
    @Test("a slot's next request reuses its prompt (counted in the summary and on /metrics); cache_prompt false computes it all")
    func slotRequestsReuse() async throws {
        let cloud = try LoopbackSplit()
        defer { cloud.stop() }
        let edge = try splitEdge(cloud)
        defer { edge.stop() }
        let base = try cloud.heldOutPrompts(1)[0]
        let strategy = "split(k=4,f32)"
        let first = try await edge.complete(CompletionRequest(prompt: base, maxTokens: 6, strategy: strategy, slot: 3)) { _ in }
        #expect(first.cachedPromptTokenCount == 0)
        var request = CompletionRequest(prompt: base + "  ", maxTokens: 6, strategy: strategy, slot: 3)
        let second = try await edge.complete(request) { _ in }
        let cached = try #require(second.cachedPromptTokenCount)
        #expect(cached >= second.promptTokenCount - 3 && cached < second.promptTokenCount)
        request.cachePrompt = false
        let third = try await edge.complete(request) { _ in }
        #expect(third.cachedPromptTokenCount == 0 && third.text == second.text)
        let metrics = edge.metrics.registry.emitToString()
        #expect(metrics.contains("split_edge_cached_prompt_tokens_total \(cached)"))
        #expect(edge.statistics.cachedPromptTokens == cached)
    }

    @Test("a newer request on the same slot stops the older generation within a step, on the edge and the cloud; the older ends with a cancelled error")
    func newerRequestSupersedesOlder() async throws {
        let cloud = try LoopbackSplit()
        defer { cloud.stop() }
        let edge = try splitEdge(cloud, pacer: SleepingPacer(seconds: 0.02))
        defer { edge.stop() }
        let older = CompletionRequest(prompt: "def main():\n", maxTokens: 200, strategy: "split(k=4,f32)", slot: 5)
        let (texts, textSeen) = AsyncStream.makeStream(of: Void.self)
        let run = Task { try await edge.complete(older) { _ in textSeen.yield() } }
        var iterator = texts.makeAsyncIterator()
        _ = await iterator.next()
        _ = await iterator.next()  // decoding: a round trip per token
        let newer = CompletionRequest(prompt: "def main():\n    ", maxTokens: 3, strategy: "split(k=4,f32)", slot: 5)
        let sent = Date()
        let summary = try await edge.complete(newer) { _ in }
        #expect(summary.completionTokenCount == 3)
        do {
            _ = try await run.value
            Issue.record("the older request completed")
        } catch let error as CompletionError {
            guard case .superseded = error else { throw error }
            #expect(ClientAPIError(serviceError: error).code == .cancelled)
        }
        #expect(Date().timeIntervalSince(sent) < 2, "the newer request waited \(Date().timeIntervalSince(sent)) s")
        let forwardsAtStop = try forwardPasses(of: cloud)
        try await Task.sleep(nanoseconds: 500_000_000)
        // Uncancelled, the older one's 20 ms-paced steps would send ≥ 10 more forward requests.
        #expect(try forwardPasses(of: cloud) == forwardsAtStop)
        #expect(edge.statistics.superseded == 1 && edge.statistics.completed == 1)
        // The newer request continued the session the cancelled one left (kept mid-generation):
        // the same text as computed afresh.
        #expect((summary.cachedPromptTokenCount ?? 0) > 0)
        var fresh = newer
        fresh.cachePrompt = false
        fresh.slot = nil
        #expect(try await edge.complete(fresh) { _ in }.text == summary.text)
        #expect(edge.metrics.registry.emitToString().contains(#"split_edge_cancelled_total{reason="superseded"} 1"#))
    }

    @Test("over HTTP, the older request on a slot ends with 409 and error code cancelled when a newer one arrives; the newer reports its reused tokens")
    func supersededHTTPRequestGetsACancelledError() async throws {
        let cloud = try LoopbackSplit()
        defer { cloud.stop() }
        let edge = try splitEdge(cloud, pacer: SleepingPacer(seconds: 0.02))
        defer { edge.stop() }
        try await withOpenAIServer(edge) { baseURL in
            let older = #"{"prompt":"def main():\n","max_tokens":200,"temperature":0,"strategy":"split(k=4,f32)","id_slot":2}"#
            async let olderAnswer = httpRequest("\(baseURL)/v1/completions", method: "POST", body: Data(older.utf8))
            let running = try await eventually(within: 10) { edge.statistics.active == 1 }
            #expect(running, "the older completion did not start")
            try await Task.sleep(nanoseconds: 200_000_000)
            let newer = #"{"prompt":"def main():\n    ","max_tokens":2,"temperature":0,"strategy":"split(k=4,f32)","id_slot":2}"#
            let (status, body) = try await httpRequest("\(baseURL)/v1/completions", method: "POST", body: Data(newer.utf8))
            #expect(status == 200)
            let usage = try #require(try jsonObject(body)["usage"] as? [String: Any])
            let details = try #require(usage["prompt_tokens_details"] as? [String: Any])
            #expect((details["cached_tokens"] as? Int ?? 0) > 0)
            let (olderStatus, olderBody) = try await olderAnswer
            #expect(olderStatus == 409)
            let error = try #require(try jsonObject(olderBody)["error"] as? [String: Any])
            #expect(error["code"] as? String == "cancelled")
        }
    }

    @Test("requests without a slot never cancel each other")
    func slotlessRequestsDoNotSupersede() async throws {
        let cloud = try LoopbackSplit()
        defer { cloud.stop() }
        let edge = try splitEdge(cloud)
        defer { edge.stop() }
        async let a = edge.complete(CompletionRequest(prompt: "def a():\n", maxTokens: 8, strategy: "split(k=4,f32)")) { _ in }
        async let b = edge.complete(CompletionRequest(prompt: "def b():\n", maxTokens: 8, strategy: "split(k=4,f32)")) { _ in }
        let (first, second) = try await (a, b)
        #expect(first.completionTokenCount > 0 && second.completionTokenCount > 0)
        #expect(edge.statistics.cancelled == 0)
    }
}

