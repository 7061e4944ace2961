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
    /// (measured: 992 MB RSS with 56 MB of KV under a 64 MB budget, `cloud-node bench`).
    public static func returnLargeFreesToSystem(thresholdBytes: Int32 = 64 << 10) {
        _ = split_set_mmap_threshold(thresholdBytes)
    }

    /// Where the resident set is now, from `/proc/self/smaps`: pages of the mappings of files
    /// whose path contains `modelPath`, of every other file (the executable and its libraries),
    /// and anonymous memory (heap, thread stacks, caches, scratch). Nil where smaps is missing.
    public struct ResidentBreakdown: Sendable, Codable {
        public var modelFileBytes: Int
        public var codeBytes: Int
        public var anonymousBytes: Int
    }

    /// The current `ResidentBreakdown`, counting mappings of `modelPath` (absolute, as the
    /// kernel prints it) as the model's.
    public static func residentBreakdown(modelPath: String) -> ResidentBreakdown? {
        // /proc files report size 0, so read to the end rather than by the file's size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps"),
              let data = try? handle.readToEnd() else { return nil }
        try? handle.close()
        let text = String(decoding: data, as: UTF8.self)
        var result = ResidentBreakdown(modelFileBytes: 0, codeBytes: 0, anonymousBytes: 0)
        var kind = 0  // 0 anonymous, 1 model file, 2 other file
        for line in text.split(separator: "\n") {
            let head = line.prefix { $0 != " " }
            if head.contains("-"), !head.contains(":") {
                // "7f12…-7f13… r-xp 00000000 fd:01 1234   /usr/lib/…": a path starts with '/'.
                let path = line.firstIndex(of: "/").map { String(line[$0...]) }
                kind = path.map { $0 == modelPath ? 1 : 2 } ?? 0
            } else if line.hasPrefix("Rss:") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                guard parts.count >= 2, let kilobytes = Int(parts[1]) else { continue }
                switch kind {
                case 1: result.modelFileBytes += kilobytes * 1024
                case 2: result.codeBytes += kilobytes * 1024
                default: result.anonymousBytes += kilobytes * 1024
                }
            }
        }
        return result
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
