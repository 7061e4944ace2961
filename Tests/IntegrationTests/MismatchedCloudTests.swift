import Foundation
import Testing
@testable import Split

/// Clouds that are up but refuse this edge's hello: another model, or not the layers it needs.
@Suite("Split generation past clouds that refuse the edge's hello", .serialized)
struct MismatchedCloudTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    static let prompt = "Hello, Split! the edge"

    enum Refusal: String, CaseIterable, Sendable {
        /// The cloud serves another model (say, half-way through a rolling upgrade).
        case otherModel
        /// The cloud loaded only layers [2, 3) (`--min-split-layer 2`); the edge splits at 1.
        case missingLayers
    }

    func refusingCloud(_ refusal: Refusal, keys: CurveKeyPair) throws -> InProcessCloud {
        switch refusal {
        case .otherModel:
            return try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey],
                                      identity: try SHA256Digest(bytes: [UInt8](repeating: 7, count: 32)))
        case .missingLayers:
            return try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey], layers: 2..<3)
        }
    }

    func generator(_ endpoints: [CloudEndpoint], keys: CurveKeyPair) throws -> SplitGenerator {
        let file = try ModelFile(path: Self.modelPath)
        return try SplitGenerator(
            model: try file.load(), tokenizer: file.tokenizer!, splitLayer: 1, encoding: .f32, modelIdentity: try file.identity(),
            link: EdgeLinkConfiguration(endpoints: endpoints, clientKeys: keys, heartbeatIntervalSeconds: 0.1, deadAfterSeconds: 1),
            context: try ZMQContext())
    }

    @Test("a session whose cloud refuses its hello (other model, missing layers) is served by the next one, output unchanged",
          arguments: Refusal.allCases)
    func nextCloudServes(refusal: Refusal) throws {
        let file = try ModelFile(path: Self.modelPath)
        let expected = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
            .generate(CompletionRequest(prompt: Self.prompt, maxTokens: 8)).tokens
        let keys = try CurveKeyPair.generate()
        let refusing = try refusingCloud(refusal, keys: keys)
        defer { refusing.stop() }
        let good = try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey])
        defer { good.stop() }
        // Sessions spread over the two clouds by their id: generate until one has gone to the
        // refusing cloud first (each does with probability 1/2) and failed over from it.
        let generator = try generator([refusing.endpoint, good.endpoint], keys: keys)
        var failedOver = false
        for _ in 0..<30 where !failedOver {
            let report = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 8))
            #expect(report.result.tokens == expected)
            #expect(report.endpoint == good.endpoint.address)
            #expect(report.failovers <= 1)
            failedOver = report.failovers == 1
        }
        #expect(failedOver)
        // The refusing cloud is now tried last: the next session goes straight to the good one.
        #expect(try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 8)).failovers == 0)
    }

    @Test("with only a refusing cloud, a request fails naming the refusal, or gets a degraded answer when it allows one",
          arguments: Refusal.allCases)
    func onlyRefusingCloud(refusal: Refusal) throws {
        let keys = try CurveKeyPair.generate()
        let refusing = try refusingCloud(refusal, keys: keys)
        defer { refusing.stop() }
        let generator = try generator([refusing.endpoint], keys: keys)
        let request = CompletionRequest(prompt: Self.prompt, maxTokens: 4)
        do {
            _ = try generator.generate(request)
            Issue.record("a refusing cloud served the request")
        } catch CompletionError.cloudUnavailable(let message) {
            #expect(message.contains(refusal == .otherModel ? "modelMismatch" : "limitExceeded"), "\(message)")
        }
        let report = try generator.generate(request, allowDegraded: true)
        #expect(report.degraded)
        #expect(report.result.tokens.count == 4)
    }
}
