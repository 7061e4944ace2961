import Foundation
import Testing
@testable import Split

@Suite("Selection history under a crash")
struct HistoryCrashTests {
    @Test("the history survives kill -9 of a writer mid-write: sound file, every acknowledged record kept")
    func survivesKill() throws {
        let directory = NSTemporaryDirectory() + "split-history-crash-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = directory + "/history.sqlite"
        var before = 0
        for round in 0..<3 {
            let writer = try Daemon("edge-node", ["history", "fill", "--db", db, "--count", "1000000"], name: "history-fill-\(round)")
            // Let it commit a few hundred records, then kill it wherever it is.
            try writer.waitFor("committed \(200 * (round + 1))", timeoutSeconds: 60)
            writer.kill9()
            let acknowledged = writer.output.split(separator: "\n").compactMap { line in
                line.hasPrefix("committed ") ? Int(line.dropFirst("committed ".count)) : nil
            }.max() ?? 0
            let store = try HistoryStore(path: db)
            #expect(try store.integrityCheck() == "ok")
            #expect(try store.journalMode() == "wal")
            let count = try store.count()
            // Earlier rounds' records plus every commit this round acknowledged (and at most
            // the one it was writing when killed).
            #expect(count >= before + acknowledged && count <= before + acknowledged + 1,
                    "round \(round): \(count) records, \(before) before, \(acknowledged) acknowledged")
            #expect(try store.records(limit: 5).count == 5)
            before = count
        }
    }
}
