#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What went wrong while opening, mapping or reading a memory-mapped file.
public enum MappedFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A libc call failed; `code` is its `errno`.
    case systemCall(call: String, path: String, code: Int32)
    /// A read of `count` bytes at `offset` reaches past the end of the file (`size` bytes).
    case outOfBounds(path: String, offset: Int, count: Int, size: Int)

    /// A message for the user saying what is wrong and where.
    public var description: String {
        switch self {
        case let .systemCall(call, path, code):
            let reason = String(cString: strerror(code))
            return "\(call) failed for \(path): \(reason) (errno \(code))"
        case let .outOfBounds(path, offset, count, size):
            return "\(path): reading \(count) bytes at offset \(offset) goes past the end of the file (\(size) bytes)"
        }
    }
}
