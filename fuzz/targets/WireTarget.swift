/// Wire decoder: any bytes decode or throw `WireError`; what decodes re-encodes, and the
/// re-encoding decodes to the same bytes again (encoder and decoder agree on every field).
func fuzzWireDecoder(_ bytes: UnsafeRawBufferPointer) {
    let limits = WireLimits(maxMessageBytes: 1 << 20, maxRowsPerMessage: 256, maxHiddenSize: 1024)
    guard let message = try? WireDecoder(limits: limits).decode(bytes) else { return }
    let encoded: [UInt8]
    do { encoded = try WireEncoder(limits: limits).encode(message) } catch {
        fuzzCheck(false, "decoded \(message.type) but cannot re-encode it: \(error)")
        return
    }
    do {
        let again = try WireDecoder(limits: limits).decode(encoded)
        let reencoded = try WireEncoder(limits: limits).encode(again)
        fuzzCheck(reencoded == encoded, "\(message.type) does not survive a second round trip")
    } catch {
        fuzzCheck(false, "re-encoded \(message.type) does not decode: \(error)")
    }
    if let request = message.forwardRequest {
        // Decoding the payload into floats must stay inside the shape the header promised.
        do {
            let values = request.activations.decoded()
            fuzzCheck(values.count == request.activations.rows * request.activations.hiddenSize, "activation count")
        }
    }
}
