import Foundation
import Testing

/// A fresh directory under the system temporary directory, for one test's files.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "split-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) -> String {
        let target = file(name)
        #expect(FileManager.default.createFile(atPath: target, contents: Data(bytes)), "could not write \(target)")
        return target
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The path of a committed fixture under `Tests/SplitTests/Fixtures`.
func fixturePath(_ relative: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(relative).path
}
