import CZMQ

/// Which readiness a poll asks about or reports.
public struct ZMQPollEvents: OptionSet, Sendable {
    /// libzmq's event bits.
    public let rawValue: Int16
    /// Makes events from libzmq's bits.
    public init(rawValue: Int16) { self.rawValue = rawValue }
    /// A message can be received without blocking (`ZMQ_POLLIN`).
    public static let readable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// A message can be sent without blocking (`ZMQ_POLLOUT`).
    public static let writable = ZMQPollEvents(rawValue: Int16(ZMQ_POLLOUT))
}

/// Waits on several sockets at once with `zmq_poll`. Like the sockets it holds, a poller
/// belongs to one thread.
public final class ZMQPoller {
    private var sockets: [ZMQSocket] = []
    private var interests: [ZMQPollEvents] = []

    /// Makes an empty poller.
    public init() {}

    /// Adds `socket`, watched for `events`; returns its index in `poll`'s result.
    @discardableResult
    public func add(_ socket: ZMQSocket, events: ZMQPollEvents = .readable) -> Int {
        sockets.append(socket)
        interests.append(events)
        return sockets.count - 1
    }

    /// Waits until at least one socket is ready or `timeoutMilliseconds` pass (-1: forever) and
    /// returns the ready events of each socket, in the order they were added (empty on timeout).
    /// - Throws: `ZMQError` from `zmq_poll`, or `ENOTSOCK` if a socket was closed.
    public func poll(timeoutMilliseconds: Int) throws(ZMQError) -> [ZMQPollEvents] {
        var items: [zmq_pollitem_t] = []
        items.reserveCapacity(sockets.count)
        for (socket, events) in zip(sockets, interests) {
            // The raw pointer stays inside this call; the poller holds the socket alive.
            let raw = try socket.withUnsafeHandle("zmq_poll") { (handle) throws(ZMQError) in handle }
            items.append(zmq_pollitem_t(socket: raw, fd: 0, events: events.rawValue, revents: 0))
        }
        let count = Int32(items.count)
        _ = try zmqCheck("zmq_poll") { zmq_poll(&items, count, timeoutMilliseconds) }
        return items.map { ZMQPollEvents(rawValue: $0.revents) }
    }
}
