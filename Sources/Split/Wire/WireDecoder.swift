import Foundation

/// Turns received bytes back into a `WireMessage`, checking every size, count, code and shape
/// against `limits` before allocating for it. Anything a peer sends (random bytes, a wrong
/// version, huge counts) ends as a `WireError`, never as a crash or a large allocation.
public struct WireDecoder: Sendable {
    /// The limits every accepted message must fit.
    public var limits: WireLimits

    /// Makes a decoder that accepts messages within `limits`.
    public init(limits: WireLimits = WireLimits()) {
        self.limits = limits
    }

    /// Decodes one message (one ZeroMQ frame).
    /// - Throws: `WireError` saying what is wrong and in which field.
    public func decode(_ bytes: some ContiguousBytes) throws(WireError) -> WireMessage {
        let result: Result<WireMessage, WireError> = bytes.withUnsafeBytes { raw in
            do throws(WireError) { return .success(try decode(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Decodes one message from raw memory.
    /// - Throws: `WireError` saying what is wrong and in which field.
    public func decode(_ raw: UnsafeRawBufferPointer) throws(WireError) -> WireMessage {
        guard raw.count <= limits.maxMessageBytes else { throw .tooLarge(bytes: raw.count, limit: limits.maxMessageBytes) }
        var reader = WireReader(raw)
        guard try reader.raw("header.magic", count: 4) == WireFormat.magic else { throw .badMagic }
        let version = try reader.u8("header.version")
        guard version == WireFormat.version else { throw .unsupportedVersion(version) }
        let typeCode = try reader.u8("header.type")
        guard let type = WireMessageType(rawValue: typeCode) else { throw .unknownType(typeCode) }
        let reserved = try reader.u16("header.reserved")
        guard reserved == 0 else { throw .invalidValue(field: "header.reserved", value: UInt64(reserved)) }

        let message = try body(of: type, &reader)
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }
        return message
    }

    private func body(of type: WireMessageType, _ reader: inout WireReader) throws(WireError) -> WireMessage {
        switch type {
        case .hello:
            let version = try reader.u8("hello.protocolVersion")
            let identity = try reader.raw("hello.modelIdentity", count: 32)
            let splitLayer = try reader.u32("hello.splitLayer")
            let encoding = try activationEncoding("hello.activationEncoding", &reader)
            let name = try reader.string("hello.clientName", maxLength: limits.maxStringLength)
            let digest: SHA256Digest
            do { digest = try SHA256Digest(bytes: identity) } catch { throw .truncated(field: "hello.modelIdentity") }
            return .hello(.init(protocolVersion: version, modelIdentity: digest, splitLayer: splitLayer,
                                activationEncoding: encoding, clientName: name))
        case .helloAck:
            let version = try reader.u8("helloAck.protocolVersion")
            let splitLayer = try reader.u32("helloAck.splitLayer")
            let encoding = try activationEncoding("helloAck.activationEncoding", &reader)
            let lower = try reader.u32("helloAck.cloudLayerStart")
            let upper = try reader.u32("helloAck.cloudLayerEnd")
            guard lower <= upper else { throw .invalidValue(field: "helloAck.cloudLayerEnd", value: UInt64(upper)) }
            let hiddenSize = try reader.u32("helloAck.hiddenSize")
            var values: [Int] = []
            for field in ["maxMessageBytes", "maxRowsPerMessage", "maxHiddenSize", "maxTopK", "maxStringLength"] {
                let value = try reader.u32("helloAck.limits.\(field)")
                guard value > 0 else { throw .invalidValue(field: "helloAck.limits.\(field)", value: 0) }
                values.append(Int(value))
            }
            // Strings carry a 16-bit length, so a larger string limit is meaningless.
            guard values[4] <= Int(UInt16.max) else {
                throw .invalidValue(field: "helloAck.limits.maxStringLength", value: UInt64(values[4]))
            }
            let peerLimits = WireLimits(maxMessageBytes: values[0], maxRowsPerMessage: values[1], maxHiddenSize: values[2],
                                        maxTopK: values[3], maxStringLength: values[4])
            return .helloAck(.init(protocolVersion: version, splitLayer: splitLayer, activationEncoding: encoding,
                                   cloudLayers: lower..<upper, hiddenSize: hiddenSize, limits: peerLimits))
        case .prefill:
            return .prefill(try forwardRequest(&reader))
        case .step:
            return .step(try forwardRequest(&reader))
        case .result:
            return .result(try forwardResult(&reader))
        case .truncate:
            return .truncate(.init(sessionID: try reader.u64("truncate.sessionID"), length: try reader.u32("truncate.length")))
        case .close:
            return .close(sessionID: try reader.u64("close.sessionID"))
        case .heartbeat:
            let kindCode = try reader.u8("heartbeat.kind")
            guard let kind = WireMessage.Heartbeat.Kind(rawValue: kindCode) else {
                throw .invalidValue(field: "heartbeat.kind", value: UInt64(kindCode))
            }
            return .heartbeat(.init(kind: kind, timestampNanoseconds: try reader.u64("heartbeat.timestamp")))
        case .error:
            let code = try reader.u16("error.code")
            guard let errorCode = WireMessage.ErrorCode(rawValue: code) else {
                throw .invalidValue(field: "error.code", value: UInt64(code))
            }
            let sessionID = try reader.u64("error.sessionID")
            let requestID = try reader.u64("error.requestID")
            let text = try reader.string("error.message", maxLength: limits.maxStringLength)
            return .error(.init(code: errorCode, sessionID: sessionID, requestID: requestID, message: text))
        case .rebuildNeeded:
            return .rebuildNeeded(.init(sessionID: try reader.u64("rebuildNeeded.sessionID"),
                                        requestID: try reader.u64("rebuildNeeded.requestID"),
                                        cachedLength: try reader.u32("rebuildNeeded.cachedLength")))
        case .actions:
            let sessionID = try reader.u64("actions.sessionID")
            let requestID = try reader.u64("actions.requestID")
            let horizon = try reader.count32("actions.horizon", limit: limits.maxRowsPerMessage)
            let dimensions = try reader.count32("actions.dimensions", limit: limits.maxHiddenSize)
            guard horizon >= 1, dimensions >= 1 else {
                throw .shapeMismatch("an action chunk needs at least one action of one value, not \(horizon)×\(dimensions)")
            }
            // Both are bounded by the limits, so the product cannot overflow; check before reserving.
            let count = horizon * dimensions
            guard count * 4 == reader.remaining else {
                throw .shapeMismatch("\(horizon)×\(dimensions) actions need \(count * 4) bytes, message has \(reader.remaining)")
            }
            var values: [Float] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try reader.f32("actions.value")) }
            return .actions(.init(sessionID: sessionID, requestID: requestID, horizon: UInt32(horizon),
                                  dimensions: UInt32(dimensions), values: values))
        }
    }

    private func forwardRequest(_ reader: inout WireReader) throws(WireError) -> WireMessage.ForwardRequest {
        let sessionID = try reader.u64("request.sessionID")
        let requestID = try reader.u64("request.requestID")
        let start = try reader.u32("request.startPosition")
        let positions = try reader.count32("request.positionCount", limit: limits.maxRowsPerMessage)
        let flagBits = try reader.u8("request.flags")
        let flags = WireMessage.ForwardFlags(rawValue: flagBits)
        guard WireMessage.ForwardFlags.known.isSuperset(of: flags) else {
            throw .invalidValue(field: "request.flags", value: UInt64(flagBits))
        }
        let topK = try reader.u16("request.topK")
        try limits.check("request.topK", Int(topK), limit: limits.maxTopK)
        let sampling = WireMessage.Sampling(
            temperature: try reader.f32("sampling.temperature"), topK: try reader.u32("sampling.topK"),
            topP: try reader.f32("sampling.topP"), uniform: try reader.f32("sampling.uniform"))
        guard sampling.temperature.isFinite, sampling.temperature >= 0, sampling.temperature <= 100 else {
            throw .invalidValue(field: "sampling.temperature", value: UInt64(sampling.temperature.bitPattern))
        }
        guard sampling.topP.isFinite, sampling.topP > 0, sampling.topP <= 1 else {
            throw .invalidValue(field: "sampling.topP", value: UInt64(sampling.topP.bitPattern))
        }
        guard sampling.uniform.isFinite, sampling.uniform >= 0, sampling.uniform < 1 else {
            throw .invalidValue(field: "sampling.uniform", value: UInt64(sampling.uniform.bitPattern))
        }
        let encoding = try activationEncoding("activations.encoding", &reader)
        let rows = try reader.count32("activations.rows", limit: limits.maxRowsPerMessage)
        let hiddenSize = try reader.count32("activations.hiddenSize", limit: limits.maxHiddenSize)
        guard rows >= 1, hiddenSize >= 1 else {
            throw .shapeMismatch("activations must have at least one row and one column, not \(rows)×\(hiddenSize)")
        }
        guard rows == positions else {
            throw .shapeMismatch("\(positions) positions but \(rows) activation rows")
        }
        guard UInt64(start) + UInt64(positions) <= UInt64(UInt32.max) else {
            throw .invalidValue(field: "request.startPosition", value: UInt64(start))
        }
        let payloadBytes = Int(try reader.u32("activations.payloadBytes"))
        // Rows and hidden size are bounded by the limits, so this product cannot overflow.
        let expected = encoding.payloadByteCount(rows: rows, hiddenSize: hiddenSize) ?? -1
        guard payloadBytes == expected else {
            throw .shapeMismatch("\(rows)×\(hiddenSize) \(encoding) needs \(expected) payload bytes, header says \(payloadBytes)")
        }
        guard payloadBytes <= reader.remaining else { throw .truncated(field: "activations.payload") }
        let payload = try reader.raw("activations.payload", count: payloadBytes)
        let activations = try EncodedActivations(encoding: encoding, rows: rows, hiddenSize: hiddenSize, payload: payload)
        return .init(sessionID: sessionID, requestID: requestID, startPosition: start, flags: flags, topK: topK,
                     sampling: sampling, activations: activations)
    }

    private func forwardResult(_ reader: inout WireReader) throws(WireError) -> WireMessage.ForwardResult {
        let sessionID = try reader.u64("result.sessionID")
        let requestID = try reader.u64("result.requestID")
        let start = try reader.u32("result.startPosition")
        let rowCount = try reader.count32("result.rowCount", limit: limits.maxRowsPerMessage)
        // Each row takes at least 10 bytes; refuse a count the message cannot hold before reserving.
        guard rowCount * 10 <= reader.remaining else { throw .truncated(field: "result.rows") }
        var rows: [WireMessage.ResultRow] = []
        rows.reserveCapacity(rowCount)
        for _ in 0..<rowCount {
            let token = WireMessage.TokenLogprob(tokenID: try reader.u32("result.row.tokenID"),
                                                 logprob: try reader.f32("result.row.logprob"))
            let k = Int(try reader.u16("result.row.topKCount"))
            try limits.check("result.row.topKCount", k, limit: limits.maxTopK)
            guard k * 8 <= reader.remaining else { throw .truncated(field: "result.row.topK") }
            var topK: [WireMessage.TokenLogprob] = []
            topK.reserveCapacity(k)
            for _ in 0..<k {
                topK.append(.init(tokenID: try reader.u32("result.row.topK.tokenID"),
                                  logprob: try reader.f32("result.row.topK.logprob")))
            }
            rows.append(.init(token: token, topK: topK))
        }
        if reader.remaining > 0 {
            // The optional distributions: width, then rowCount × width probabilities.
            let width = try reader.count32("result.distributionWidth", limit: WireLimits.maxDistributionWidth)
            guard width > 0, rowCount > 0, width * rowCount * 4 == reader.remaining else {
                throw .shapeMismatch("result distributions of width \(width) for \(rowCount) rows in \(reader.remaining) bytes")
            }
            for index in rows.indices {
                var probabilities = [Float](repeating: 0, count: width)
                for j in 0..<width {
                    let p = try reader.f32("result.distribution")
                    guard p.isFinite, p >= 0, p <= 1 else { throw .invalidValue(field: "result.distribution", value: UInt64(p.bitPattern)) }
                    probabilities[j] = p
                }
                rows[index].probabilities = probabilities
            }
        }
        return .init(sessionID: sessionID, requestID: requestID, startPosition: start, rows: rows)
    }

    private func activationEncoding(_ field: String, _ reader: inout WireReader) throws(WireError) -> ActivationEncoding {
        let code = try reader.u8(field)
        guard let encoding = ActivationEncoding(rawValue: code) else { throw .invalidValue(field: field, value: UInt64(code)) }
        return encoding
    }
}
