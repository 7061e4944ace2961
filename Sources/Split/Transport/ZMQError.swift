import CZMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed libzmq call: which call, the `errno` it left and libzmq's text for it.
public struct ZMQError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The libzmq function that failed, e.g. `"zmq_bind(tcp://127.0.0.1:5555)"`.
    public let call: String
    /// The `zmq_errno()` value after the call.
    public let code: Int32
    /// `zmq_strerror(code)`.
    public let message: String

    /// Makes an error for `call` from an errno value, looking up libzmq's message.
    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
        self.message = String(cString: zmq_strerror(code))
    }

    /// True when the call would have blocked or its timeout expired (`EAGAIN`).
    public var isWouldBlock: Bool { code == EAGAIN }
    /// True when the context was terminated under the call (`ETERM`).
    public var isContextTerminated: Bool { code == ETERM }

    public var description: String { "\(call) failed: \(message) (errno \(code))" }
}

/// Runs one libzmq call that reports failure as `-1`, retrying when it was interrupted by a
/// signal (`EINTR`). This is the only place `zmq_errno()` is read.
/// - Throws: `ZMQError` naming `call` for any other failure.
@discardableResult
func zmqCheck(_ call: @autoclosure () -> String, _ body: () -> Int32) throws(ZMQError) -> Int32 {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = zmq_errno()
        if code == EINTR { continue }
        throw ZMQError(call: call(), code: code)
    }
}

/// Runs one libzmq call that reports failure as a null pointer (`zmq_ctx_new`, `zmq_socket`).
/// - Throws: `ZMQError` naming `call`.
func zmqCheckPointer(
    _ call: @autoclosure () -> String, _ body: () -> UnsafeMutableRawPointer?
) throws(ZMQError) -> UnsafeMutableRawPointer {
    while true {
        if let pointer = body() { return pointer }
        let code = zmq_errno()
        if code == EINTR { continue }
        throw ZMQError(call: call(), code: code)
    }
}

extension String {
    /// The UTF-8 text in a C buffer up to its first NUL (or all of it when there is none).
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
