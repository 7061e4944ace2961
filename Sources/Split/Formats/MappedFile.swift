#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory (`PROT_READ`, `MAP_PRIVATE`), unmapped when the
/// object goes away. Readers slice it with bounds checks instead of copying it into the heap.
///
/// `@unchecked Sendable`: after `init` nothing is ever written — the mapping is read-only and
/// every stored property is a constant — so sharing it between threads is safe.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened from (used in error messages).
    public let path: String
    /// Size of the file in bytes.
    public let size: Int
    private let base: UnsafeRawPointer?

    /// Maps the file at `path`.
    /// - Throws: `MappedFileError.systemCall` naming the failing call (`open`, `fstat`, `mmap`).
    public init(path: String) throws {
        self.path = path
        let descriptor = try Self.checked("open", path: path, failedWhen: { $0 < 0 }) {
            open(path, O_RDONLY | O_CLOEXEC)
        }
        defer { _ = close(descriptor) }  // The mapping outlives the descriptor; close errors change nothing.
        var status = stat()
        try Self.checked("fstat", path: path, failedWhen: { $0 != 0 }) { fstat(descriptor, &status) }
        let fileSize = Int(status.st_size)
        size = fileSize
        if fileSize == 0 {
            base = nil  // mmap refuses zero-length mappings; an empty file is an empty buffer.
            return
        }
        let address = try Self.checked("mmap", path: path, failedWhen: { $0 == MAP_FAILED }) {
            Self.mapAligned(descriptor, size: fileSize)
        }
        base = UnsafeRawPointer(address)
    }

    /// Where the kernel can back the mapping with 2 MB pages, its start is 2 MB-aligned (as the
    /// file's offset 0 is) and it is advised so: a model's weights are streamed once per token, and
    /// with 4 KB pages every 4 KB costs a TLB entry and stops the hardware prefetcher at a page's
    /// end. The page cache then holds the file in 2 MB folios when it is first read through this
    /// mapping (a file already cached in small pages keeps them until evicted); nothing is copied,
    /// and the resident set is the same pages. Anywhere this does not apply (small files, no THP)
    /// it is the plain mapping. BENCHMARKS.md, issue 10.
    private static func mapAligned(_ descriptor: Int32, size: Int) -> UnsafeMutableRawPointer? {
        let huge = 2 << 20
        #if os(Linux)
        if size >= huge,
           let reserved = mmap(nil, size + huge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
           reserved != MAP_FAILED {
            let start = (Int(bitPattern: reserved) + huge - 1) & ~(huge - 1)
            let aligned = UnsafeMutableRawPointer(bitPattern: start)
            if let mapped = mmap(aligned, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, descriptor, 0), mapped != MAP_FAILED {
                // Give back the reservation's unused head and tail (whole pages on both sides).
                let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
                let end = (start + size + pageSize - 1) / pageSize * pageSize
                let head = start - Int(bitPattern: reserved), tail = Int(bitPattern: reserved) + size + huge - end
                if head > 0 { _ = munmap(reserved, head) }
                if tail > 0 { _ = munmap(UnsafeMutableRawPointer(bitPattern: end), tail) }
                _ = madvise(mapped, size, MADV_HUGEPAGE)  // advice: refused, the mapping is as good as plain
                return mapped
            }
            _ = munmap(reserved, size + huge)
        }
        #endif
        return mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
    }

    deinit {
        if let base {
            // munmap only fails for an address/length we did not get from mmap: a programmer error.
            let result = munmap(UnsafeMutableRawPointer(mutating: base), size)
            assert(result == 0, "munmap failed for \(path)")
        }
    }

    /// Every byte of the file. Valid as long as this object is alive.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Lets go of this process's resident copies of the file's first `end` bytes (whole pages
    /// only): reading them again maps them back from the file, so nothing a reader sees changes.
    /// For parts read once at load time (a GGUF header: ~1.3 MB of vocabulary and merges in a
    /// 49 K-token model) that would otherwise count in the resident set for the process's life.
    /// Returns the bytes released (whole pages; 0 when none was, or madvise failed).
    @discardableResult
    public func releasePages(before end: Int) -> Int {
        guard let base, end > 0 else { return 0 }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let length = min(end, size) / pageSize * pageSize
        // MADV_DONTNEED on a private, never-written file mapping only drops page-table entries;
        // it fails for ranges we did not map, which these are not. A failure leaves pages resident.
        guard length > 0, madvise(UnsafeMutableRawPointer(mutating: base), length, MADV_DONTNEED) == 0 else { return 0 }
        return length
    }

    /// The `count` bytes starting at `offset`.
    /// - Throws: `MappedFileError.outOfBounds` when the range is negative, overflows or runs past the end.
    public func slice(offset: Int, count: Int) throws -> UnsafeRawBufferPointer {
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard offset >= 0, count >= 0, !overflow, end <= size else {
            throw MappedFileError.outOfBounds(path: path, offset: offset, count: count, size: size)
        }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
    }

    /// The little-endian integer of type `T` stored at `offset`.
    /// - Throws: `MappedFileError.outOfBounds` when it does not fit in the file.
    public func readLittleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T {
        let raw = try slice(offset: offset, count: MemoryLayout<T>.size)
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    /// The little-endian IEEE float stored at `offset`.
    /// - Throws: `MappedFileError.outOfBounds` when it does not fit in the file.
    public func readLittleEndianFloat(at offset: Int) throws -> Float {
        Float(bitPattern: try readLittleEndian(UInt32.self, at: offset))
    }

    /// Runs a libc call, retrying on `EINTR`, and turns a failure into an error naming the call.
    @discardableResult
    static func checked<Result>(
        _ call: String, path: String, failedWhen failed: (Result) -> Bool, _ body: () -> Result
    ) throws -> Result {
        while true {
            let result = body()
            guard failed(result) else { return result }
            let code = errno
            if code == EINTR { continue }
            throw MappedFileError.systemCall(call: call, path: path, code: code)
        }
    }
}
