import CSplitKernels

/// The instruction-set path the C kernels run in this process: every path the architecture has
/// is in the binary, and the fastest one the CPU runs is chosen when the process starts
/// (`SPLIT_KERNELS=scalar|avx2|avx512|neon|neon-dotprod` picks another; a process asked for a
/// path its CPU lacks stops at start with exit status 2 and says why).
public enum KernelPath: Int32, CaseIterable, Sendable {
    case scalar = 0, avx2 = 1, avx512 = 2, neon = 3, neonDotProduct = 4

    /// The path this process's kernels run.
    public static var current: KernelPath { KernelPath(rawValue: split_kernel_path()) ?? .scalar }

    /// Every path this binary holds and this CPU runs, the scalar one first.
    public static var available: [KernelPath] { allCases.filter(\.isAvailable) }

    /// The name `SPLIT_KERNELS`, `/metrics` and the benchmarks use ("avx2", "neon-dotprod").
    public var name: String { String(cString: split_kernel_path_name(rawValue)) }

    /// Whether this binary holds the path and this CPU runs it.
    public var isAvailable: Bool { split_kernels_for_path(rawValue) != nil }

    /// The path a `SPLIT_KERNELS` value names.
    /// - Throws: `KernelPathError` naming the value and the paths this CPU runs, when the value
    ///   is no path or one this CPU lacks.
    public static func requested(_ value: String) throws -> KernelPath {
        var message = [CChar](repeating: 0, count: 256)
        let path = split_kernel_path_request(value, &message, message.count)
        guard path >= 0, let kernelPath = KernelPath(rawValue: path) else {
            throw KernelPathError(message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return kernelPath
    }
}

/// A `SPLIT_KERNELS` value that names no path this CPU runs.
public struct KernelPathError: Error, CustomStringConvertible, Sendable {
    /// The value, why it was refused, and the paths this CPU runs.
    public let message: String
    public var description: String { message }
}
