import Foundation
import Testing
@testable import Split

/// `clients/python`, found from this file's place in the repository.
let pythonClientDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("clients/python")

/// Whether `python3` on the PATH can import `module` (checked once, before the tests run).
func pythonCanImport(_ module: String) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import \(module)"]
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

/// `python3` with pyzmq, which the socket client needs.
let pythonHasZMQ = pythonCanImport("zmq")
/// `python3` with only its standard library, which the HTTP example needs.
let pythonAvailable = pythonCanImport("json")

@Suite("Python clients", .enabled(if: pythonAvailable))
struct ClientAPIPythonTests {
    @Test("the standard-library HTTP example gets a whole and a streamed completion")
    func httpExample() async throws {
        let script = pythonClientDirectory.appendingPathComponent("http_example.py").path
        let (status, output) = try await withOpenAIServer(EchoCompletionService()) { base in
            try await runTool("/usr/bin/env", ["python3", script, base, "say hello"])
        }
        #expect(status == 0, "\(output)")
        #expect(output.contains("models: ['echo-test']"))
        #expect(output.contains("whole: 'Hello, world from the split.'"))
        #expect(output.contains("streamed: Hello, world from the split.\n"))
    }

    @Test("the official OpenAI SDK works unchanged against the endpoint", .enabled(if: pythonCanImport("openai")))
    func openAISDK() async throws {
        let script = pythonClientDirectory.appendingPathComponent("openai_example.py").path
        let (status, output) = try await withOpenAIServer(EchoCompletionService()) { base in
            try await runTool("/usr/bin/env", ["python3", script, base + "/v1", "say hello"])
        }
        #expect(status == 0, "\(output)")
        #expect(output.contains("model: echo-test"))
        #expect(output.contains("whole: 'Hello, world from the split.' stop 8"))
        #expect(output.contains("streamed: Hello, world from the split.\n"))
    }
}
