import Foundation

/// This process's memory as the kernel reports it (`/proc/self/status`), for benchmarks that
/// print resident and peak memory. Nil where the file or the field is missing (not Linux).
public enum ProcessMemory {
    /// Resident set size now, in bytes (`VmRSS`).
    public static var residentBytes: Int? { field("VmRSS") }
    /// Peak resident set size since the process started, in bytes (`VmHWM`).
    public static var peakResidentBytes: Int? { field("VmHWM") }

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
