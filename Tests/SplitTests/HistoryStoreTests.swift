import Foundation
import Testing
@testable import Split

@Suite("Selection history store")
struct HistoryStoreTests {
    @Test("records read back in order, in WAL mode, and only the newest `retention` are kept")
    func recordsAndRetention() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try HistoryStore(path: directory.file("history.sqlite"), retention: 10)
        #expect(try store.journalMode() == "wal")
        for index in 0..<25 { try store.record(HistoryRecord.synthetic(index)) }
        let kept = try store.records()
        #expect(kept.count == 10)
        #expect(kept.map(\.recordedAt) == (15..<25).map(Double.init))
        #expect(kept.last == HistoryRecord.synthetic(24))
        try store.record((25..<40).map(HistoryRecord.synthetic))
        #expect(try store.count() == 10)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test("an export imports into another store, record for record")
    func exportImport() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = try HistoryStore(path: directory.file("a.sqlite"))
        try source.record((0..<20).map(HistoryRecord.synthetic))
        try source.export(to: directory.file("export.json"))
        let target = try HistoryStore(path: directory.file("b.sqlite"))
        try target.record(HistoryRecord.synthetic(100))
        #expect(try target.importRecords(from: directory.file("export.json")) == 20)
        #expect(try target.records() == [HistoryRecord.synthetic(100)] + (0..<20).map(HistoryRecord.synthetic))
    }

    @Test("a corrupt import is rejected with a clear error and the store is unchanged",
          arguments: ["truncated", "not json", "wrong format", "bad record", "bad strategy", "empty"])
    func corruptImport(kind: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = try HistoryStore(path: directory.file("a.sqlite"))
        try source.record((0..<5).map(HistoryRecord.synthetic))
        let exportPath = directory.file("export.json")
        try source.export(to: exportPath)
        var text = try String(contentsOfFile: exportPath, encoding: .utf8)
        switch kind {
        case "truncated": text = String(text.prefix(text.count / 2))
        case "not json": text = "SQLite format 3\u{0}garbage"
        case "wrong format": text = text.replacingOccurrences(of: HistoryStore.exportFormat, with: "something-else")
        case "bad record": text = text.replacingOccurrences(of: "\"totalSeconds\":0.05", with: "\"totalSeconds\":-1")
        case "bad strategy": text = text.replacingOccurrences(of: "\"strategy\":\"local\"", with: "\"strategy\":\"warp-drive\"")
        default: text = ""
        }
        try text.write(toFile: exportPath, atomically: true, encoding: .utf8)
        let target = try HistoryStore(path: directory.file("b.sqlite"))
        try target.record((100..<103).map(HistoryRecord.synthetic))
        do {
            try target.importRecords(from: exportPath)
            Issue.record("a \(kind) import was accepted")
        } catch let error as SelectionError {
            guard case .corruptImport(let path, let reason) = error else { Issue.record("\(error)"); return }
            #expect(path == exportPath)
            #expect(!reason.isEmpty)
            #expect("\(error)".contains("nothing imported"))
        }
        #expect(try target.records() == (100..<103).map(HistoryRecord.synthetic))
        #expect(try target.integrityCheck() == "ok")
    }

    @Test("a file that is not SQLite cannot be opened as a history")
    func notADatabase() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.write(Array("this is not a database, it is a text file that is long enough".utf8) + [UInt8](repeating: 7, count: 4096),
                                   to: "junk.sqlite")
        #expect(throws: SelectionError.self) { _ = try HistoryStore(path: path) }
    }
}
