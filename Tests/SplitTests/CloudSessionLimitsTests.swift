import Testing
@testable import Split

/// The cloud's bounds on what peers can make it hold, with sessions that have no cache bytes
/// (a split at the last layer), where the KV budget alone would bound nothing.
@Suite("The cloud session store's bounds on sessions")
struct CloudSessionLimitsTests {
    static func prefill(session: UInt64, request: UInt64, start: Int = 0, hiddenSize: Int) throws -> WireMessage {
        let values = [Float](repeating: 0.01, count: hiddenSize)
        let tensor = try EncodedActivations(encoding: .f32, rows: 1, hiddenSize: hiddenSize, values: values)
        let forward = WireMessage.ForwardRequest(sessionID: session, requestID: request, startPosition: UInt32(start), activations: tensor)
        return start == 0 ? .prefill(forward) : .step(forward)
    }

    @Test("a peer past maxSessionsPerPeer, or all peers past maxSessions, evicts the least recently used session instead of growing without end")
    func sessionCountsAreBounded() throws {
        let model = try RandomModel.model(.llama, layers: 2)
        let c = model.configuration
        let identity = try #require(WireSamples.identity)
        let store = CloudSessionStore(model: model, modelIdentity: identity, maxSessionsPerPeer: 3, maxSessions: 5)
        let (alice, bob): ([UInt8], [UInt8]) = ([1], [2])
        for peer in [alice, bob] {
            _ = store.handle(.hello(.init(modelIdentity: identity, splitLayer: UInt32(c.layerCount), activationEncoding: .f32,
                                          clientName: "t")), from: peer)
        }
        for session in UInt64(1)...6 {
            guard case .result? = store.handle(try Self.prefill(session: session, request: session, hiddenSize: c.hiddenSize), from: alice) else {
                Issue.record("session \(session) was not served")
                return
            }
        }
        #expect(store.sessionCount == 3)
        #expect(store.evictions == 3)
        // The oldest sessions went first: session 1 must be rebuilt, session 6 continues.
        #expect(store.handle(try Self.prefill(session: 1, request: 7, start: 1, hiddenSize: c.hiddenSize), from: alice)
            == .rebuildNeeded(.init(sessionID: 1, requestID: 7, cachedLength: 0)))
        guard case .result? = store.handle(try Self.prefill(session: 6, request: 8, start: 1, hiddenSize: c.hiddenSize), from: alice) else {
            Issue.record("the newest session did not continue")
            return
        }
        // Bob's sessions count against the total of 5.
        for session in UInt64(1)...3 {
            _ = store.handle(try Self.prefill(session: session, request: session, hiddenSize: c.hiddenSize), from: bob)
        }
        #expect(store.sessionCount == 5)
    }
}
