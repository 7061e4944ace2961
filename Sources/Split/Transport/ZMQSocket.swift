import CZMQ
import Foundation

/// One ZeroMQ socket, owned by one thread.
///
/// libzmq sockets are not thread-safe, so this class is deliberately not `Sendable`: create it,
/// use it and close it on the same thread (or actor), and let other threads reach it through an
/// `inproc://` socket. Sockets start with linger 0 so that closing never blocks on a dead peer.
public final class ZMQSocket {
    /// The socket type it was made with.
    public let type: ZMQSocketType
    private let context: ZMQContext
    private var handle: UnsafeMutableRawPointer?

    /// Makes a socket of `type` on `context` (prefer `context.socket(_:)`).
    /// - Throws: `ZMQError` from `zmq_socket` or from setting the initial linger.
    public init(context: ZMQContext, type: ZMQSocketType) throws(ZMQError) {
        self.context = context
        self.type = type
        let handle = try context.withUnsafeHandle { (ctx) throws(ZMQError) in
            try zmqCheckPointer("zmq_socket", { zmq_socket(ctx, type.rawValue) })
        }
        self.handle = handle
        try setOption(.linger(milliseconds: 0))
    }

    deinit {
        if let handle { zmq_close(handle) }
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { handle == nil }

    /// Closes the socket; later calls throw `ENOTSOCK`. Closing twice is harmless.
    public func close() {
        if let handle { zmq_close(handle) }
        handle = nil
    }

    /// Sets one option.
    /// - Throws: `ZMQError` from `zmq_setsockopt`, naming the option.
    public func setOption(_ option: ZMQSocketOption) throws(ZMQError) {
        let (name, label, value) = option.encoded
        try withUnsafeHandle("zmq_setsockopt(\(label))") { (socket) throws(ZMQError) in
            _ = try zmqCheck("zmq_setsockopt(\(label))") {
                value.withUnsafeBytes { zmq_setsockopt(socket, name, $0.baseAddress, $0.count) }
            }
        }
    }

    /// The endpoint the socket last bound or connected to, with the real port after binding to
    /// `tcp://127.0.0.1:*`.
    /// - Throws: `ZMQError` from `zmq_getsockopt(ZMQ_LAST_ENDPOINT)`.
    public var lastEndpoint: String {
        get throws(ZMQError) {
            var buffer = [CChar](repeating: 0, count: 1024)
            var size = buffer.count
            try withUnsafeHandle("zmq_getsockopt(ZMQ_LAST_ENDPOINT)") { (socket) throws(ZMQError) in
                _ = try zmqCheck("zmq_getsockopt(ZMQ_LAST_ENDPOINT)") {
                    zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, &buffer, &size)
                }
            }
            return String(nulTerminated: buffer)
        }
    }

    /// Binds to `endpoint` (`tcp://127.0.0.1:*`, `ipc:///tmp/x`, `inproc://name`).
    /// - Throws: `ZMQError` from `zmq_bind`, naming the endpoint.
    public func bind(_ endpoint: String) throws(ZMQError) {
        try endpointCall("zmq_bind", endpoint, zmq_bind)
    }

    /// Connects to `endpoint`; the connection completes in the background.
    /// - Throws: `ZMQError` from `zmq_connect`, naming the endpoint.
    public func connect(_ endpoint: String) throws(ZMQError) {
        try endpointCall("zmq_connect", endpoint, zmq_connect)
    }

    /// Stops listening on an endpoint given to `bind` (use `lastEndpoint` for wildcards).
    /// - Throws: `ZMQError` from `zmq_unbind`.
    public func unbind(_ endpoint: String) throws(ZMQError) {
        try endpointCall("zmq_unbind", endpoint, zmq_unbind)
    }

    /// Drops the connection made by `connect(endpoint)`.
    /// - Throws: `ZMQError` from `zmq_disconnect`.
    public func disconnect(_ endpoint: String) throws(ZMQError) {
        try endpointCall("zmq_disconnect", endpoint, zmq_disconnect)
    }

    /// Sends one frame. Returns false when the send would block (`dontWait`) or the send
    /// timeout expired; the frame was then not queued.
    /// - Throws: `ZMQError` for any other failure (e.g. `EHOSTUNREACH` on a mandatory ROUTER).
    @discardableResult
    public func send(_ frame: some ContiguousBytes, flags: ZMQFlags = []) throws(ZMQError) -> Bool {
        try withUnsafeHandle("zmq_send") { (socket) throws(ZMQError) -> Bool in
            let result: Result<Bool, ZMQError> = frame.withUnsafeBytes { raw in
                do throws(ZMQError) {
                    _ = try zmqCheck("zmq_send") { zmq_send(socket, raw.baseAddress, raw.count, flags.rawValue) }
                    return .success(true)
                } catch let error where error.isWouldBlock {
                    return .success(false)
                } catch {
                    return .failure(error)
                }
            }
            return try result.get()
        }
    }

