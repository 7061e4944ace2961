import Foundation
import Split

/// A one-line progress bar on standard error, redrawn in place (`\r`), for long measurements.
public final class ProgressBar: @unchecked Sendable {
    // Safe to send: the last drawn state is behind `lock`.
    private let lock = NSLock()
    private let width = 30
    private var lastLine = ""

    public init() {}

    /// Draws `fraction` (0…1) and what is being done.
    public func update(_ fraction: Double, _ what: String) {
        let clamped = min(1, max(0, fraction.isFinite ? fraction : 0))
        let filled = Int((clamped * Double(width)).rounded())
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            + "] " + String(format: "%3d%% ", Int(clamped * 100)) + what
        lock.lock()
        defer { lock.unlock() }
        // Pad over a longer previous line so no stale characters remain.
        let padded = line.padding(toLength: max(line.count, lastLine.count), withPad: " ", startingAt: 0)
        lastLine = line
        FileHandle.standardError.write(Data(padded.utf8))
    }

    /// Ends the bar's line.
    public func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
