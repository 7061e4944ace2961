import CZMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A libzmq context: the I/O threads and the `inproc://` namespace that sockets share.
///
/// Sockets keep their context alive, so a context is terminated only after every socket made
/// from it has been closed or released.
public final class ZMQContext: @unchecked Sendable {
    // Safe to send without a lock of ours: libzmq documents contexts as thread-safe, and the
    // only stored property is an immutable pointer set once in `init`.
    private let handle: UnsafeMutableRawPointer

    /// Makes a context with `ioThreads` background I/O threads and room for `maxSockets` sockets
    /// (libzmq's default is 1,023).
    /// - Throws: `ZMQError` when libzmq cannot create the context or set the thread count.
    public init(ioThreads: Int32 = 1, maxSockets: Int32? = nil) throws(ZMQError) {
        let handle = try zmqCheckPointer("zmq_ctx_new", { zmq_ctx_new() })
        do {
            try zmqCheck("zmq_ctx_set(ZMQ_IO_THREADS)") { zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads) }
            if let maxSockets {
                try zmqCheck("zmq_ctx_set(ZMQ_MAX_SOCKETS)") { zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, maxSockets) }
            }
        } catch {
            zmq_ctx_term(handle)
            throw error
        }
        self.handle = handle
    }

    deinit {
        // Every socket holds a strong reference to its context, so none is left open here.
        while zmq_ctx_term(handle) == -1 && zmq_errno() == EINTR {}
    }

    /// Makes every blocking call on this context's sockets return `ETERM`; used by threads that
    /// must stop while another thread is blocked in a receive.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    /// Whether the linked libzmq supports `capability`, e.g. `"curve"` or `"ipc"`.
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) != 0
    }

    /// The linked libzmq version as (major, minor, patch).
    public static var version: (major: Int32, minor: Int32, patch: Int32) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (major, minor, patch)
    }

    /// Makes a socket of `type` on this context, confined to the calling thread.
    /// - Throws: `ZMQError` from `zmq_socket`.
    public func socket(_ type: ZMQSocketType) throws(ZMQError) -> ZMQSocket {
        try ZMQSocket(context: self, type: type)
    }

    /// Hands the raw context to `body` (for `zmq_socket`); the pointer must not escape.
    func withUnsafeHandle<Result>(_ body: (UnsafeMutableRawPointer) throws(ZMQError) -> Result) throws(ZMQError) -> Result {
        try body(handle)
    }
}
