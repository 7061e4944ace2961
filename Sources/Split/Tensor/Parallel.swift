/// How many threads the runtime's kernels use.
///
/// The matrix kernels run on one fixed pool of worker threads (`Sources/CSplitKernels/Pool.c`,
/// one per core, started on first use, no thread created per token); this is the one place that
/// decides how many of them a multiply is split over.
public enum Parallel {
    /// Number of threads a matrix multiply is split over. Defaults to the active core count.
    nonisolated(unsafe) public static var threadCount: Int = max(1, ProcessInfoCores.active)
}

/// Wraps a value so it can cross into a closure that runs on another thread.
///
/// Safe only where the user guarantees exclusive access (each use says why).
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The number of cores this process may run on.
enum ProcessInfoCores {
    static var active: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
