import Foundation
import Testing
@testable import Split

/// Robot policy clients in front of two cloud replicas (in process, CURVE): their sessions
/// spread over both, and when one replica dies each client moves to the other with its answer
/// unchanged.
@Suite("Policy clients over cloud replicas", .serialized)
struct PolicyReplicaTests {
    static let policyPath = TestPaths.repository.appendingPathComponent("models/split-robot-policy.gguf").path

    @Test("policy sessions spread over two replicas; with one killed, every client gets the local policy's chunk from the other")
    func spreadAndFailOver() throws {
        let file = try ModelFile(path: Self.policyPath)
        let model = try file.load()
        let local = try TransformerPolicy(model: model)
        let keys = try CurveKeyPair.generate()
        let clouds = try (0..<2).map { _ in try InProcessCloud(modelPath: Self.policyPath, allowed: [keys.publicKey]) }
        defer { for cloud in clouds { cloud.stop() } }
        let link = EdgeLinkConfiguration(endpoints: clouds.map(\.endpoint), clientKeys: keys, heartbeatIntervalSeconds: 0.1,
                                         deadAfterSeconds: 0.5)
        let context = try ZMQContext()
        // 16 clients with random session ids: all on one replica has probability 2^-15.
        let clients = try (0..<16).map { _ in
            try SplitPolicyClient(model: model, splitLayer: 2, modelIdentity: try file.identity(), link: link, context: context)
        }
        let state = RobotState(position: Point2(0.2, -0.1), velocity: Point2(0.1, 0.3))
        let target = Point2(-0.4, 0.5)
        let expected = try local.chunk(state: state, target: target)
        for client in clients { #expect(try client.chunk(state: state, target: target) == expected) }
        let served = clients.map { client in clouds.firstIndex { $0.endpoint.address == client.lastEndpoint } }
        #expect(served.allSatisfy { $0 != nil })
        #expect(Set(served.compactMap { $0 }) == [0, 1], "every session went to one replica: \(served)")

        clouds[0].stop()
        for client in clients {
            #expect(try client.chunk(state: state, target: target) == expected)
            #expect(client.lastEndpoint == clouds[1].endpoint.address)
        }
    }
}
