import CZMQ

/// Something that happened to one connection of a monitored socket (`zmq_socket_monitor`).
public struct ZMQSocketEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: Sendable, Equatable {
        /// Connection life-cycle events, named after libzmq's `ZMQ_EVENT_*`.
        case connected, connectDelayed, connectRetried, listening, bindFailed, accepted, acceptFailed
        /// More life-cycle events: `disconnected` is how a lost peer shows.
        case closed, closeFailed, disconnected, monitorStopped
        /// The security handshake completed: the peer is admitted.
        case handshakeSucceeded
        /// The handshake failed for a reason libzmq does not detail.
        case handshakeFailedNoDetail
        /// The peer spoke ZMTP wrongly (e.g. a mechanism mismatch such as NULL against CURVE).
        case handshakeFailedProtocol
        /// Authentication refused the connection; `value` is the ZAP status code (e.g. 400).
        case handshakeFailedAuth
        /// An event this wrapper does not name.
        case other(UInt16)

        init(code: UInt16) {
            let table: [Int32: Kind] = [
                ZMQ_EVENT_CONNECTED: .connected, ZMQ_EVENT_CONNECT_DELAYED: .connectDelayed,
                ZMQ_EVENT_CONNECT_RETRIED: .connectRetried, ZMQ_EVENT_LISTENING: .listening,
                ZMQ_EVENT_BIND_FAILED: .bindFailed, ZMQ_EVENT_ACCEPTED: .accepted, ZMQ_EVENT_ACCEPT_FAILED: .acceptFailed,
                ZMQ_EVENT_CLOSED: .closed, ZMQ_EVENT_CLOSE_FAILED: .closeFailed, ZMQ_EVENT_DISCONNECTED: .disconnected,
                ZMQ_EVENT_MONITOR_STOPPED: .monitorStopped, ZMQ_EVENT_HANDSHAKE_SUCCEEDED: .handshakeSucceeded,
                ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: .handshakeFailedNoDetail,
                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: .handshakeFailedProtocol,
                ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: .handshakeFailedAuth,
            ]
            self = table[Int32(code)] ?? .other(code)
        }
    }

    /// What happened.
    public let kind: Kind
    /// The event's value: a file descriptor, an errno, a retry interval or a ZAP status code.
    public let value: UInt32
    /// The endpoint concerned, e.g. `tcp://127.0.0.1:5555`.
    public let endpoint: String
}

/// Reports a socket's connection events: connects, disconnects, handshakes and refusals. An
/// edge node uses it to tell "the cloud refused our key" from "the cloud is unreachable".
///
/// Like the socket it watches, it belongs to one thread. Add `socket` to a `ZMQPoller` to wait
/// on events together with other sockets.
public final class ZMQMonitor {
    private static let sequence = Locked(0)

    /// Event masks for `init(watching:context:events:)`.
    public static let allEvents = ZMQ_EVENT_ALL
    public static let disconnectEvents = ZMQ_EVENT_DISCONNECTED

    /// The PAIR socket events arrive on.
    public let socket: ZMQSocket
    private let watched: ZMQSocket

    /// Starts monitoring `watched` for `events` (a mask of `ZMQ_EVENT_*`; all by default).
    ///
    /// libzmq sends each event from its I/O thread with a blocking send: if nobody reads them,
    /// past the queue's limit that thread stalls, and every socket of the context with it. So
    /// the PAIR's receive queue is unbounded here, and a monitor read only now and then should
    /// ask for the few events it needs (e.g. `ZMQ_EVENT_DISCONNECTED`, not the two or three
    /// connect-retry events per reconnect attempt a dead peer produces).
    /// - Throws: `ZMQError` from `zmq_socket_monitor` or from the PAIR socket.
    public init(watching watched: ZMQSocket, context: ZMQContext, events: Int32 = ZMQMonitor.allEvents) throws(ZMQError) {
        let number = Self.sequence.withLock { value -> Int in
            value += 1
            return value
        }
        let endpoint = "inproc://split.monitor.\(number)"
        try watched.withUnsafeHandle("zmq_socket_monitor(\(endpoint))") { (handle) throws(ZMQError) in
            _ = try zmqCheck("zmq_socket_monitor(\(endpoint))") { zmq_socket_monitor(handle, endpoint, events) }
        }
        self.watched = watched
        socket = try context.socket(.pair)
        try socket.setOption(.receiveHighWaterMark(0))
        try socket.connect(endpoint)
    }

    /// The next event, or nil when none arrives within `timeoutMilliseconds` (-1: wait forever).
    /// - Throws: `ZMQError` when the PAIR socket fails.
    public func next(timeoutMilliseconds: Int32) throws(ZMQError) -> ZMQSocketEvent? {
        try socket.setOption(.receiveTimeout(milliseconds: timeoutMilliseconds))
        guard let frames = try socket.receiveMultipart() else { return nil }
        // Frame 1: u16 event and u32 value in host order; frame 2: the endpoint.
        guard frames.count == 2, frames[0].count == 6 else {
            return ZMQSocketEvent(kind: .other(0), value: 0, endpoint: "")
        }
        let code = frames[0].withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) }
        let value = frames[0].withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self) }
        return ZMQSocketEvent(kind: .init(code: code), value: value, endpoint: String(decoding: frames[1], as: UTF8.self))
    }

    /// Waits until an event of one of `kinds` arrives and returns it; nil when
    /// `timeoutMilliseconds` pass first. Other events are skipped.
    /// - Throws: `ZMQError` when the PAIR socket fails.
    public func wait(for kinds: [ZMQSocketEvent.Kind], timeoutMilliseconds: Int) throws(ZMQError) -> ZMQSocketEvent? {
        let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, timeoutMilliseconds)) * 1_000_000
        while true {
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { return nil }
            guard let event = try next(timeoutMilliseconds: Int32((deadline - now) / 1_000_000) + 1) else { return nil }
            if kinds.contains(event.kind) { return event }
        }
    }

    /// Stops monitoring and closes the PAIR socket.
    public func close() {
        if !watched.isClosed {
            _ = try? watched.withUnsafeHandle("zmq_socket_monitor(stop)") { (handle) throws(ZMQError) in
                zmq_socket_monitor(handle, nil, 0)
            }
        }
        socket.close()
    }
}
