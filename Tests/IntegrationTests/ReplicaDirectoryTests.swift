import Foundation
import Testing
@testable import Split

/// An edge configured with a replica *name* (a Kubernetes headless Service) follows the name's
/// addresses as they change, without restarting: new sessions go to the replicas the name lists
/// now, and their output is still the local model's.
@Suite("Replicas found by DNS name", .serialized)
struct ReplicaDirectoryTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")

    @Test("when the name's addresses change, the next session goes to the new replica with unchanged output")
    func newSessionsFollowTheName() throws {
        // Two clouds on the same port of two loopback addresses, as two pods behind one name.
        let first = try InProcessCloud(modelPath: Self.modelPath, allowed: [], curve: false)
        defer { first.stop() }
        let port = try #require(first.endpoint.address.split(separator: ":").last.map(String.init))
        let second = try InProcessCloud(modelPath: Self.modelPath, allowed: [], curve: false, bind: "tcp://127.0.0.2:\(port)")
        defer { second.stop() }

        let records = Locked(["127.0.0.1"])
        let directory = ReplicaDirectory(
            endpoints: [CloudEndpoint(address: "tcp://split-cloud.split.svc.cluster.local:\(port)", serverKey: nil)],
            resolver: { host in
                guard host == "split-cloud.split.svc.cluster.local" else { throw ReplicaDirectoryError.noAddresses(host) }
                return records.current
            })
        directory.refresh()
        var link = EdgeLinkConfiguration(endpoints: directory.configured, clientKeys: nil, heartbeatIntervalSeconds: 0.1,
                                         deadAfterSeconds: 2)
        link.replicaDirectory = directory

        let file = try ModelFile(path: Self.modelPath)
        let request = CompletionRequest(prompt: "Replicas by name: the edge", maxTokens: 10)
        let expected = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!).generate(request).tokens
        let generator = try SplitGenerator(
            model: try file.load(.init(layers: 0..<2, embedding: true, head: true)), tokenizer: file.tokenizer!,
            splitLayer: 2, encoding: .f32, modelIdentity: try SHA256Digest.ofFile(atPath: Self.modelPath),
            link: link, context: try ZMQContext())

        let before = try generator.generate(request)
        #expect(before.result.tokens == expected)
        #expect(generator.connectedEndpoint == "tcp://127.0.0.1:\(port)")

        // The first pod goes away from the name and a second one appears.
        records.withLock { $0 = ["127.0.0.2"] }
        #expect(directory.refresh())
        let after = try generator.generate(request)
        #expect(after.result.tokens == expected)
        #expect(generator.connectedEndpoint == "tcp://127.0.0.2:\(port)")
        #expect(after.failovers == 0)

        // DNS trouble keeps the last good list.
        records.withLock { $0 = [] }
        #expect(!directory.refresh())
        #expect(try generator.generate(request).result.tokens == expected)
        #expect(generator.connectedEndpoint == "tcp://127.0.0.2:\(port)")
    }
}
