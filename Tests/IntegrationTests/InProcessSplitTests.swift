import Foundation
import Testing
@testable import Split

@Suite("Split generation over ZeroMQ (in process)", .serialized)
struct InProcessSplitTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    static let prompt = "Hello, Split! the edge"

    func localTokens(_ file: ModelFile, maxTokens: Int) throws -> [Int32] {
        let generator = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
        return try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: maxTokens)).tokens
    }

    func splitGenerator(_ file: ModelFile, k: Int, endpoints: [CloudEndpoint], keys: CurveKeyPair?,
                        encoding: ActivationEncoding = .f32, deadAfter: Double = 2) throws -> SplitGenerator {
        let edge = try file.load(.init(layers: 0..<k, embedding: true, head: true))
        return try SplitGenerator(
            model: edge, tokenizer: file.tokenizer!, splitLayer: k, encoding: encoding,
            modelIdentity: try SHA256Digest.ofFile(atPath: Self.modelPath),
            link: EdgeLinkConfiguration(endpoints: endpoints, clientKeys: keys, heartbeatIntervalSeconds: 0.1,
                                        deadAfterSeconds: deadAfter),
            context: try ZMQContext())
    }

    @Test("greedy split generation equals local generation for every split layer", arguments: 0...3)
    func splitEqualsLocal(k: Int) throws {
        let file = try ModelFile(path: Self.modelPath)
        let expected = try localTokens(file, maxTokens: 12)
        let edgeKeys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [edgeKeys.publicKey])
        defer { cloud.stop() }
        let generator = try splitGenerator(file, k: k, endpoints: [cloud.endpoint], keys: edgeKeys)
        let report = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 12))
        #expect(report.result.tokens == expected)
        #expect(!report.degraded)
        // hello, the prompt, then one step per token after the first: one round trip per token.
        #expect(report.roundTrips == report.result.tokens.count + 1)
        #expect(report.rebuilds == 0)
    }

    @Test("the edge keeps its cloud connection between completions: later ones pay no hello, output unchanged")
    func connectionKept() throws {
        let file = try ModelFile(path: Self.modelPath)
        let expected = try localTokens(file, maxTokens: 8)
        let edgeKeys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [edgeKeys.publicKey])
        defer { cloud.stop() }
        let generator = try splitGenerator(file, k: 2, endpoints: [cloud.endpoint], keys: edgeKeys)
        let request = CompletionRequest(prompt: Self.prompt, maxTokens: 8)
        let first = try generator.generate(request)
        #expect(first.result.tokens == expected)
        #expect(first.roundTrips == first.result.tokens.count + 1)  // hello, prompt, a step per later token
        for _ in 0..<2 {
            let again = try generator.generate(request)
            #expect(again.result.tokens == expected)
            #expect(again.roundTrips == again.result.tokens.count)  // no hello: the connection was kept
            #expect(again.rebuilds == 0)
        }
        #expect(cloud.server.statistics.connections == 1)  // three completions, one connection
    }

    @Test("a kept connection the cloud has since dropped says hello again and gives the same output")
    func keptConnectionForgotten() throws {
        let file = try ModelFile(path: Self.modelPath)
        let expected = try localTokens(file, maxTokens: 6)
        let edgeKeys = try CurveKeyPair.generate()
        // One connection at a time: a second edge's hello drops the first edge's record.
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [edgeKeys.publicKey], maxPeers: 1)
        defer { cloud.stop() }
        let request = CompletionRequest(prompt: Self.prompt, maxTokens: 6)
        let edge = try splitGenerator(file, k: 1, endpoints: [cloud.endpoint], keys: edgeKeys)
        let other = try splitGenerator(file, k: 1, endpoints: [cloud.endpoint], keys: edgeKeys)
        #expect(try edge.generate(request).result.tokens == expected)
        #expect(try other.generate(request).result.tokens == expected)
        let report = try edge.generate(request)
        #expect(report.result.tokens == expected)
        #expect(!report.degraded && report.failovers == 0)
        #expect(report.rebuilds == 1)  // the cloud no longer knew the connection: hello, then the prompt again
    }

    @Test("an edge whose key is not on the allow-list gets nothing")
    func strangerGetsNothing() throws {
        let file = try ModelFile(path: Self.modelPath)
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [try CurveKeyPair.generate().publicKey])
        defer { cloud.stop() }
        let generator = try splitGenerator(file, k: 1, endpoints: [cloud.endpoint], keys: try CurveKeyPair.generate(), deadAfter: 0.5)
        #expect(throws: CompletionError.self) { _ = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 4)) }
    }

    @Test("an edge without CURVE gets nothing from a CURVE cloud")
    func plaintextGetsNothing() throws {
        let file = try ModelFile(path: Self.modelPath)
        let edgeKeys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [edgeKeys.publicKey])
        defer { cloud.stop() }
        let plaintext = CloudEndpoint(address: cloud.endpoint.address, serverKey: nil)
        let generator = try splitGenerator(file, k: 1, endpoints: [plaintext], keys: nil, deadAfter: 0.5)
        #expect(throws: CompletionError.self) { _ = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 4)) }
    }

    @Test("with no cloud reachable, a request that allows it gets a degraded edge-only answer")
    func degradedAnswer() throws {
        let file = try ModelFile(path: Self.modelPath)
        let dead = CloudEndpoint(address: "tcp://127.0.0.1:1", serverKey: nil)
        let generator = try splitGenerator(file, k: 2, endpoints: [dead], keys: nil, deadAfter: 0.3)
        #expect(throws: CompletionError.self) { _ = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 3)) }
        let report = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 3), allowDegraded: true)
        #expect(report.degraded)
        #expect(report.result.tokens.count == 3)
    }

    @Test("a session evicted by the cloud is rebuilt from the edge's hidden states, output unchanged")
    func evictionRebuild() throws {
        let file = try ModelFile(path: Self.modelPath)
        let expected = try localTokens(file, maxTokens: 10)
        let edgeKeys = try CurveKeyPair.generate()
        // A budget of zero evicts every other session on each request.
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [edgeKeys.publicKey], memoryBudgetBytes: 0)
        defer { cloud.stop() }
        let a = try splitGenerator(file, k: 1, endpoints: [cloud.endpoint], keys: edgeKeys)
        let b = try splitGenerator(file, k: 2, endpoints: [cloud.endpoint], keys: edgeKeys)
        // While a is mid-generation, b's session takes the cloud's whole budget and evicts a's.
        var pieces = 0
        var other: SplitReport?
        let report = try a.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 10)) { _ in
            pieces += 1
            if pieces == 3 { other = try? b.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 10)) }
        }
        #expect(report.result.tokens == expected)
        #expect(other?.result.tokens == expected)
        #expect(report.rebuilds >= 1)
    }
}
