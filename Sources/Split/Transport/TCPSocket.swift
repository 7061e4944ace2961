#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain blocking IPv4 TCP sockets for the link emulator (and tests), every call checked.
public enum TCPSocket {
    /// Opens a listening socket on `host:port` (port 0: any free port) and returns it with the
    /// port actually bound.
    /// - Throws: `SystemCallError` naming the failed call.
    public static func listen(host: String, port: UInt16, backlog: Int32 = 64) throws(SystemCallError) -> (fd: Int32, port: UInt16) {
        var address = try resolve(host: host, port: port)
        let fd = try systemCall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            var one: Int32 = 1
            try systemCall("setsockopt(SO_REUSEADDR)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            try systemCall("bind(\(host):\(port))") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            try systemCall("listen") { Glibc.listen(fd, backlog) }
            var bound = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            try systemCall("getsockname") {
                withUnsafeMutablePointer(to: &bound) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
                }
            }
            return (fd, UInt16(bigEndian: bound.sin_port))
        } catch {
            close(fd)
            throw error
        }
    }

    /// Connects to `host:port` with Nagle's algorithm off, so small messages are not held back.
    /// - Throws: `SystemCallError` naming the failed call.
    public static func connect(host: String, port: UInt16) throws(SystemCallError) -> Int32 {
        var address = try resolve(host: host, port: port)
        let fd = try systemCall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            try systemCall("connect(\(host):\(port))") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            try setNoDelay(fd)
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// Waits up to `timeoutMilliseconds` for a connection and accepts it (nil on timeout).
    /// - Throws: `SystemCallError` naming the failed call.
    public static func accept(_ listener: Int32, timeoutMilliseconds: Int32) throws(SystemCallError) -> Int32? {
        var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        let ready = try systemCall("poll") { poll(&waiting, 1, timeoutMilliseconds) }
        guard ready > 0 else { return nil }
        let fd = try systemCall("accept") { Glibc.accept(listener, nil, nil) }
        try setNoDelay(fd)
        return fd
    }

    /// Reads up to `capacity` bytes; an empty array means the peer closed its side.
    /// - Throws: `SystemCallError` naming the failed call.
    public static func read(_ fd: Int32, capacity: Int) throws(SystemCallError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: capacity)
        let count = try systemCall("recv") { buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
        buffer.removeLast(capacity - count)
        return buffer
    }

    /// Writes all of `bytes`.
    /// - Throws: `SystemCallError` naming the failed call (`EPIPE` when the peer is gone).
    public static func write(_ fd: Int32, _ bytes: [UInt8]) throws(SystemCallError) {
        let result: Result<Void, SystemCallError> = bytes.withUnsafeBytes { raw in
            do throws(SystemCallError) {
                try writeAll(fd, raw, isSocket: true, call: "send")
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    private static func setNoDelay(_ fd: Int32) throws(SystemCallError) {
        var one: Int32 = 1
        try systemCall("setsockopt(TCP_NODELAY)") {
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    private static func resolve(host: String, port: UInt16) throws(SystemCallError) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        let name = host == "localhost" ? "127.0.0.1" : host
        // inet_pton returns 1 on success, 0 for text that is not an IPv4 address.
        guard inet_pton(AF_INET, name, &address.sin_addr) == 1 else {
            throw SystemCallError(call: "inet_pton(\(host)): only IPv4 addresses and localhost are supported", code: EINVAL)
        }
        return address
    }
}
