import Foundation
@testable import Split

/// A raw ZeroMQ DEALER speaking bytes to a cloud node, for tests that misbehave on purpose:
/// it sends whatever frames it is given and reads back whatever comes, with no protocol logic.
/// Owned by the test's thread.
final class RawPeer {
    let context: ZMQContext
    let socket: ZMQSocket
    private let decoder = WireDecoder()

    /// Connects with `keys` (which the cloud must allow-list) to `cloud`.
    /// - Throws: `ZMQError` for a bad endpoint or key.
    convenience init(cloud: InProcessCloud, keys: CurveKeyPair) throws {
        try self.init(endpoint: cloud.endpoint, keys: keys)
    }

    /// Connects with `keys` (which the cloud must allow-list) to a cloud at `endpoint`, with a
    /// routing id of its choosing when `routingID` is given.
    /// - Throws: `ZMQError` for a bad endpoint or key.
    init(endpoint: CloudEndpoint, keys: CurveKeyPair, routingID: [UInt8]? = nil) throws {
        context = try ZMQContext()
        socket = try context.socket(.dealer)
        try socket.setOption(.linger(milliseconds: 0))
        if let routingID { try socket.setOption(.routingID(routingID)) }
        try socket.setOption(.reconnectInterval(milliseconds: 50))
        if let serverKey = endpoint.serverKey {
            try socket.setOption(.curveServerKey(serverKey))
            try socket.setOption(.curvePublicKey(keys.publicKey))
            try socket.setOption(.curveSecretKey(keys.secretKey))
        }
        try socket.connect(endpoint.address)
    }

    deinit { socket.close() }

    /// Sends one frame.
    func send(_ bytes: [UInt8]) throws {
        _ = try socket.send(bytes)
    }

    /// Sends one message of several frames.
    func send(multipart frames: [[UInt8]]) throws {
        _ = try socket.send(multipart: frames)
    }

    /// The next message from the cloud, decoded, or nil after `timeoutSeconds` of silence.
    /// - Throws: when the cloud's reply itself does not decode (a cloud bug).
    func nextReply(timeoutSeconds: Double = 3) throws -> WireMessage? {
        let poller = ZMQPoller()
        _ = poller.add(socket)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            let events = try poller.poll(timeoutMilliseconds: 20)
            guard events[0].contains(.readable), let frames = try socket.receiveMultipart(flags: .dontWait) else { continue }
            guard frames.count == 1 else { throw ProcessError("cloud sent a message of \(frames.count) frames") }
            return try decoder.decode(frames[0])
        }
        return nil
    }

    /// Sends `bytes` and returns the cloud's answer, or nil when none comes in `timeoutSeconds`.
    func exchange(_ bytes: [UInt8], timeoutSeconds: Double = 3) throws -> WireMessage? {
        try send(bytes)
        return try nextReply(timeoutSeconds: timeoutSeconds)
    }

    /// Sends a message and returns the cloud's answer.
    func exchange(_ message: WireMessage, timeoutSeconds: Double = 3) throws -> WireMessage? {
        try exchange(try WireEncoder().encode(message), timeoutSeconds: timeoutSeconds)
    }

    /// Whether the cloud answers a ping with its pong (it is alive and serving this peer).
    func pingAnswered(timeoutSeconds: Double = 3) throws -> Bool {
        let stamp = UInt64.random(in: 1...UInt64.max)
        try send(try WireEncoder().encode(.heartbeat(.init(kind: .ping, timestampNanoseconds: stamp))))
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            guard let reply = try nextReply(timeoutSeconds: deadline.timeIntervalSinceNow) else { return false }
            if case .heartbeat(let beat) = reply, beat.kind == .pong, beat.timestampNanoseconds == stamp { return true }
        }
        return false
    }
}

/// Builders of valid and deliberately broken wire messages.
enum WireBytes {
    /// A hello for `identity` at split layer `k`, as bytes.
    static func hello(_ identity: SHA256Digest, k: Int) throws -> [UInt8] {
        try WireEncoder().encode(.hello(.init(modelIdentity: identity, splitLayer: UInt32(k), activationEncoding: .f32,
                                              clientName: "raw-peer")))
    }

    /// A prefill (or step) of `rows` f32 rows of `hiddenSize` small values.
    static func forward(session: UInt64, request: UInt64, start: Int, rows: Int, hiddenSize: Int,
                        step: Bool = false) throws -> [UInt8] {
        let values = (0..<(rows * hiddenSize)).map { Float($0 % 7) * 0.01 - 0.03 }
        let activations = try EncodedActivations(encoding: .f32, rows: rows, hiddenSize: hiddenSize, values: values)
        let request = WireMessage.ForwardRequest(sessionID: session, requestID: request, startPosition: UInt32(start),
                                                 activations: activations)
        return try WireEncoder().encode(step ? .step(request) : .prefill(request))
    }

    /// `bytes` with the little-endian `u32` at `offset` replaced by `value`.
    static func patching(_ bytes: [UInt8], u32 value: UInt32, at offset: Int) -> [UInt8] {
        var copy = bytes
        for i in 0..<4 { copy[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        return copy
    }

    /// Offsets of a forward request's fields (docs/PROTOCOL.md, "3 prefill, 4 step").
    static let positionCountOffset = 28
    static let rowsOffset = 52
    static let hiddenSizeOffset = 56
    static let payloadBytesOffset = 60
}

extension WireMessage {
    /// The code of an error reply; nil for any other message.
    var errorCode: ErrorCode? {
        if case .error(let report) = self { return report.code }
        return nil
    }
}
