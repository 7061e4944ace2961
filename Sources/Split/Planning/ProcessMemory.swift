import CSplitKernels
import Foundation

/// This process's memory as the kernel reports it (`/proc/self/status`), for benchmarks that
/// print resident and peak memory. Nil where the file or the field is missing (not Linux).
public enum ProcessMemory {
    /// Resident set size now, in bytes (`VmRSS`).
    public static var residentBytes: Int? { field("VmRSS") }
    /// Peak resident set size since the process started, in bytes (`VmHWM`).
    public static var peakResidentBytes: Int? { field("VmHWM") }

    /// Makes every large allocation (KV caches, activations) its own mapping, returned to the
    /// system when freed. glibc otherwise raises its mmap threshold after the first large free and
    /// serves later ones from the heap, which it rarely gives back: a cloud that evicts and
    /// rebuilds sessions under a KV budget then keeps growing in RSS although its caches do not
    /// (measured: 992 MB RSS with 56 MB of KV under a 64 MB budget, `split-bench cloud-load`).
    public static func returnLargeFreesToSystem(thresholdBytes: Int32 = 64 << 10) {
        _ = split_set_mmap_threshold(thresholdBytes)
    }

    /// Where the resident set is now, from `/proc/self/smaps`: pages of the mappings of files
    /// whose path contains `modelPath`, of every other file (the executable and its libraries),
    /// and anonymous memory (heap, thread stacks, caches, scratch). Nil where smaps is missing.
    public struct ResidentBreakdown: Sendable, Codable {
        public var modelFileBytes: Int
        /// The part of `modelFileBytes` mapped in 2 MB pages (see `MappedFile`).
        public var modelFileHugePageBytes: Int
        public var codeBytes: Int
        public var anonymousBytes: Int
    }

    /// The current `ResidentBreakdown`, counting mappings of `modelPath` (absolute, as the
    /// kernel prints it) as the model's.
    public static func residentBreakdown(modelPath: String) -> ResidentBreakdown? {
        var bytes: [UInt64] = [0, 0, 0, 0]
        guard split_resident_breakdown(modelPath, &bytes) == 1 else { return nil }
        return ResidentBreakdown(modelFileBytes: Int(bytes[0]), modelFileHugePageBytes: Int(bytes[3]),
                                 codeBytes: Int(bytes[1]), anonymousBytes: Int(bytes[2]))
    }

    private static func field(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            // "VmRSS:     12345 kB"
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let kilobytes = Int(parts[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}
