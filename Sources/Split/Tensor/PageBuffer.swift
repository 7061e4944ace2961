#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Anonymous memory for weights rewritten at load time (Q4_0 repacked into 8-row groups): mapped
/// at a 2 MB boundary and advised for 2 MB pages on Linux, as the model file's weights are
/// (`MappedFile.adviseHugePages`), so the decode streams them the same way. Only the pages
/// written count in the resident set: the tail past the last whole 2 MB stays in small pages.
///
/// `@unchecked Sendable`: written once while loading, before the buffer is shared; read-only after.
final class PageBuffer: @unchecked Sendable {
    let byteCount: Int
    let pointer: UnsafeMutableRawPointer
    private let mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int

    /// Maps `byteCount` bytes, or returns nil when the system refuses (out of memory or address space).
    init?(byteCount: Int) {
        let huge = MappedFile.hugePageBytes
        let (reservation, overflow) = max(byteCount, 1).addingReportingOverflow(huge)
        guard !overflow,
              let mapped = mmap(nil, reservation, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapped != MAP_FAILED else { return nil }
        let offset = (huge - Int(bitPattern: mapped) % huge) % huge
        self.byteCount = byteCount
        mapping = mapped
        mappedBytes = reservation
        pointer = mapped + offset
        #if os(Linux)
        _ = madvise(pointer, byteCount / huge * huge, MADV_HUGEPAGE)  // the whole 2 MB pages only
        #endif
    }

    deinit {
        // munmap only fails for an address/length we did not get from mmap: a programmer error.
        let result = munmap(mapping, mappedBytes)
        assert(result == 0, "munmap failed for a \(byteCount)-byte page buffer")
    }
}
