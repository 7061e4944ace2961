import Foundation
import Split

/// Reads the allocation counter of tools/bench/malloc_count.so when the process runs with it
/// preloaded (`LD_PRELOAD=…/malloc_count.so`), so a benchmark can show that its decode loop does
/// not allocate. Nil without the preload.
public enum AllocationCounter {
    private typealias CountFunction = @convention(c) () -> UInt64

    private static let function: CountFunction? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "split_malloc_count") else { return nil }
        return unsafeBitCast(symbol, to: CountFunction.self)
        #else
        return nil
        #endif
    }()

    /// Allocation calls so far in this process (every thread), or nil when not counted.
    public static var count: Int? { function.map { Int($0()) } }
}
