import Foundation
import Testing
@testable import Split

/// A cloud announcing small per-message limits in its hello ack: the edge must cut what it
/// sends to fit them.
@Suite("Split generation within a cloud's message limits", .serialized)
struct LinkLimitsTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    static let prompt = "Hello, Split! the edge and the cloud share one model, layer by layer"

    @Test("a prompt longer than the cloud's rows-per-message or bytes-per-message limit goes in several messages, output unchanged",
          arguments: [WireLimits(maxRowsPerMessage: 2), WireLimits(maxMessageBytes: 256 + 3 * 64 * 4)])
    func chunkedPrefill(limits: WireLimits) throws {
        let file = try ModelFile(path: Self.modelPath)
        let expected = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
            .generate(CompletionRequest(prompt: Self.prompt, maxTokens: 8))
        let keys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey], limits: limits)
        defer { cloud.stop() }
        let generator = try SplitGenerator(
            model: try file.load(), tokenizer: file.tokenizer!, splitLayer: 1, encoding: .f32,
            modelIdentity: try file.identity(),
            link: EdgeLinkConfiguration(endpoints: [cloud.endpoint], clientKeys: keys), context: try ZMQContext())
        let report = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 8))
        #expect(report.result.tokens == expected.tokens)
        // hello, then the prompt in ⌈n/3⌉ or ⌈n/2⌉ messages, then one step per later token.
        let rowsPerMessage = min(limits.maxRowsPerMessage, (limits.maxMessageBytes - 256) / (64 * 4))
        let promptMessages = (expected.promptTokens.count + rowsPerMessage - 1) / rowsPerMessage
        #expect(expected.promptTokens.count > rowsPerMessage)
        #expect(report.roundTrips == 1 + promptMessages + report.result.tokens.count - 1)
        #expect(cloud.server.statistics.malformed == 0)
    }
}