    /// Sends a message of several frames atomically: either all frames are queued or none.
    /// Returns false when the first frame would block.
    /// - Throws: `ZMQError` for any other failure.
    @discardableResult
    public func send<Frame: ContiguousBytes>(multipart frames: [Frame], flags: ZMQFlags = []) throws(ZMQError) -> Bool {
        guard !frames.isEmpty else { return true }
        for (index, frame) in frames.enumerated() {
            var frameFlags = index == 0 ? flags : flags.subtracting(.dontWait)
            if index < frames.count - 1 { frameFlags.insert(.sendMore) }
            // libzmq queues a multipart message only once its last frame is sent, and later frames
            // of a message whose first frame was accepted do not block.
            guard try send(frame, flags: frameFlags) else { return false }
        }
        return true
    }

    /// Receives one frame as bytes, or nil when nothing arrived before the receive timeout (or
    /// at once with `dontWait`). `more` tells whether further frames of the message follow.
    /// - Throws: `ZMQError` for any failure other than a timeout.
    public func receive(flags: ZMQFlags = []) throws(ZMQError) -> (frame: [UInt8], more: Bool)? {
        try receiveFrame(flags: flags) { Array($0) }
    }

    /// Receives one frame as `Data`; see `receive(flags:)`.
    /// - Throws: `ZMQError` for any failure other than a timeout.
    public func receiveData(flags: ZMQFlags = []) throws(ZMQError) -> (frame: Data, more: Bool)? {
        try receiveFrame(flags: flags) { Data($0) }
    }

    /// Receives every frame of one message, or nil when none arrived in time.
    /// - Throws: `ZMQError` for any failure other than a timeout before the first frame.
    public func receiveMultipart(flags: ZMQFlags = []) throws(ZMQError) -> [[UInt8]]? {
        var ignored: String?
        return try receiveFrames(flags: flags, { Array($0) }, userID: &ignored)
    }

    /// Receives every frame of one message with the `User-Id` the ZAP handler gave its
    /// connection (nil without one, e.g. a socket without CURVE), or nil when none arrived.
    /// - Throws: `ZMQError` for any failure other than a timeout before the first frame.
    public func receiveMultipartWithUserID(flags: ZMQFlags = []) throws(ZMQError) -> (frames: [[UInt8]], userID: String?)? {
        var userID: String?
        guard let frames = try receiveFrames(flags: flags, { Array($0) }, userID: &userID) else { return nil }
        return (frames, userID)
    }

    /// Receives every frame of one message as `Data`; see `receiveMultipart(flags:)`.
    /// - Throws: `ZMQError` for any failure other than a timeout before the first frame.
    public func receiveMultipartData(flags: ZMQFlags = []) throws(ZMQError) -> [Data]? {
        var ignored: String?
        return try receiveFrames(flags: flags, { Data($0) }, userID: &ignored)
    }

    /// Hands the raw socket to `body` (for `zmq_poll` and options); the pointer must not escape.
    /// - Throws: `ENOTSOCK` as a `ZMQError` when the socket is closed, or what `body` throws.
    func withUnsafeHandle<Result>(
        _ call: @autoclosure () -> String, _ body: (UnsafeMutableRawPointer) throws(ZMQError) -> Result
    ) throws(ZMQError) -> Result {
        guard let handle else { throw ZMQError(call: call(), code: ENOTSOCK) }
        return try body(handle)
    }

    private func endpointCall(
        _ name: String, _ endpoint: String, _ function: (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Int32
    ) throws(ZMQError) {
        try withUnsafeHandle("\(name)(\(endpoint))") { (socket) throws(ZMQError) in
            _ = try zmqCheck("\(name)(\(endpoint))") { function(socket, endpoint) }
        }
    }

    private func receiveFrames<Frame>(
        flags: ZMQFlags, _ copy: (UnsafeRawBufferPointer) -> Frame, userID: inout String?
    ) throws(ZMQError) -> [Frame]? {
        guard let first = try receiveFrame(flags: flags, copy, userID: &userID) else { return nil }
        var frames = [first.frame]
        var more = first.more
        while more {
            // The rest of a message arrives with its first frame, so these never wait.
            guard let next = try receiveFrame(flags: [], copy, userID: &userID) else { break }
            frames.append(next.frame)
            more = next.more
        }
        return frames
    }

    private func receiveFrame<Frame>(
        flags: ZMQFlags, _ copy: (UnsafeRawBufferPointer) -> Frame
    ) throws(ZMQError) -> (frame: Frame, more: Bool)? {
        var ignored: String?
        return try receiveFrame(flags: flags, copy, userID: &ignored)
    }

    /// Receives one frame; sets `userID` when the frame carries the `User-Id` property (a
    /// ROUTER's routing-id frame does not, the payload frames do).
    private func receiveFrame<Frame>(
        flags: ZMQFlags, _ copy: (UnsafeRawBufferPointer) -> Frame, userID: inout String?
    ) throws(ZMQError) -> (frame: Frame, more: Bool)? {
        try withUnsafeHandle("zmq_msg_recv") { (socket) throws(ZMQError) -> (frame: Frame, more: Bool)? in
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            do throws(ZMQError) {
                _ = try zmqCheck("zmq_msg_recv") { zmq_msg_recv(&message, socket, flags.rawValue) }
            } catch let error where error.isWouldBlock {
                return nil
            }
            let size = zmq_msg_size(&message)
            let frame = copy(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: size))
            if let property = zmq_msg_gets(&message, "User-Id") {
                userID = String(cString: property)
            }
            return (frame, zmq_msg_more(&message) != 0)
        }
    }
}
