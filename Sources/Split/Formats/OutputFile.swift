#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file being written from the start, through the same checked libc calls as `MappedFile`.
/// Used by the format writers so that a large export never has to sit in memory twice.
final class OutputFile {
    let path: String
    private var descriptor: Int32

    /// Creates (or truncates) the file at `path`.
    /// - Throws: `MappedFileError.systemCall` naming `open`.
    init(path: String) throws {
        self.path = path
        descriptor = try MappedFile.checked("open", path: path, failedWhen: { $0 < 0 }) {
            open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
    }

    deinit {
        if descriptor >= 0 { _ = close(descriptor) }  // Only reached when a write threw.
    }

    /// Writes all of `bytes`, looping over short writes.
    /// - Throws: `MappedFileError.systemCall` naming `write`.
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var written = 0
        while written < bytes.count {
            guard let base = bytes.baseAddress else { return }
            let count = try MappedFile.checked("write", path: path, failedWhen: { $0 < 0 }) {
                write(descriptor, base + written, bytes.count - written)
            }
            written += count
        }
    }

    /// Writes all of `bytes`.
    /// - Throws: `MappedFileError.systemCall` naming `write`.
    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Flushes and closes the file; errors from `close` (e.g. a full disk over NFS) are reported.
    /// - Throws: `MappedFileError.systemCall` naming `close`.
    func finish() throws {
        let fd = descriptor
        descriptor = -1
        // close must not be retried on EINTR (the descriptor is already released on Linux).
        if close(fd) != 0 { throw MappedFileError.systemCall(call: "close", path: path, code: errno) }
    }
}
