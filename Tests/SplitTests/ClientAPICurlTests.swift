import Foundation
import Testing
@testable import Split

/// Runs `/usr/bin/curl` with `arguments` and returns what it printed, without blocking a
/// concurrency thread while it runs.
func runCurl(_ arguments: [String]) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = arguments
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("split-curl-\(UUID().uuidString)")
    guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
        throw ClientAPIError(.internalError, "cannot create \(output.path)")
    }
    defer { try? FileManager.default.removeItem(at: output) }
    process.standardOutput = try FileHandle(forWritingTo: output)
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        process.terminationHandler = { _ in continuation.resume() }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    #expect(process.terminationStatus == 0, "curl exited with \(process.terminationStatus)")
    return String(decoding: try Data(contentsOf: output), as: UTF8.self)
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
}
