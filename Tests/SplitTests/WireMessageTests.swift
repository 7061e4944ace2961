import Testing
@testable import Split

@Test("Every wire message decodes to exactly the message that was encoded", arguments: WireMessageType.allCases)
func everyMessageRoundTrips(type: WireMessageType) throws {
    let message = try #require(WireSamples.message(type))
    let bytes = try WireEncoder().encode(message)
    #expect(Array(bytes.prefix(4)) == WireFormat.magic)
    #expect(bytes[4] == WireFormat.version)
    #expect(bytes[5] == type.rawValue)
    #expect(try WireDecoder().decode(bytes) == message)
}

@Test("A prefill carries every activation encoding unchanged", arguments: ActivationEncoding.allCases)
func prefillCarriesEveryEncoding(encoding: ActivationEncoding) throws {
    let tensor = try #require(WireSamples.activations(encoding, rows: 2, hiddenSize: 70))
    let message = WireMessage.prefill(.init(sessionID: 1, requestID: 2, startPosition: 3, activations: tensor))
    #expect(try WireDecoder().decode(WireEncoder().encode(message)) == message)
}

@Test("The encoder refuses a message the peer's limits would reject")
func encoderRefusesOverLimit() throws {
    let tensor = try #require(WireSamples.activations(.f32, rows: 8, hiddenSize: 16))
    let encoder = WireEncoder(limits: WireLimits(maxRowsPerMessage: 4))
    #expect(throws: WireError.limitExceeded(field: "request.rows", value: 8, limit: 4)) {
        try encoder.encode(.step(.init(sessionID: 1, requestID: 1, startPosition: 0, activations: tensor)))
    }
    let longName = String(repeating: "x", count: 5000)
    let identity = try #require(WireSamples.identity)
    #expect(throws: WireError.self) {
        try WireEncoder().encode(.hello(.init(modelIdentity: identity, splitLayer: 1, activationEncoding: .f32, clientName: longName)))
    }
}

@Test("An error report is cut to 1 KiB without splitting a character")
func errorReportIsClipped() {
    let report = WireMessage.ErrorReport(code: .internal, message: String(repeating: "é", count: 2000))
    #expect(report.message.utf8.count <= WireMessage.ErrorReport.maxMessageBytes)
    #expect(report.message.allSatisfy { $0 == "é" })
}

@Test("A decoding failure maps to the error code a peer is answered with")
func decodingFailuresMapToReplyCodes() {
    #expect(WireError.unsupportedVersion(9).replyCode == .unsupportedVersion)
    #expect(WireError.tooLarge(bytes: 10, limit: 5).replyCode == .limitExceeded)
    #expect(WireError.badMagic.replyCode == .malformedMessage)
}

@Test("A heartbeat and a one-row f32 step have exactly the bytes docs/PROTOCOL.md gives")
func goldenBytesMatchTheProtocolDocument() throws {
    let ping = try WireEncoder().encode(.heartbeat(.init(kind: .ping, timestampNanoseconds: 0x0102_0304_0506_0708)))
    #expect(ping == [0x53, 0x50, 0x4C, 0x54, 1, 8, 0, 0, 0, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01])

    let tensor = try EncodedActivations(encoding: .f32, rows: 1, hiddenSize: 1, values: [1.0])
    let step = try WireEncoder().encode(.step(.init(sessionID: 2, requestID: 3, startPosition: 4, flags: .allRows,
                                                    topK: 5, activations: tensor)))
    let expected: [UInt8] = [0x53, 0x50, 0x4C, 0x54, 1, 4, 0, 0]
        + [2, 0, 0, 0, 0, 0, 0, 0] + [3, 0, 0, 0, 0, 0, 0, 0]  // session, request
        + [4, 0, 0, 0] + [1, 0, 0, 0] + [1] + [5, 0]  // start, positions, flags, topK
        + [0, 0, 0, 0] + [0, 0, 0, 0] + [0, 0, 0x80, 0x3F] + [0, 0, 0, 0]  // greedy sampling: 0, 0, 1.0, 0
        + [0] + [1, 0, 0, 0] + [1, 0, 0, 0] + [4, 0, 0, 0]  // encoding, rows, hidden, payload bytes
        + [0x00, 0x00, 0x80, 0x3F]  // 1.0 as f32
    #expect(step == expected)
}
