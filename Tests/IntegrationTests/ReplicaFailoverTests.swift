import Foundation
import Testing
@testable import Split
@testable import SplitBench

/// Two cloud-node processes as replicas behind eight concurrent edge sessions; one replica is
/// killed with SIGKILL while the sessions are generating. Every session must still finish with
/// exactly the local model's output: its session moves to the other replica and is rebuilt there.
@Suite("Cloud replicas under load", .serialized)
struct ReplicaFailoverTests {
    static let modelPath = DaemonStack.modelPath

    @Test("eight sessions spread over two replicas; kill -9 of one mid-run: every session finishes with the local output")
    func killOneReplicaUnderLoad() throws {
        let keys = try DaemonStack.KeyFiles()
        let ports = [freePort(), freePort()]
        let clouds = try ports.map { try DaemonStack.startCloud(keys, port: $0) }
        defer { clouds.forEach { $0.kill9() } }
        // A few milliseconds each way, so that the sessions are mid-generation when the kill lands.
        let relays = ports.map {
            LinkEmulator(configuration: LinkEmulatorConfiguration(targetPort: UInt16($0), oneWayDelaySeconds: 0.004))
        }
        defer { relays.forEach { $0.stop() } }
        let relayPorts = try relays.map { Int(try $0.start()) }
        let cloudKey = try CurveKeyPair.readPublicKey(file: keys.cloudPublic)
        let edgeKeys = try CurveKeyPair.read(secretFile: keys.edgeSecret)
        let endpoints = relayPorts.map { CloudEndpoint(address: "tcp://127.0.0.1:\($0)", serverKey: cloudKey) }

        let file = try ModelFile(path: Self.modelPath)
        let edge = try file.load(.init(layers: 0..<2, embedding: true, head: true))
        let identity = try SHA256Digest.ofFile(atPath: Self.modelPath)
        let prompts = (0..<8).map { "Replica test \($0): the edge and the cloud" }
        let maxTokens = 24
        let local = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
        let expected = try prompts.map { try local.generate(CompletionRequest(prompt: $0, maxTokens: maxTokens)).tokens }

        // Killed from a generation's thread; the daemon objects are only ever killed there. The
        // victim is whichever replica serves the session that crosses the threshold (sessions go
        // to replicas by hashing their random ids, so neither replica is sure to serve any).
        let victims = UncheckedBox(clouds)
        let tokensSoFar = Locked(0)
        let killed = Locked<Int?>(nil)
        let reports = try concurrently(prompts.count) { index in
            let generator = try SplitGenerator(
                model: edge, tokenizer: file.tokenizer!, splitLayer: 2, encoding: .f32, modelIdentity: identity,
                link: EdgeLinkConfiguration(endpoints: endpoints, clientKeys: edgeKeys, heartbeatIntervalSeconds: 0.1,
                                            deadAfterSeconds: 1),
                context: try ZMQContext())
            return try generator.generate(CompletionRequest(prompt: prompts[index], maxTokens: maxTokens)) { piece in
                guard !piece.tokens.isEmpty else { return }
                // Once a third of all tokens are out, kill the replica serving this session.
                let total = tokensSoFar.withLock { count -> Int in count += piece.tokens.count; return count }
                guard total >= prompts.count * maxTokens / 3,
                      let serving = endpoints.firstIndex(where: { $0.address == generator.connectedEndpoint })
                else { return }
                let first = killed.withLock { victim -> Bool in
                    guard victim == nil else { return false }
                    victim = serving
                    return true
                }
                if first { victims.value[serving].kill9() }
            }
        }
        let victim = try #require(killed.withLock { $0 })
        var failovers = 0
        var servedBy: Set<String> = []
        for index in prompts.indices {
            let report = reports[index]
            #expect(report.result.tokens == expected[index], "session \(index)")
            #expect(!report.degraded)
            failovers += report.failovers
            if let endpoint = report.endpoint { servedBy.insert(endpoint) }
        }
        // Some sessions were on the killed replica and moved to the survivor.
        #expect(failovers > 0)
        #expect(servedBy.contains(endpoints[1 - victim].address))
    }
}
