import Foundation
import Testing
@testable import Split

/// One cloud node serving many edges at once: their requests share forward passes, long prompts
/// advance in chunks, sessions evicted under the KV budget are rebuilt, and every session's
/// output is still exactly what the whole model gives locally.
@Suite("Continuous batching on the cloud", .serialized)
struct CloudBatchingTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    static let prompts = (0..<8).map { index in
        "Session \(index): " + String(repeating: "the edge and the cloud ", count: 1 + index % 4)
    }

    /// Generates every prompt at once, one thread and one edge connection per session.
    static func generateConcurrently(cloud: InProcessCloud, splitLayer: Int, maxTokens: Int) throws -> [SplitReport] {
        let file = try ModelFile(path: modelPath)
        let edge = try file.load(.init(layers: 0..<splitLayer, embedding: true, head: true))
        let identity = try SHA256Digest.ofFile(atPath: modelPath)
        let endpoint = cloud.endpoint
        return try concurrently(prompts.count) { index in
            let generator = try SplitGenerator(
                model: edge, tokenizer: file.tokenizer!, splitLayer: splitLayer, encoding: .f32, modelIdentity: identity,
                link: EdgeLinkConfiguration(endpoints: [endpoint], clientKeys: nil, deadAfterSeconds: 10),
                context: try ZMQContext())
            return try generator.generate(CompletionRequest(prompt: prompts[index], maxTokens: maxTokens))
        }
    }

    static func localTokens(maxTokens: Int) throws -> [[Int32]] {
        let file = try ModelFile(path: modelPath)
        let generator = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
        return try prompts.map { try generator.generate(CompletionRequest(prompt: $0, maxTokens: maxTokens)).tokens }
    }

    static func sample(_ cloud: InProcessCloud, _ name: String) -> Double {
        MetricsExposition.value(of: name, in: cloud.server.metrics.registry.emitToString()) ?? .nan
    }

    @Test("eight concurrent sessions share forward passes, prompts run in chunks, and each output equals local generation")
    func concurrentSessionsEqualLocal() throws {
        let maxTokens = 12
        let expected = try Self.localTokens(maxTokens: maxTokens)
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [], curve: false, prefillChunkRows: 4)
        defer { cloud.stop() }
        let reports = try Self.generateConcurrently(cloud: cloud, splitLayer: 2, maxTokens: maxTokens)
        for (index, report) in reports.enumerated() {
            #expect(report.result.tokens == expected[index], "session \(index)")
        }
        let passes = Self.sample(cloud, "split_cloud_forward_passes_total")
        let positions = Self.sample(cloud, "split_cloud_positions_total")
        let requests = Double(reports.reduce(0) { $0 + $1.roundTrips - 1 })  // minus each hello
        // Fewer passes than requests: requests of different sessions ran together.
        #expect(passes < requests, "passes \(passes), requests \(requests)")
        #expect(positions / passes > 1.5, "rows per pass \(positions / passes)")
    }

    @Test("under a KV budget that holds two sessions, eight concurrent sessions are evicted and rebuilt, outputs unchanged")
    func budgetEvictsAndRebuilds() throws {
        let maxTokens = 10
        let expected = try Self.localTokens(maxTokens: maxTokens)
        let file = try ModelFile(path: Self.modelPath)
        let c = file.configuration
        // KV bytes of one session of the cloud's layers at the context length (what a cache reserves).
        let perSession = try file.load(.init(layers: 2..<c.layerCount, embedding: false, head: true))
            .makeCache(layers: 2..<c.layerCount, maxPositions: c.maxPositions)
        try perSession.reserve(upTo: 64)
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [], curve: false,
                                       memoryBudgetBytes: 2 * perSession.byteCount)
        defer { cloud.stop() }
        let reports = try Self.generateConcurrently(cloud: cloud, splitLayer: 2, maxTokens: maxTokens)
        for (index, report) in reports.enumerated() {
            #expect(report.result.tokens == expected[index], "session \(index)")
        }
        let evictions = Self.sample(cloud, "split_cloud_evictions_total")
        let rebuilds = Self.sample(cloud, "split_cloud_rebuilds_total")
        #expect(evictions > 0)
        #expect(rebuilds > 0)
        #expect(Double(reports.reduce(0) { $0 + $1.rebuilds }) == rebuilds)
        // The budget held at every moment, not only between requests: a request that would
        // overflow it waits while the budget is held by sessions being computed.
        let peak = Self.sample(cloud, "split_cloud_kv_peak_bytes")
        #expect(peak > 0)
        #expect(peak <= Double(2 * perSession.byteCount), "peak \(peak), budget \(2 * perSession.byteCount)")
    }
}
