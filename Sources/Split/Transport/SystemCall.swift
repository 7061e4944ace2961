#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed POSIX call: which call and the `errno` it left.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call that failed, e.g. `"connect(127.0.0.1:5555)"`.
    public let call: String
    /// `errno` after the call.
    public let code: Int32

    /// Makes an error for `call` from an errno value.
    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call) failed: \(String(cString: strerror(code))) (errno \(code))" }
}

/// Runs one POSIX call that reports failure as a negative result, retrying on `EINTR`. This is
/// the only place the transport reads `errno`.
/// - Throws: `SystemCallError` naming `call`.
@discardableResult
func systemCall<T: BinaryInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(call: call(), code: code)
    }
}

/// Writes all of `bytes` to the file or socket `fd`, looping over short writes. Sockets are
/// written with `MSG_NOSIGNAL`, so a closed peer is an `EPIPE` error rather than a signal.
/// - Throws: `SystemCallError` naming `call`.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, isSocket: Bool, call: @autoclosure () -> String) throws(SystemCallError) {
    var offset = 0
    while offset < bytes.count {
        let start = bytes.baseAddress.map { $0 + offset }
        let remaining = bytes.count - offset
        offset += try systemCall(call()) {
            isSocket ? send(fd, start, remaining, Int32(MSG_NOSIGNAL)) : write(fd, start, remaining)
        }
    }
}
