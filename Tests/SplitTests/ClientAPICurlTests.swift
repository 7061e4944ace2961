import Foundation
import Testing
@testable import Split

/// A tool started with its output going to a file, which can be read while it runs.
struct RunningTool: Sendable {
    let process: Process
    let output: URL

    /// Starts `executable` with `arguments`. Output and errors go to a file, not a pipe, so a chatty
    /// tool can never block on a full pipe, and a test can watch it grow.
    static func start(_ executable: String, _ arguments: [String]) throws -> RunningTool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("split-tool-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
            throw ClientAPIError(.internalError, "cannot create \(output.path)")
        }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return RunningTool(process: process, output: output)
    }

    /// What the tool has printed so far.
    var printed: String { String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self) }

    /// Waits for the tool to exit, without blocking a concurrency thread, and returns its exit
    /// status and everything it printed.
    func finish() async -> (status: Int32, output: String) {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        defer { try? FileManager.default.removeItem(at: output) }
        return (process.terminationStatus, printed)
    }
}

/// Runs `executable` with `arguments` and returns its exit status and what it printed.
func runTool(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    await (try RunningTool.start(executable, arguments)).finish()
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
        // Reading the whole body would take far longer; loose for a busy 2-core machine.
        #expect(Date().timeIntervalSince(start) < 20)
    }

    @Test("curl sees each piece of a streamed completion as soon as it is produced")
    func curlSeesPiecesAsTheyCome() async throws {
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        let service = GatedCompletionService(gate: gate)
        let output = try await withOpenAIServer(service) { base in
            let curl = try RunningTool.start("/usr/bin/curl", [
                "-sS", "-N", "-H", "Content-Type: application/json", "-d", #"{"prompt":"x","stream":true}"#,
                base + "/v1/completions"])
            // The service holds its second piece back until curl has printed the first: a
            // server that buffered the stream would never show it, and this would time out.
            let deadline = Date().addingTimeInterval(10)
            while !curl.printed.contains("\"first\""), Date() < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let sawFirstAlone = curl.printed.contains("\"first\"") && !curl.printed.contains("second")
            opener.yield()
            opener.finish()
            let (status, output) = await curl.finish()
            #expect(status == 0)
            #expect(sawFirstAlone, "curl did not see the first piece before the second was produced")
            return output
        }
        #expect(try streamedText(serverSentEvents(Data(output.utf8))) == "first second")
    }
}

/// A service that sends "first", waits for its gate to open, then sends " second".
struct GatedCompletionService: CompletionService {
    let gate: AsyncStream<Void>
    let modelName = "gated"

    func complete(_ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) -> Void) async throws -> CompletionSummary {
        onEvent(.text("first", tokens: [1]))
        for await _ in gate { break }
        onEvent(.text(" second", tokens: [2]))
        return CompletionSummary(text: "first second", promptTokenCount: 1, completionTokenCount: 2, finishReason: .endOfText,
                                 strategy: "local", timeToFirstTokenSeconds: 0, totalSeconds: 0)
    }
}
