import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import ServiceLifecycle
import Testing
@testable import Split

/// A service that answers every prompt with the same words, one text event per word, so a
/// client's view of a completion can be checked exactly.
struct EchoCompletionService: CompletionService {
    static let words = ["Hello,", " world", " from", " the", " split", "."]
    let modelName = "echo-test"
    let log = RequestLog()

    func complete(_ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) -> Void) async throws -> CompletionSummary {
        await log.record(request)
        let count = min(request.maxTokens, Self.words.count)
        for (index, word) in Self.words.prefix(count).enumerated() {
            onEvent(.text(word, tokens: [Int32(index + 1)]))
        }
        return CompletionSummary(
            text: Self.words.prefix(count).joined(), promptTokenCount: request.prompt.split(separator: " ").count,
            completionTokenCount: count, finishReason: count < Self.words.count ? .length : .endOfText,
            strategy: request.strategy ?? "local", degraded: false, timeToFirstTokenSeconds: 0.001, totalSeconds: 0.002)
    }
}

/// The requests a test double received, in order.
actor RequestLog {
    private(set) var requests: [CompletionRequest] = []
    func record(_ request: CompletionRequest) { requests.append(request) }
}

/// A service whose cloud is gone: every completion fails before producing text.
struct UnavailableCompletionService: CompletionService {
    let modelName = "no-cloud"
    func complete(_ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) -> Void) async throws -> CompletionSummary {
        throw CompletionError.cloudUnavailable("no cloud endpoint answered within 2 s")
    }
}

/// A service that loses its cloud after the first word.
struct MidStreamFailureService: CompletionService {
    let modelName = "flaky"
    func complete(_ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) -> Void) async throws -> CompletionSummary {
        onEvent(.text("Hello", tokens: [1]))
        throw CompletionError.cloudUnavailable("connection lost")
    }
}

/// Runs an OpenAI server for `service` on an ephemeral loopback port for the length of `body`.
func withOpenAIServer<Result: Sendable>(
    _ service: some CompletionService, limits: ClientAPILimits = .standard, configuration: OpenAIServerConfiguration? = nil,
    _ body: @Sendable (_ baseURL: String) async throws -> Result
) async throws -> Result {
    var quietLogger = Logger(label: "split.openai.test")
    quietLogger.logLevel = .warning
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let app = OpenAIServer.buildApplication(
        configuration: configuration ?? OpenAIServerConfiguration(host: "127.0.0.1", port: 0, limits: limits),
        service: service, logger: quietLogger, onServerRunning: { port in portContinuation.yield(port) })
    // Stopped the way SIGTERM stops the daemon: a graceful shutdown of its service group.
    let services = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: quietLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ClientAPIError(.internalError, "server did not start") }
        do {
            let result = try await body("http://127.0.0.1:\(port)")
            await services.triggerGracefulShutdown()
            return result
        } catch {
            await services.triggerGracefulShutdown()
            throw error
        }
    }
}

/// One HTTP exchange over a real socket.
func httpRequest(_ url: String, method: String = "GET", body: Data? = nil) async throws -> (status: Int, body: Data) {
    guard let target = URL(string: url) else { throw ClientAPIError(.invalidRequest, "bad URL \(url)") }
    var request = URLRequest(url: target)
    request.httpMethod = method
    request.httpBody = body
    if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
}

/// A JSON body as a dictionary, for checking shapes field by field.
func jsonObject(_ data: Data) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw ClientAPIError(.invalidJSON, "not a JSON object: \(String(decoding: data, as: UTF8.self))")
    }
    return object
}

/// The JSON payloads of a server-sent event stream, `[DONE]` included as a string.
func serverSentEvents(_ data: Data) -> [String] {
    String(decoding: data, as: UTF8.self).components(separatedBy: "\n\n")
        .filter { $0.hasPrefix("data: ") }
        .map { String($0.dropFirst("data: ".count)) }
}

/// The text of a stream's chunks, in order.
func streamedText(_ events: [String]) throws -> String {
    try events.filter { $0 != "[DONE]" }.map { event in
        let chunk = try jsonObject(Data(event.utf8))
        let choices = chunk["choices"] as? [[String: Any]] ?? []
        return choices.first?["text"] as? String ?? ""
    }.joined()
}

