import Dispatch
import Foundation

/// Waits for SIGINT or SIGTERM, so a daemon can stop its threads and close its sockets.
public enum ShutdownSignals {
    /// Blocks the calling thread until SIGINT or SIGTERM arrives; returns the signal number.
    public static func wait() -> Int32 {
        let received = Locked<Int32>(0)
        let semaphore = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                received.withLock { $0 = number }
                semaphore.signal()
            }
            source.resume()
            sources.append(source)
        }
        semaphore.wait()
        sources.forEach { $0.cancel() }
        return received.current
    }
}

/// Runs a handler on SIGHUP (the usual "reload your configuration" signal).
public enum ReloadSignal {
    /// Calls `handler` on a global queue each time SIGHUP arrives; keep the returned source
    /// alive for as long as reloads should happen.
    public static func onHangUp(_ handler: @escaping @Sendable () -> Void) -> DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }
}

/// Reads an allow-list: a file of CURVE public keys, one Z85 key (or a `public-key: …` line)
/// per line, `#` comments and blank lines ignored.
public enum AllowList {
    /// - Throws: `CurveKeyError` naming the file and the line that is not a key.
    public static func read(_ path: String) throws -> Set<CurveKey> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CurveKeyError.unreadableFile(path: path, reason: "cannot read it as UTF-8 text")
        }
        var keys: Set<CurveKey> = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("public-key:") { line = String(line.dropFirst("public-key:".count)).trimmingCharacters(in: .whitespaces) }
            do {
                keys.insert(try CurveKey(z85: line))
            } catch {
                throw CurveKeyError.malformedFile(path: path, reason: "line \(number + 1) is not a Z85 public key")
            }
        }
        return keys
    }
}
