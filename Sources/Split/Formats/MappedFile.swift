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

    /// The size of the pages the mapping of a large file is aligned and advised for.
    static let hugePageBytes = 2 << 20

    /// A file of 2 MB or more is mapped at a 2 MB boundary (as the file's offset 0 is), so that its
    /// weights can be mapped in 2 MB pages (`adviseHugePages(from:)`). Small files and other
    /// systems get the plain mapping.
    private static func mapAligned(_ descriptor: Int32, size: Int) -> UnsafeMutableRawPointer? {
        #if os(Linux)
        let huge = UInt(hugePageBytes)
        let (reservation, overflow) = size.addingReportingOverflow(hugePageBytes)
        if size >= hugePageBytes, !overflow,
           let reserved = mmap(nil, reservation, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
           reserved != MAP_FAILED {
            // Addresses as unsigned words with wrapping arithmetic (no trap near the top of a
            // 32-bit address space); the mapping [start, end) lies inside the reservation.
            let first = UInt(bitPattern: reserved), last = first &+ UInt(size) &+ huge
            let start = (first &+ huge &- 1) & ~(huge &- 1)
            if let mapped = mmap(UnsafeMutableRawPointer(bitPattern: start), size, PROT_READ, MAP_PRIVATE | MAP_FIXED, descriptor, 0),
               mapped != MAP_FAILED {
                // Give back the reservation's unused head and tail (whole pages on both sides).
                let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
                let end = (start &+ UInt(size) &+ pageSize &- 1) / pageSize &* pageSize
                if start > first { _ = munmap(reserved, Int(start &- first)) }
                if last > end { _ = munmap(UnsafeMutableRawPointer(bitPattern: end), Int(last &- end)) }
                return mapped
            }
            // The reservation stays: before Linux 6.12 a failed MAP_FIXED may have left a hole in
            // it that another thread's mapping could already occupy, which unmapping the whole
            // reservation would take away. It costs address space only (no memory), and only after
            // a failure (out of memory, a file system refusing the mapping).
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
        guard length > 0 else { return 0 }
        // MADV_DONTNEED on a private, never-written file mapping only drops page-table entries;
        // it fails for ranges we did not map, which these are not. A failure leaves pages resident.
        guard madvise(UnsafeMutableRawPointer(mutating: base), length, MADV_DONTNEED) == 0 else { return 0 }
        return length
    }

    /// Lets go of this process's resident copies of the pages holding `bytes` (a part of this
    /// file's mapping, such as a tensor whose weights were copied elsewhere at load time), rounded
    /// out to the mapping's 2 MB pages: reading the file there again, here or in data sharing those
    /// pages, maps them back from the file, so nothing a reader sees changes. (Rounded in, a 2 MB
    /// page mapped again for the next tensor would bring this one's tail back: 35 MB of a
    /// Llama-3.2-1B-shaped Q4_0 file stayed resident so.) Returns the bytes released.
    @discardableResult
    public func releasePages(around bytes: UnsafeRawBufferPointer) -> Int {
        guard let base, let start = bytes.baseAddress, start >= base, start + bytes.count <= base + size else { return 0 }
        let huge = Self.hugePageBytes, pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (start - base) / huge * huge
        let end = min((start - base + bytes.count + huge - 1) / huge * huge, (size + pageSize - 1) / pageSize * pageSize)
        guard end > first else { return 0 }
        guard madvise(UnsafeMutableRawPointer(mutating: base + first), end - first, MADV_DONTNEED) == 0 else { return 0 }
        return end - first
    }

    /// Advises the kernel to map the file from `offset` (rounded up to 2 MB) to its end in 2 MB
    /// pages: a model's weights, streamed once per token, where with 4 KB pages every 4 KB costs a
    /// TLB entry and stops the hardware prefetcher at a page's end (decode's matrix work 20% faster
    /// at this machine's high bandwidth; BENCHMARKS.md, issue 10). Where the kernel and the file
    /// system keep files in 2 MB page-cache folios (THP on; ext4 from Linux 6.16, xfs), the part
    /// first read after this advice is cached and mapped in 2 MB pages; a part already cached in
    /// small pages keeps them until evicted. Nothing is copied: the resident set is the file's pages
    /// either way. The bytes before `offset` (a header, read at load time and then released with
    /// `releasePages(before:)`) are advised MADV_NOHUGEPAGE, so they are read into small folios and
    /// mapped in small pages even where THP is `always`: a page is resident or not as a whole, and a
    /// header sharing a 2 MB one with the first weights would stay resident with them. (A header
    /// already cached in a 2 MB folio, by another program's reads, may still be mapped again whole
    /// when the first weights are read; evicting the file's cached pages clears that.)
    /// Returns whether the advice was taken (false for small files, other systems, and kernels
    /// built without THP; THP set to `never` takes the advice and ignores it).
    @discardableResult
    public func adviseHugePages(from offset: Int) -> Bool {
        #if os(Linux)
        let huge = Self.hugePageBytes
        guard let base, size >= huge, offset >= 0, offset < size,
              Int(bitPattern: base) % huge == 0 else { return false }
        let start = (offset + huge - 1) / huge * huge
        guard start < size else { return false }
        if start > 0 { _ = madvise(UnsafeMutableRawPointer(mutating: base), start, MADV_NOHUGEPAGE) }
        return madvise(UnsafeMutableRawPointer(mutating: base + start), size - start, MADV_HUGEPAGE) == 0
        #else
        return false
        #endif
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
