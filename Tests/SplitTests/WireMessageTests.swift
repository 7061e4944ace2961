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
