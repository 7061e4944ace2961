import Dispatch

/// Splits work across the machine's cores.
///
/// One place decides how the runtime's own kernels (f16 GEMV, attention heads) are spread
/// over threads, so that the thread policy can change without touching the kernels.
public enum Parallel {
    /// Number of worker threads the runtime's kernels use. Defaults to the active core count.
    nonisolated(unsafe) public static var threadCount: Int = max(1, ProcessInfoCores.active)

    /// Runs `body(chunkIndex, begin, end)` over `[0, total)` split into contiguous chunks, one
    /// per thread, and returns when all have finished. Runs inline when the work is small.
    public static func forEachChunk(
        total: Int, minimumPerChunk: Int = 64, _ body: (Int, Int, Int) -> Void
    ) {
        let chunks = min(threadCount, max(1, total / max(minimumPerChunk, 1)))
        if chunks <= 1 {
            body(0, 0, total)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let begin = total * chunk / chunks
                let end = total * (chunk + 1) / chunks
                box.value(chunk, begin, end)
            }
        }
    }
}

/// Wraps a value so it can cross into `concurrentPerform`'s closure.
///
/// Safe only because `forEachChunk` hands each chunk a disjoint output range and waits for all
/// chunks before returning; nothing else touches the wrapped closure.
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
