import Foundation
import Logging
import Testing
@testable import Split

/// Both daemons built in this process by the builders `edge-node serve` and `cloud-node serve`
/// call, served through their service groups, then shut down gracefully.
@Suite("Daemons built from their configurations", .serialized)
struct DaemonBuilderTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")

    @Test("an edge and a cloud built by the daemon builders serve a split completion exactly, and a graceful shutdown stops every part")
    func buildServeAndShutDown() async throws {
        var logger = Logger(label: "split.test")
        logger.logLevel = .critical
        let cloudKeys = try CurveKeyPair.generate()
        let edgeKeys = try CurveKeyPair.generate()
        let cloud = try CloudDaemon.build(
            CloudDaemonConfiguration(modelPath: Self.modelPath, memoryBudgetBytes: 64 << 20,
                                     server: .init(endpoints: ["tcp://127.0.0.1:*"], serverKeys: cloudKeys,
                                                   allowedClients: [edgeKeys.publicKey])),
            logger: logger, shutdownSignals: [])
        let cloudEndpoint = CloudEndpoint(address: cloud.server.boundEndpoints[0], serverKey: cloudKeys.publicKey)
        let socketPath = NSTemporaryDirectory() + "split-builder-\(UUID().uuidString).sock"
        let edge = try EdgeDaemon.build(
            EdgeDaemonConfiguration(
                service: .init(modelPath: Self.modelPath, splitLayer: 1, encoding: .f32,
                               link: EdgeLinkConfiguration(endpoints: [cloudEndpoint], clientKeys: edgeKeys), workers: 1),
                listen: ["ipc://\(socketPath)"]),
            logger: logger, shutdownSignals: [])
        let cloudRun = Task { try await cloud.group.run() }
        let edgeRun = Task { try await edge.group.run() }

        let request = CompletionRequest(prompt: "Hello, Split!", maxTokens: 12)
        let file = try ModelFile(path: Self.modelPath)
        let expected = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!).generate(request)
        let client = try EdgeClient(endpoint: "ipc://\(socketPath)")
        guard case .done(let summary, _) = try client.complete(request) else {
            Issue.record("the built edge did not complete the request")
            return
        }
        #expect(summary.text == expected.text)
        #expect(summary.strategy.hasPrefix("split(k=1"))
        #expect(cloud.server.statistics.replies > 0, "the cloud computed the split")

        await edge.group.triggerGracefulShutdown()
        try await edgeRun.value
        await cloud.group.triggerGracefulShutdown()
        try await cloudRun.value
        #expect(!cloud.server.isRunning)
        // The stopped edge refuses new work instead of queueing it for workers that are gone.
        await #expect(throws: CompletionError.self) {
            _ = try await edge.service.complete(request) { _ in }
        }
    }
}