@Suite("OpenAI-compatible HTTP endpoint")
struct ClientAPIHTTPTests {
    @Test("a completion comes back whole in OpenAI's text_completion shape")
    func wholeCompletion() async throws {
        let service = EchoCompletionService()
        let (status, body) = try await withOpenAIServer(service) { base in
            try await httpRequest(base + "/v1/completions", method: "POST",
                                  body: Data(#"{"model":"x","prompt":"say hello","max_tokens":10,"temperature":0}"#.utf8))
        }
        #expect(status == 200)
        let object = try jsonObject(body)
        #expect(object["object"] as? String == "text_completion")
        #expect((object["id"] as? String)?.hasPrefix("cmpl-") == true)
        #expect(object["model"] as? String == "echo-test")
        #expect(object["created"] as? Int != nil)
        let choice = try #require((object["choices"] as? [[String: Any]])?.first)
        #expect(choice["text"] as? String == "Hello, world from the split.")
        #expect(choice["finish_reason"] as? String == "stop")
        #expect(choice["index"] as? Int == 0)
        #expect(choice.keys.contains("logprobs"))
        let usage = try #require(object["usage"] as? [String: Any])
        #expect(usage["prompt_tokens"] as? Int == 2)
        #expect(usage["completion_tokens"] as? Int == 6)
        #expect(usage["total_tokens"] as? Int == 8)
        let split = try #require(object["split"] as? [String: Any])
        #expect(split["strategy"] as? String == "local")
        #expect(split["degraded"] as? Bool == false)
    }

    @Test("a streamed completion arrives as one event per piece of text, then [DONE]")
    func streamedCompletion() async throws {
        let (status, body) = try await withOpenAIServer(EchoCompletionService()) { base in
            try await httpRequest(base + "/v1/completions", method: "POST",
                                  body: Data(#"{"prompt":"say hello","stream":true,"max_tokens":4}"#.utf8))
        }
        #expect(status == 200)
        let events = serverSentEvents(body)
        #expect(events.last == "[DONE]")
        #expect(events.count == 4 + 2)  // 4 pieces, the finishing chunk, [DONE]
        #expect(try streamedText(events) == "Hello, world from the")
        let last = try jsonObject(Data(events[events.count - 2].utf8))
        let choice = try #require((last["choices"] as? [[String: Any]])?.first)
        #expect(choice["finish_reason"] as? String == "length")
        #expect((last["usage"] as? [String: Any])?["completion_tokens"] as? Int == 4)
    }

    @Test("the request's fields reach the service, with OpenAI's defaults for the rest")
    func fieldsReachTheService() async throws {
        let service = EchoCompletionService()
        _ = try await withOpenAIServer(service) { base in
            _ = try await httpRequest(base + "/v1/completions", method: "POST", body: Data(#"""
                {"prompt":["def f():"],"top_k":5,"top_p":0.9,"temperature":0.5,"seed":7,"stop":"\n\n",
                 "strategy":"split(k=2)","allow_degraded":true,"user":"ignored","presence_penalty":0}
                """#.utf8))
            _ = try await httpRequest(base + "/v1/completions", method: "POST", body: Data(#"{"prompt":"x"}"#.utf8))
        }
        let requests = await service.log.requests
        #expect(requests.count == 2)
        let first = try #require(requests.first)
        #expect(first.prompt == "def f():")
        #expect(first.sampling == SamplingParameters(temperature: 0.5, topK: 5, topP: 0.9, seed: 7))
        #expect(first.stop == ["\n\n"])
        #expect(first.strategy == "split(k=2)")
        #expect(first.allowDegraded)
        #expect(first.maxTokens == 16)
        #expect(requests[1].sampling.temperature == 1)
        #expect(requests[1].strategy == nil)
        #expect(!requests[1].allowDegraded)
    }

    @Test("GET /v1/models lists the served model")
    func models() async throws {
        let (status, body) = try await withOpenAIServer(EchoCompletionService()) { base in
            try await httpRequest(base + "/v1/models")
        }
        #expect(status == 200)
        let list = try JSONDecoder().decode(OpenAIModelList.self, from: body)
        #expect(list.object == "list")
        #expect(list.data.map(\.id) == ["echo-test"])
    }

    @Test("GET /v1/models/{model} describes the served model and 404s any other")
    func oneModel() async throws {
        let (served, other) = try await withOpenAIServer(EchoCompletionService()) { base in
            (try await httpRequest(base + "/v1/models/echo-test"), try await httpRequest(base + "/v1/models/gpt-4"))
        }
        #expect(served.status == 200)
        #expect(try JSONDecoder().decode(OpenAIModelList.Model.self, from: served.body).id == "echo-test")
        #expect(other.status == 404)
        #expect(try JSONDecoder().decode(OpenAIErrorBody.self, from: other.body).error.param == "model")
    }

    @Test("health and readiness answer")
    func healthAndReady() async throws {
        let (health, ready) = try await withOpenAIServer(EchoCompletionService()) { base in
            (try await httpRequest(base + "/health"), try await httpRequest(base + "/ready"))
        }
        #expect(health.status == 200)
        #expect(ready.status == 200)
        let status = try JSONDecoder().decode(ClientStatus.self, from: ready.body)
        #expect(status == ClientStatus(model: "echo-test", ready: true))
    }

    @Test("bad JSON is refused with 400 and an OpenAI error body")
    func badJSON() async throws {
        let (status, body) = try await withOpenAIServer(EchoCompletionService()) { base in
            try await httpRequest(base + "/v1/completions", method: "POST", body: Data(#"{"prompt": "unterminated"#.utf8))
        }
        #expect(status == 400)
        let error = try JSONDecoder().decode(OpenAIErrorBody.self, from: body).error
        #expect(error.type == "invalid_request_error")
        #expect(error.code == "invalid_json")
        #expect(!error.message.isEmpty)
    }

    @Test("a field out of range is refused with 400 naming it")
    func badField() async throws {
        let (status, body) = try await withOpenAIServer(EchoCompletionService()) { base in
            try await httpRequest(base + "/v1/completions", method: "POST", body: Data(#"{"prompt":"x","max_tokens":0}"#.utf8))
        }
        #expect(status == 400)
        let error = try JSONDecoder().decode(OpenAIErrorBody.self, from: body).error
        #expect(error.param == "max_tokens")
        #expect(error.code == "invalid_request")
    }

    @Test("a body past the configured limit is refused with 413")
    func oversizeBody() async throws {
        let limits = ClientAPILimits(maxMessageBytes: 1024)
        let prompt = String(repeating: "a", count: 4000)
        let (status, body) = try await withOpenAIServer(EchoCompletionService(), limits: limits) { base in
            try await httpRequest(base + "/v1/completions", method: "POST", body: Data(#"{"prompt":"\#(prompt)"}"#.utf8))
        }
        #expect(status == 413)
        let error = try JSONDecoder().decode(OpenAIErrorBody.self, from: body).error
        #expect(error.code == "too_large")
    }

    @Test("a lost cloud answers 503 with the service's message, streamed or not", arguments: [false, true])
    func cloudUnavailable(stream: Bool) async throws {
        let (status, body) = try await withOpenAIServer(UnavailableCompletionService()) { base in
            try await httpRequest(base + "/v1/completions", method: "POST",
                                  body: Data(#"{"prompt":"x","stream":\#(stream)}"#.utf8))
        }
        #expect(status == 503)
        let error = try JSONDecoder().decode(OpenAIErrorBody.self, from: body).error
        #expect(error.code == "cloud_unavailable")
        #expect(error.message.contains("no cloud endpoint answered"))
    }

    @Test("a stream that fails midway ends with an error event and no [DONE]")
    func midStreamFailure() async throws {
        let (status, body) = try await withOpenAIServer(MidStreamFailureService()) { base in
            try await httpRequest(base + "/v1/completions", method: "POST", body: Data(#"{"prompt":"x","stream":true}"#.utf8))
        }
        #expect(status == 200)
        let events = serverSentEvents(body)
        #expect(events.count == 2)
        #expect(!events.contains("[DONE]"))
        let error = try JSONDecoder().decode(OpenAIErrorBody.self, from: Data((events.last ?? "").utf8)).error
        #expect(error.code == "cloud_unavailable")
    }

    @Test("an unknown route answers 404 with an error body, and the server keeps serving")
    func unknownRoute() async throws {
        let (missing, models) = try await withOpenAIServer(EchoCompletionService()) { base in
            (try await httpRequest(base + "/v1/chat/nothing"), try await httpRequest(base + "/v1/models"))
        }
        #expect(missing.status == 404)
        #expect(try JSONDecoder().decode(OpenAIErrorBody.self, from: missing.body).error.code == "not_found")
        #expect(models.status == 200)
    }
}
