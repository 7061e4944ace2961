import CSplitKernels

/// How many threads the runtime's kernels use.
///
/// The matrix kernels run on one fixed pool of worker threads (`Sources/CSplitKernels/Pool.c`,
/// one per core, started on first use, no thread created per token); this is the one place that
/// decides how many of them a multiply is split over.
public enum Parallel {
    /// Number of threads a matrix multiply is split over. Defaults to the active core count.
    nonisolated(unsafe) public static var threadCount: Int = max(1, ProcessInfoCores.active)

    /// Sets the number of threads the runtime's kernels use (at least 1); call before serving.
    public static func setThreads(_ count: Int) {
        threadCount = max(1, count)
    }
}

extension Parallel {
    /// Runs `body(index)` for every index in `0 ..< count` on the worker pool, one chunk each
    /// (the calling thread runs chunks too), and returns when all are done; in order on the
    /// calling thread when there is one index or one thread. `body` must be safe to run for
    /// different indices at once (each writes only its own outputs).
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        guard count > 1, threadCount > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var task = body
            withUnsafeMutablePointer(to: &task) { context in
                split_pool_run({ context, index, _ in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, context, count)
            }
        }
    }
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
