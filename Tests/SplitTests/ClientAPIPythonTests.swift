import Foundation
import Testing
@testable import Split

/// `clients/python`, found from this file's place in the repository.
let pythonClientDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("clients/python")

@Suite("Python clients", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
struct ClientAPIPythonTests {
    @Test("the standard-library HTTP example gets a whole and a streamed completion")
    func httpExample() async throws {
        let script = pythonClientDirectory.appendingPathComponent("http_example.py").path
        let (status, output) = try await withOpenAIServer(EchoCompletionService()) { base in
            try await runTool("/usr/bin/python3", [script, base, "say hello"])
        }
        #expect(status == 0, "\(output)")
        #expect(output.contains("models: ['echo-test']"))
        #expect(output.contains("whole: 'Hello, world from the split.'"))
        #expect(output.contains("streamed: Hello, world from the split.\n"))
    }
}
