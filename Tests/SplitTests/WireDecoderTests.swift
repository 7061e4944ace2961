import Testing
@testable import Split

private func encoded(_ type: WireMessageType) throws -> [UInt8] {
    try WireEncoder().encode(try #require(WireSamples.message(type)))
}

@Test("Random bytes are refused with an error, never decoded")
func randomBytesAreRefused() {
    var random = SplitMix64(state: 42)
    for length in [0, 1, 7, 8, 9, 64, 1000] {
        for _ in 0..<50 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(throws: WireError.self) { try WireDecoder().decode(bytes) }
        }
    }
}

@Test("Every truncation of every message is refused", arguments: WireMessageType.allCases)
func truncationsAreRefused(type: WireMessageType) throws {
    let bytes = try encoded(type)
    for length in 0..<bytes.count {
        #expect(throws: WireError.self) { try WireDecoder().decode(Array(bytes.prefix(length))) }
    }
}

@Test("A message with trailing bytes is refused")
func trailingBytesAreRefused() throws {
    #expect(throws: WireError.trailingBytes(1)) { try WireDecoder().decode(try encoded(.close) + [0]) }
}

@Test("A message of another protocol version is refused as unsupported")
func wrongVersionIsRefused() throws {
    var bytes = try encoded(.heartbeat)
    bytes[4] = 2
    #expect(throws: WireError.unsupportedVersion(2)) { try WireDecoder().decode(bytes) }
    bytes[4] = WireFormat.version
    bytes[5] = 200
    #expect(throws: WireError.unknownType(200)) { try WireDecoder().decode(bytes) }
    bytes[0] = 0
    #expect(throws: WireError.badMagic) { try WireDecoder().decode(bytes) }
}

@Test("A message larger than the limit is refused before it is parsed")
func oversizeMessageIsRefused() throws {
    let bytes = try encoded(.prefill)
    let decoder = WireDecoder(limits: WireLimits(maxMessageBytes: bytes.count - 1))
    #expect(throws: WireError.tooLarge(bytes: bytes.count, limit: bytes.count - 1)) { try decoder.decode(bytes) }
}

/// Writes `value` little-endian at `offset` of `bytes`.
private func patch<T: FixedWidthInteger>(_ bytes: inout [UInt8], at offset: Int, _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { for (i, byte) in $0.enumerated() { bytes[offset + i] = byte } }
}

// Prefill body offsets: session 8, request 16, start 24, positions 28, flags 32, topK 33,
// sampling 35 (temperature, topK, topP, uniform), encoding 51, rows 52, hidden 56,
// payload bytes 60, payload 64.
@Test("Huge row, hidden-size, top-k and payload counts are refused without allocating for them")
func hugeCountsAreRefused() throws {
    let base = try encoded(.prefill)
    var bytes = base
    patch(&bytes, at: 28, UInt32.max)
    #expect(throws: WireError.limitExceeded(field: "request.positionCount", value: Int(UInt32.max), limit: 4096)) {
        try WireDecoder().decode(bytes)
    }
    bytes = base
    patch(&bytes, at: 56, UInt32(1 << 30))
    #expect(throws: WireError.limitExceeded(field: "activations.hiddenSize", value: 1 << 30, limit: 16384)) {
        try WireDecoder().decode(bytes)
    }
    bytes = base
    patch(&bytes, at: 33, UInt16(60000))
    #expect(throws: WireError.limitExceeded(field: "request.topK", value: 60000, limit: 64)) { try WireDecoder().decode(bytes) }
    bytes = base
    patch(&bytes, at: 60, UInt32.max)
    #expect(throws: WireError.self) { try WireDecoder().decode(bytes) }

    // A result claiming 4,096 rows in a few bytes is refused before reserving room for them.
    var result = try encoded(.result)
    patch(&result, at: 28, UInt32(4096))
    #expect(throws: WireError.truncated(field: "result.rows")) { try WireDecoder().decode(result) }
}

@Test("Rows that disagree with the position count are a shape mismatch")
func rowsMustMatchPositions() throws {
    var bytes = try encoded(.prefill)
    patch(&bytes, at: 28, UInt32(2))
    #expect(throws: WireError.shapeMismatch("2 positions but 3 activation rows")) { try WireDecoder().decode(bytes) }
}

@Test("Unknown encodings, error codes, flag bits and invalid UTF-8 are refused")
func invalidValuesAreRefused() throws {
    var bytes = try encoded(.prefill)
    bytes[51] = 9
    #expect(throws: WireError.invalidValue(field: "activations.encoding", value: 9)) { try WireDecoder().decode(bytes) }
    bytes = try encoded(.prefill)
    bytes[32] = 0x80
    #expect(throws: WireError.invalidValue(field: "request.flags", value: 0x80)) { try WireDecoder().decode(bytes) }
    bytes = try encoded(.error)
    patch(&bytes, at: 8, UInt16(999))
    #expect(throws: WireError.invalidValue(field: "error.code", value: 999)) { try WireDecoder().decode(bytes) }
    bytes = try encoded(.error)
    bytes[bytes.count - 1] = 0xFF
    #expect(throws: WireError.invalidUTF8(field: "error.message")) { try WireDecoder().decode(bytes) }
}

@Test("Thousands of random mutations of valid messages never crash the decoder")
func mutationsNeverCrash() throws {
    var random = SplitMix64(state: 7)
    let originals = try WireMessageType.allCases.map(encoded)
    var refused = 0
    for round in 0..<20_000 {
        var bytes = originals[round % originals.count]
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1 where !bytes.isEmpty:
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
            case 2:
                bytes.append(UInt8.random(in: 0...255, using: &random))
            default:
                // Flip header-adjacent count fields to extremes, where the dangerous sizes live.
                if bytes.count >= 12 { bytes[8 + Int.random(in: 0..<4, using: &random)] = 0xFF }
            }
        }
        do {
            let message = try WireDecoder().decode(bytes)
            // Whatever decodes must encode again to the same bytes.
            #expect(try WireEncoder().encode(message) == bytes, "\(message)")
        } catch {
            refused += 1
        }
    }
    #expect(refused > 10_000)
}
