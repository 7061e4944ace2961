/// Turns `WireMessage`s into bytes (one ZeroMQ frame each), refusing anything the peer's
/// `limits` would reject, so that a node finds its own mistakes before the peer does.
public struct WireEncoder: Sendable {
    /// The limits every encoded message must fit.
    public var limits: WireLimits

    /// Makes an encoder for a peer with `limits`.
    public init(limits: WireLimits = WireLimits()) {
        self.limits = limits
    }

    /// Encodes `message` with the header of `WireFormat.version`.
    /// - Throws: `WireError.limitExceeded` or `.tooLarge` when a count, string or the whole
    ///   message is past the limits.
    public func encode(_ message: WireMessage) throws(WireError) -> [UInt8] {
        var writer = WireWriter(capacity: WireFormat.headerSize + estimatedBodySize(message))
        writer.raw(WireFormat.magic)
        writer.u8(WireFormat.version)
        writer.u8(message.type.rawValue)
        writer.u16(0)  // reserved
        switch message {
        case .hello(let hello):
            try checkString("hello.clientName", hello.clientName)
            writer.u8(hello.protocolVersion)
            writer.raw(hello.modelIdentity.bytes)
            writer.u32(hello.splitLayer)
            writer.u8(hello.activationEncoding.rawValue)
            writer.string(hello.clientName)
        case .helloAck(let ack):
            writer.u8(ack.protocolVersion)
            writer.u32(ack.splitLayer)
            writer.u8(ack.activationEncoding.rawValue)
            writer.u32(ack.cloudLayers.lowerBound)
            writer.u32(ack.cloudLayers.upperBound)
            writer.u32(ack.hiddenSize)
            for value in [ack.limits.maxMessageBytes, ack.limits.maxRowsPerMessage, ack.limits.maxHiddenSize,
                          ack.limits.maxTopK, ack.limits.maxStringLength] {
                writer.u32(UInt32(clamping: value))
            }
        case .prefill(let request), .step(let request):
            try limits.check("request.rows", request.activations.rows, limit: limits.maxRowsPerMessage)
            try limits.check("request.hiddenSize", request.activations.hiddenSize, limit: limits.maxHiddenSize)
            try limits.check("request.topK", Int(request.topK), limit: limits.maxTopK)
            writer.u64(request.sessionID)
            writer.u64(request.requestID)
            writer.u32(request.startPosition)
            writer.count32(request.positionCount)
            writer.u8(request.flags.rawValue)
            writer.u16(request.topK)
            writer.f32(request.sampling.temperature)
            writer.u32(request.sampling.topK)
            writer.f32(request.sampling.topP)
            writer.f32(request.sampling.uniform)
            writer.u8(request.activations.encoding.rawValue)
            writer.count32(request.activations.rows)
            writer.count32(request.activations.hiddenSize)
            writer.count32(request.activations.payload.count)
            writer.raw(request.activations.payload)
        case .result(let result):
            try limits.check("result.rows", result.rows.count, limit: limits.maxRowsPerMessage)
            writer.u64(result.sessionID)
            writer.u64(result.requestID)
            writer.u32(result.startPosition)
            writer.count32(result.rows.count)
            for row in result.rows {
                try limits.check("result.topK", row.topK.count, limit: limits.maxTopK)
                writer.u32(row.token.tokenID)
                writer.f32(row.token.logprob)
                writer.u16(UInt16(row.topK.count))
                for entry in row.topK {
                    writer.u32(entry.tokenID)
                    writer.f32(entry.logprob)
                }
            }
            // Optional trailing section: one distribution of the same width per row.
            let widths = Set(result.rows.map { $0.probabilities?.count ?? 0 })
            if let width = widths.first, width > 0 {
                guard widths.count == 1 else { throw .shapeMismatch("result distributions of different widths") }
                try limits.check("result.distributionWidth", width, limit: WireLimits.maxDistributionWidth)
                writer.count32(width)
                for row in result.rows { for p in row.probabilities ?? [] { writer.f32(p) } }
            } else if widths.count > 1 {
                throw .shapeMismatch("result distributions on some rows only")
            }
        case .truncate(let truncate):
            writer.u64(truncate.sessionID)
            writer.u32(truncate.length)
        case .close(let sessionID):
            writer.u64(sessionID)
        case .heartbeat(let heartbeat):
            writer.u8(heartbeat.kind.rawValue)
            writer.u64(heartbeat.timestampNanoseconds)
        case .error(let report):
            try checkString("error.message", report.message)
            writer.u16(report.code.rawValue)
            writer.u64(report.sessionID)
            writer.u64(report.requestID)
            writer.string(report.message)
        case .rebuildNeeded(let notice):
            writer.u64(notice.sessionID)
            writer.u64(notice.requestID)
            writer.u32(notice.cachedLength)
        case .actions(let chunk):
            try limits.check("actions.horizon", Int(chunk.horizon), limit: limits.maxRowsPerMessage)
            try limits.check("actions.dimensions", Int(chunk.dimensions), limit: limits.maxHiddenSize)
            guard chunk.values.count == Int(chunk.horizon) * Int(chunk.dimensions) else {
                throw .shapeMismatch("\(chunk.horizon)×\(chunk.dimensions) actions but \(chunk.values.count) values")
            }
            writer.u64(chunk.sessionID)
            writer.u64(chunk.requestID)
            writer.u32(chunk.horizon)
            writer.u32(chunk.dimensions)
            for value in chunk.values { writer.f32(value) }
        }
        guard writer.bytes.count <= limits.maxMessageBytes else {
            throw .tooLarge(bytes: writer.bytes.count, limit: limits.maxMessageBytes)
        }
        return writer.bytes
    }

    private func checkString(_ field: String, _ value: String) throws(WireError) {
        try limits.check(field, value.utf8.count, limit: limits.maxStringLength)
    }

    private func estimatedBodySize(_ message: WireMessage) -> Int {
        switch message {
        case .prefill(let request), .step(let request): return 56 + request.activations.payload.count
        case .result(let result):
            return 24 + result.rows.reduce(0) { $0 + 10 + 8 * $1.topK.count + 4 * ($1.probabilities?.count ?? 0) } + 4
        case .actions(let chunk): return 24 + 4 * chunk.values.count
        default: return 64
        }
    }
}
