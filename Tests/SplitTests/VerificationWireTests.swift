import Testing
@testable import Split

@Suite("Speculative verification on the wire and in the cloud's session store")
struct VerificationWireTests {
    static func result(widths: [Int?]) -> WireMessage {
        .result(.init(sessionID: 1, requestID: 2, startPosition: 3, rows: widths.enumerated().map { index, width in
            .init(token: .init(tokenID: UInt32(index), logprob: -0.5),
                  probabilities: width.map { w in (0..<w).map { Float($0 + index) / Float(w * (w + widths.count)) } })
        }))
    }

    @Test("a result carries one distribution per row and reads back unchanged")
    func distributionsRoundTrip() throws {
        let message = Self.result(widths: [16, 16, 16])
        #expect(try WireDecoder().decode(WireEncoder().encode(message)) == message)
        let plain = Self.result(widths: [nil, nil])
        #expect(try WireDecoder().decode(WireEncoder().encode(plain)) == plain)
    }

    @Test("distributions on some rows only, or of different widths, are not sent")
    func unevenDistributionsRefused() {
        #expect(throws: WireError.self) { try WireEncoder().encode(Self.result(widths: [16, nil])) }
        #expect(throws: WireError.self) { try WireEncoder().encode(Self.result(widths: [16, 8])) }
    }

    @Test("a distribution section that does not fit the rows, or holds a non-probability, is refused")
    func badDistributionsRefused() throws {
        var bytes = try WireEncoder().encode(Self.result(widths: [4, 4]))
        #expect(throws: WireError.self) { try WireDecoder().decode(Array(bytes.dropLast(4))) }
        // The first probability becomes 2.0.
        let firstValue = bytes.count - 8 * 4
        bytes.replaceSubrange(firstValue..<(firstValue + 4), with: [0, 0, 0, 0x40])
        #expect(throws: WireError.self) { try WireDecoder().decode(bytes) }
        #expect(WireMessage.ForwardFlags.known.contains(.distributions))
    }

    @Test("a step that starts inside the cloud's cache rolls it back: the cache then equals one that never saw the rejected rows")
    func stepTruncatesRejectedRows() throws {
        let model = try RandomModel.model(.llama, layers: 4)
        let c = model.configuration, d = c.hiddenSize, k = 2
        let identity = try #require(WireSamples.identity)
        let store = CloudSessionStore(model: model, modelIdentity: identity)
        let peer: [UInt8] = [1]
        _ = store.handle(.hello(.init(modelIdentity: identity, splitLayer: UInt32(k), activationEncoding: .f32, clientName: "t")), from: peer)
        var rng = SplitMix64(state: 3)
        func rows(_ n: Int) -> [Float] { (0..<(n * d)).map { _ in Float(rng.next() >> 40) / Float(1 << 24) - 0.5 } }
        func step(_ values: [Float], at start: Int, id: UInt64) throws -> WireMessage.ForwardResult {
            let tensor = try values.withUnsafeBufferPointer {
                try EncodedActivations(encoding: .f32, rows: values.count / d, hiddenSize: d, values: $0)
            }
            let reply = store.handle(.step(.init(sessionID: 9, requestID: id, startPosition: UInt32(start), flags: [.allRows, .distributions],
                                                 activations: tensor)), from: peer)
            guard case .result(let result)? = reply else { throw CompletionError.internalError("no result: \(String(describing: reply))") }
            return result
        }
        let prefix = rows(3), drafts = rows(4), accepted = rows(2)
        _ = try step(prefix, at: 0, id: 1)
        let verified = try step(drafts, at: 3, id: 2)
        #expect(verified.rows.count == 4 && verified.rows.allSatisfy { $0.probabilities?.count == c.vocabularySize })
        // Keep one draft, then continue at position 4 with other rows: the store drops 4…6.
        let kept = Array(drafts[0..<d])
        _ = try step(accepted, at: 4, id: 3)
        let cache = try #require(store.session(id: 9))
        #expect(cache.length == 6)

        let reference = model.makeCache(layers: k..<c.layerCount)
        var all = prefix + kept + accepted
        try model.forward(&all, rows: 6, startPosition: 0, layers: k..<c.layerCount, cache: reference, workspace: Workspace())
        for layer in k..<c.layerCount {
            for i in 0..<(6 * c.kvWidth) {
                #expect(abs(cache.cache.keys(layer: layer)[i] - reference.keys(layer: layer)[i]) < 1e-4)
                #expect(abs(cache.cache.values(layer: layer)[i] - reference.values(layer: layer)[i]) < 1e-4)
            }
        }
    }
}
