@testable import Split

/// One representative message of every type, for round-trip and mutation tests.
enum WireSamples {
    static let identity = (try? SHA256Digest(hex: String(repeating: "ab", count: 32)))

    static func activations(_ encoding: ActivationEncoding, rows: Int = 3, hiddenSize: Int = 40) -> EncodedActivations? {
        let values = (0..<rows * hiddenSize).map { Float(($0 * 37) % 101) / 13 - 3.5 }
        return try? EncodedActivations(encoding: encoding, rows: rows, hiddenSize: hiddenSize, values: values)
    }

    static func message(_ type: WireMessageType) -> WireMessage? {
        guard let identity, let tensor = activations(.int8Block32) else { return nil }
        switch type {
        case .hello:
            return .hello(.init(modelIdentity: identity, splitLayer: 4, activationEncoding: .f16, clientName: "edge-é1"))
        case .helloAck:
            return .helloAck(.init(splitLayer: 4, activationEncoding: .f16, cloudLayers: 4..<8, hiddenSize: 256,
                                   limits: WireLimits(maxMessageBytes: 1 << 20, maxRowsPerMessage: 64)))
        case .prefill:
            return .prefill(.init(sessionID: 0xDEAD_BEEF_0102, requestID: 7, startPosition: 0, flags: [], topK: 5,
                                  activations: tensor))
        case .step:
            return .step(.init(sessionID: 9, requestID: 8, startPosition: 12, flags: .allRows, topK: 0, activations: tensor))
        case .result:
            var rows: [WireMessage.ResultRow] = []
            for row in 0..<3 {
                let topK = (0..<row).map { WireMessage.TokenLogprob(tokenID: UInt32(100 + $0), logprob: -Float($0)) }
                let token = WireMessage.TokenLogprob(tokenID: UInt32(row), logprob: -0.25 * Float(row))
                rows.append(WireMessage.ResultRow(token: token, topK: topK))
            }
            return .result(.init(sessionID: 9, requestID: 8, startPosition: 12, rows: rows))
        case .truncate:
            return .truncate(.init(sessionID: 9, length: 13))
        case .close:
            return .close(sessionID: 9)
        case .heartbeat:
            return .heartbeat(.init(kind: .pong, timestampNanoseconds: 123_456_789_012))
        case .error:
            return .error(.init(code: .unknownSession, sessionID: 9, requestID: 8, message: "no session 9"))
        case .rebuildNeeded:
            return .rebuildNeeded(.init(sessionID: 9, requestID: 8, cachedLength: 0))
        case .actions:
            return .actions(.init(sessionID: 9, requestID: 8, horizon: 3, dimensions: 2, values: [0.5, -1, 0.25, 2, -0.125, 1e-3]))
        }
    }
}
