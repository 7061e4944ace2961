import Foundation
import Testing
@testable import Split

/// What the cloud refuses from peers that are not who they should be, and the Prometheus
/// counters an operator sees it in: unauthenticated connections (ZAP denials), messages for a
/// session another client created, replayed requests, and oversized frames.
@Suite("A cloud node refuses and counts unauthenticated, foreign, replayed and oversized messages", .serialized)
struct PeerSecurityTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    static let limits = WireLimits(maxMessageBytes: 1 << 20)

    let file: ModelFile
    let identity: SHA256Digest
    let hiddenSize: Int

    init() throws {
        file = try ModelFile(path: Self.modelPath)
        identity = try file.identity()
        hiddenSize = file.configuration.hiddenSize
    }

    /// The value of a series in the cloud's Prometheus exposition.
    func metric(_ cloud: InProcessCloud, _ series: String) -> Double? {
        MetricsExposition.value(of: series, in: String(decoding: cloud.server.metrics.registry.emitToBuffer(), as: UTF8.self))
    }

    @Test("a client whose key is not on the allow-list gets no answer, and each refused handshake is counted in split_cloud_authentication_denied_total")
    func unauthenticatedPeersAreDeniedAndCounted() throws {
        let allowed = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [allowed.publicKey], limits: Self.limits)
        defer { cloud.stop() }
        #expect(metric(cloud, "split_cloud_authentication_denied_total") == 0)
        let stranger = try RawPeer(cloud: cloud, keys: try CurveKeyPair.generate())
        #expect(try stranger.exchange(try WireBytes.hello(identity, k: 1), timeoutSeconds: 1) == nil)
        // The stranger's socket keeps retrying the handshake; every attempt is refused.
        #expect(eventually { cloud.server.statistics.authenticationDenied >= 1 })
        #expect((metric(cloud, "split_cloud_authentication_denied_total") ?? 0) >= 1)
        #expect(cloud.server.statistics.received == 0, "nothing from the stranger reached the cloud")
        // The allowed client is served meanwhile.
        let friend = try RawPeer(cloud: cloud, keys: allowed)
        guard case .helloAck? = try friend.exchange(try WireBytes.hello(identity, k: 1)) else {
            Issue.record("the allow-listed client got no helloAck")
            return
        }
    }

    @Test("a key removed from the allow-list is cut off at once, its open connection included; a key added is admitted without a restart")
    func allowListChangesApplyToOpenConnections() throws {
        let (kept, revoked, added) = (try CurveKeyPair.generate(), try CurveKeyPair.generate(), try CurveKeyPair.generate())
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [kept.publicKey, revoked.publicKey], limits: Self.limits)
        defer { cloud.stop() }
        let keptPeer = try RawPeer(cloud: cloud, keys: kept)
        let revokedPeer = try RawPeer(cloud: cloud, keys: revoked)
        #expect(try revokedPeer.pingAnswered())
        #expect(try keptPeer.pingAnswered())
        let denied = cloud.server.statistics.authenticationDenied
        cloud.server.setAllowedClients([kept.publicKey, added.publicKey])
        #expect(try !revokedPeer.pingAnswered(timeoutSeconds: 0.5), "the revoked key's open connection is still served")
        #expect(cloud.server.statistics.authenticationDenied > denied)
        #expect(try keptPeer.pingAnswered())
        #expect(try RawPeer(cloud: cloud, keys: added).pingAnswered(timeoutSeconds: 5))
    }

    @Test("a client that takes over another client's routing id after it left can neither continue nor read its sessions; each attempt is counted")
    func sessionsAreBoundToTheClientThatMadeThem() throws {
        let alice = try CurveKeyPair.generate()
        let mallory = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [alice.publicKey, mallory.publicKey], limits: Self.limits)
        defer { cloud.stop() }
        let routingID = Array("edge-7".utf8)

        // Alice says hello and prefills session 5 (three positions), then goes away.
        do {
            let peer = try RawPeer(endpoint: cloud.endpoint, keys: alice, routingID: routingID)
            guard case .helloAck? = try peer.exchange(try WireBytes.hello(identity, k: 1)),
                  case .result? = try peer.exchange(try WireBytes.forward(session: 5, request: 1, start: 0, rows: 3, hiddenSize: hiddenSize))
            else {
                Issue.record("alice's session was not served")
                return
            }
        }
        // Mallory connects with the same routing id (libzmq refuses a duplicate while alice's
        // connection lingers, so retry until alice's is gone) and asks for the next position.
        let step = try WireBytes.forward(session: 5, request: 2, start: 3, rows: 1, hiddenSize: hiddenSize, step: true)
        var answer: WireMessage?
        var mallorysPeer: RawPeer?
        for _ in 0..<50 where answer == nil {
            let peer = try RawPeer(endpoint: cloud.endpoint, keys: mallory, routingID: routingID)
            answer = try peer.exchange(step, timeoutSeconds: 0.3)
            mallorysPeer = peer
        }
        let peer = try #require(mallorysPeer)
        // Without a hello of her own the connection's settings are alice's: refused, counted.
        #expect(answer?.errorCode == .rebuildRequired, "\(String(describing: answer))")
        #expect(cloud.server.statistics.foreignSession == 1)
        #expect(metric(cloud, "split_cloud_foreign_session_messages_total") == 1)
        // With a hello, the connection starts afresh: alice's session is not there to continue.
        guard case .helloAck? = try peer.exchange(try WireBytes.hello(identity, k: 1)) else {
            Issue.record("no helloAck for mallory")
            return
        }
        #expect(try peer.exchange(step) == .rebuildNeeded(.init(sessionID: 5, requestID: 2, cachedLength: 0)))
    }

    @Test("a request replayed inside a session (an id not after the last one) is refused and counted, and the session goes on exactly")
    func replayedRequestsAreRefused() throws {
        let keys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey], limits: Self.limits)
        defer { cloud.stop() }
        let peer = try RawPeer(cloud: cloud, keys: keys)
        guard case .helloAck? = try peer.exchange(try WireBytes.hello(identity, k: 1)) else {
            Issue.record("no helloAck")
            return
        }
        let prefill = try WireBytes.forward(session: 9, request: 10, start: 0, rows: 3, hiddenSize: hiddenSize)
        guard case .result(let first)? = try peer.exchange(prefill) else {
            Issue.record("no result for the prefill")
            return
        }
        let step = try WireBytes.forward(session: 9, request: 11, start: 3, rows: 1, hiddenSize: hiddenSize, step: true)
        guard case .result(let stepResult)? = try peer.exchange(step) else {
            Issue.record("no result for the step")
            return
        }
        // The same prefill again (same id): it would roll the cache back to 0.
        guard case .error(let replay)? = try peer.exchange(prefill) else {
            Issue.record("the replayed prefill was not refused")
            return
        }
        #expect(replay.code == .malformedMessage && replay.requestID == 10)
        // An older id with a new body is a replay too.
        let older = try WireBytes.forward(session: 9, request: 5, start: 4, rows: 1, hiddenSize: hiddenSize, step: true)
        #expect(try peer.exchange(older)?.errorCode == .malformedMessage)
        #expect(cloud.server.statistics.replayed == 2)
        #expect(metric(cloud, "split_cloud_replayed_requests_total") == 2)
        // The session was not disturbed: the next step continues from position 4.
        let next = try WireBytes.forward(session: 9, request: 12, start: 4, rows: 1, hiddenSize: hiddenSize, step: true)
        guard case .result(let nextResult)? = try peer.exchange(next) else {
            Issue.record("the session did not continue after the refused replays")
            return
        }
        #expect(nextResult.startPosition == 4 && first.rows.count == 1 && stepResult.rows.count == 1)
    }

    @Test("a frame past the message limit is refused with limitExceeded and counted in split_cloud_messages_oversized_total; one past the transport cap drops only that connection")
    func oversizedFramesAreRefusedAndCounted() throws {
        let keys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey], limits: Self.limits)
        defer { cloud.stop() }
        let peer = try RawPeer(cloud: cloud, keys: keys)
        let reply = try peer.exchange([UInt8](repeating: 0x53, count: Self.limits.maxMessageBytes + 1), timeoutSeconds: 5)
        #expect(reply?.errorCode == .limitExceeded, "\(String(describing: reply))")
        #expect(cloud.server.statistics.oversized == 1)
        #expect(metric(cloud, "split_cloud_messages_oversized_total") == 1)
        #expect(metric(cloud, "split_cloud_messages_malformed_total") == 1)
        // Past the cap libzmq drops the connection before allocating; the peer reconnects.
        try peer.send([UInt8](repeating: 0x53, count: Self.limits.transportFrameCap + 1))
        #expect(try peer.nextReply(timeoutSeconds: 0.5) == nil)
        #expect(try peer.pingAnswered(timeoutSeconds: 5))
        #expect(cloud.server.statistics.oversized == 1)
    }
}
