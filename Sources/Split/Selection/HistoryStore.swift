import Foundation
import GRDB

/// Every finished request's features, strategy and outcome, in SQLite (WAL mode: a writer
/// killed mid-transaction loses only that transaction), keeping the newest `retention` records.
/// Histories export to and import from a JSON document, so many devices' histories can be
/// pooled for training.
public final class HistoryStore: Sendable {
    public let path: String
    /// Most records kept; older ones are deleted as new ones arrive.
    public let retention: Int
    private let database: DatabasePool

    /// The format name and version an export carries.
    public static let exportFormat = "split-selection-history"
    public static let exportVersion = 1
    /// Largest export file read (a bound before anything is parsed).
    public static let maxImportBytes = 256 << 20

    /// Opens (creating if needed) the store at `path`.
    /// - Throws: `SelectionError.store` when the file cannot be opened as a history.
    public init(path: String, retention: Int = 100_000) throws {
        self.path = path
        self.retention = max(1, retention)
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw SelectionError.store("cannot open \(path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    recorded_at REAL NOT NULL,
                    device TEXT NOT NULL,
                    network TEXT NOT NULL,
                    strategy TEXT NOT NULL,
                    total_seconds REAL NOT NULL,
                    record TEXT NOT NULL)
                """)
        }
        return migrator
    }

    /// Appends records (one transaction) and enforces the retention bound.
    /// - Throws: `SelectionError.store` on a database error.
    public func record(_ records: [HistoryRecord]) throws {
        guard !records.isEmpty else { return }
        let encoded = try records.map { ($0, try Self.encode($0)) }
        do {
            try database.write { db in
                for (record, json) in encoded {
                    try db.execute(sql: """
                        INSERT INTO runs (recorded_at, device, network, strategy, total_seconds, record)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """, arguments: [record.recordedAt, record.features.device, record.features.network,
                                         record.strategy, record.totalSeconds, json])
                }
                try db.execute(sql: """
                    DELETE FROM runs WHERE id < (SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?)
                    """, arguments: [retention - 1])
            }
        } catch {
            throw SelectionError.store("cannot write to \(path): \(error)")
        }
    }

    /// Appends one record.
    /// - Throws: `SelectionError.store` on a database error.
    public func record(_ record: HistoryRecord) throws { try self.record([record]) }

    /// Records kept, oldest first (at most `limit`, the newest ones).
    /// - Throws: `SelectionError.store` on a database error or a row that does not decode.
    public func records(limit: Int? = nil) throws -> [HistoryRecord] {
        do {
            let rows = try database.read { db in
                try String.fetchAll(db, sql: "SELECT record FROM runs ORDER BY id DESC LIMIT ?", arguments: [limit ?? -1])
            }
            return try rows.reversed().map { try Self.decoder.decode(HistoryRecord.self, from: Data($0.utf8)) }
        } catch {
            throw SelectionError.store("cannot read \(path): \(error)")
        }
    }

    /// Number of records kept.
    /// - Throws: `SelectionError.store` on a database error.
    public func count() throws -> Int {
        do {
            return try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs") ?? 0 }
        } catch {
            throw SelectionError.store("cannot read \(path): \(error)")
        }
    }

    /// SQLite's own check of the file ("ok" when sound).
    /// - Throws: `SelectionError.store` on a database error.
    public func integrityCheck() throws -> String {
        do {
            return try database.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
        } catch {
            throw SelectionError.store("cannot check \(path): \(error)")
        }
    }

    /// The journal mode in force ("wal").
    public func journalMode() throws -> String {
        try database.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Writes every record to `path` as a JSON export document.
    /// - Throws: `SelectionError.store` on a read or write error.
    public func export(to file: String) throws {
        let document = ExportDocument(format: Self.exportFormat, version: Self.exportVersion, records: try records())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(document).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw SelectionError.store("cannot write \(file): \(error)")
        }
    }

    /// Adds every record of an export document, all or nothing: a file that does not read,
    /// is not an export, or holds one bad record is rejected whole and the store is unchanged.
    /// - Returns: the number of records imported.
    /// - Throws: `SelectionError.corruptImport` saying what was wrong, `.store` on a database error.
    @discardableResult
    public func importRecords(from file: String) throws -> Int {
        let records = try Self.readExport(file)
        try record(records)
        return records.count
    }

    /// The records of an export document, each validated.
    /// - Throws: `SelectionError.corruptImport` saying what was wrong.
    public static func readExport(_ file: String) throws -> [HistoryRecord] {
        func reject(_ reason: String) -> SelectionError { .corruptImport(path: file, reason: reason) }
        let attributes = try? FileManager.default.attributesOfItem(atPath: file)
        guard let size = (attributes?[.size] as? NSNumber)?.intValue else { throw reject("cannot read the file") }
        guard size <= maxImportBytes else { throw reject("\(size) bytes is more than the \(maxImportBytes)-byte limit") }
        guard let data = FileManager.default.contents(atPath: file) else { throw reject("cannot read the file") }
        let document: ExportDocument
        do {
            document = try decoder.decode(ExportDocument.self, from: data)
        } catch let error as DecodingError {
            throw reject("not a history export: \(describe(error))")
        } catch {
            throw reject("not a history export: \(error)")
        }
        guard document.format == exportFormat else { throw reject("format is '\(document.format)', expected '\(exportFormat)'") }
        guard document.version == exportVersion else { throw reject("version \(document.version), this build reads \(exportVersion)") }
        for (index, record) in document.records.enumerated() {
            do {
                try record.validate()
            } catch {
                throw reject("record \(index): \(error)")
            }
        }
        return document.records
    }

    private struct ExportDocument: Codable {
        var format: String
        var version: Int
        var records: [HistoryRecord]
    }

    // Plain camel-case keys: a snake-case round trip would mangle names such as edgeGEMVGBPerSecond.
    private static let decoder = JSONDecoder()

    private static func encode(_ record: HistoryRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(record), as: UTF8.self)
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return "\(path.isEmpty ? "" : "at \(path): ")\(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
