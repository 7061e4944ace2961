import ArgumentParser
import Foundation
import Split

/// `edge-node history`: look after the selection history store (stats, export, import).
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Inspect, export and import the strategy-selection history (SQLite).",
        subcommands: [Stats.self, Export.self, Import.self, Fill.self])

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Records kept, per strategy, and the file's integrity.")
        @Option(name: .long, help: "History database.") var db: String

        func run() throws {
            let store = try HistoryStore(path: db)
            let records = try store.records()
            print("\(db): \(records.count) records, journal \(try store.journalMode()), integrity \(try store.integrityCheck())")
            for (strategy, runs) in Dictionary(grouping: records, by: \.strategy).sorted(by: { $0.key < $1.key }) {
                let mean = runs.reduce(0) { $0 + $1.totalSeconds } / Double(runs.count)
                print("  \(strategy): \(runs.count) runs, mean \(String(format: "%.1f", mean * 1e3)) ms")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write every record to a JSON export (to pool with other devices').")
        @Option(name: .long, help: "History database.") var db: String
        @Option(name: .long, help: "Export file to write.") var to: String

        func run() throws {
            let store = try HistoryStore(path: db)
            try store.export(to: to)
            print("exported \(try store.count()) records to \(to)")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add the records of a JSON export (all or nothing).")
        @Option(name: .long, help: "History database.") var db: String
        @Option(name: .long, help: "Export file to read.") var from: String

        func run() throws {
            let store = try HistoryStore(path: db)
            let count = try store.importRecords(from: from)
            print("imported \(count) records; \(try store.count()) kept")
        }
    }

    /// Writes synthetic records one transaction at a time, printing each commit: the crash
    /// test kills this process mid-write and checks the file.
    struct Fill: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write synthetic records, one commit each (for tests).")
        @Option(name: .long, help: "History database.") var db: String
        @Option(name: .long, help: "Records to write.") var count = 1000
        @Option(name: .long, help: "Records kept.") var retention = 100_000

        func run() throws {
            let store = try HistoryStore(path: db, retention: retention)
            for index in 0..<count {
                try store.record(HistoryRecord.synthetic(index))
                // Unbuffered, so every acknowledged commit is on the pipe before the next one starts.
                FileHandle.standardOutput.write(Data("committed \(index + 1)\n".utf8))
            }
        }
    }
}
