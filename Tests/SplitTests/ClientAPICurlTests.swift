import Foundation
import Testing
@testable import Split

/// Runs `executable` with `arguments` and returns its exit status and what it printed,
/// without blocking a concurrency thread while it runs.
func runTool(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    // Output goes to a file, not a pipe, so a chatty tool can never block on a full pipe.
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("split-tool-\(UUID().uuidString)")
    guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
        throw ClientAPIError(.internalError, "cannot create \(output.path)")
    }
    defer { try? FileManager.default.removeItem(at: output) }
    process.standardOutput = try FileHandle(forWritingTo: output)
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        process.terminationHandler = { _ in continuation.resume() }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    return (process.terminationStatus, String(decoding: try Data(contentsOf: output), as: UTF8.self))
}

/// Runs `/usr/bin/curl` and returns what it printed, expecting success.
func runCurl(_ arguments: [String]) async throws -> String {
    let (status, output) = try await runTool("/usr/bin/curl", arguments)
    #expect(status == 0, "curl exited with \(status)")
    return output
}

@Suite("curl against /v1/completions")
struct ClientAPICurlTests {
    @Test("curl gets a whole completion")
    func curlWhole() async throws {
        let output = try await withOpenAIServer(EchoCompletionService()) { base in
            try await runCurl(["-sS", "--fail-with-body", "-H", "Content-Type: application/json",
                               "-d", #"{"model":"echo-test","prompt":"say hello","max_tokens":16}"#,
                               base + "/v1/completions"])
        }
        let object = try jsonObject(Data(output.utf8))
        let choice = try #require((object["choices"] as? [[String: Any]])?.first)
        #expect(choice["text"] as? String == "Hello, world from the split.")
        #expect(object["object"] as? String == "text_completion")
    }

    @Test("curl gets a streamed completion as server-sent events")
    func curlStreamed() async throws {
        let output = try await withOpenAIServer(EchoCompletionService()) { base in
            try await runCurl(["-sS", "-N", "--fail-with-body", "-H", "Content-Type: application/json",
                               "-d", #"{"model":"echo-test","prompt":"say hello","stream":true}"#,
                               base + "/v1/completions"])
        }
        let events = serverSentEvents(Data(output.utf8))
        #expect(events.last == "[DONE]")
        #expect(try streamedText(events) == "Hello, world from the split.")
    }

    @Test("a body far past the limit is refused with 413 without waiting for all of it")
    func curlOversize() async throws {
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("split-big-\(UUID().uuidString).json")
        try Data(("{\"prompt\":\"" + String(repeating: "a", count: 8 << 20) + "\"}").utf8).write(to: body)
        defer { try? FileManager.default.removeItem(at: body) }
        let start = Date()
        let output = try await withOpenAIServer(EchoCompletionService(), limits: ClientAPILimits(maxMessageBytes: 4096)) { base in
            try await runCurl(["-sS", "-H", "Content-Type: application/json", "--data-binary", "@" + body.path,
                               "-w", "\n%{http_code}", base + "/v1/completions"])
        }
        #expect(output.hasSuffix("\n413"), "\(output.suffix(200))")
        #expect(output.contains("too_large"))
        #expect(Date().timeIntervalSince(start) < 5)
    }
}
