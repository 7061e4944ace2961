import Foundation
import Testing
@testable import Split

/// Runs a client API socket server for `service` on a loopback TCP port and an `ipc://` path
/// for the length of `body`, which gets both bound endpoints.
func withSocketServer<Result: Sendable>(
    _ service: some CompletionService, maxConcurrentRequests: Int = 64,
    _ body: @Sendable (_ context: ZMQContext, _ tcp: String, _ ipc: String) async throws -> Result
) async throws -> Result {
    let context = try ZMQContext()
    let ipcPath = FileManager.default.temporaryDirectory.appendingPathComponent("split-api-\(UUID().uuidString).sock").path
    let server = ClientSocketServer(
        context: context, endpoints: ["tcp://127.0.0.1:*", "ipc://" + ipcPath],
        handler: ClientRequestHandler(service: service), maxConcurrentRequests: maxConcurrentRequests)
    try server.start()
    defer { server.stop() }
    let bound = server.boundEndpoints
    return try await body(context, bound[0], bound[1])
}

/// Runs blocking socket work on its own thread, so it never holds a concurrency thread.
func onOwnThread<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Swift.Result { try work() }) }.start()
    }
}

/// A DEALER client's exchange: sends `messages`, then collects replies until `until` says the
/// last one arrived (or 5 s pass).
func exchange(_ context: ZMQContext, endpoint: String, messages: [String],
              until done: @escaping @Sendable ([ClientReply]) -> Bool) async throws -> [ClientReply] {
    try await onOwnThread {
        let dealer = try context.socket(.dealer)
        defer { dealer.close() }
        try dealer.setOption(.receiveTimeout(milliseconds: 5000))
        try dealer.connect(endpoint)
        for message in messages { try dealer.send(Data(message.utf8)) }
        var replies: [ClientReply] = []
        while !done(replies), let frames = try dealer.receiveMultipartData(), let last = frames.last {
            replies.append(try ClientReply.decode(last))
        }
        return replies
    }
}

/// Whether the replies end with the answer to a request (done, error or status).
func endsRequest(_ replies: [ClientReply]) -> Bool {
    switch replies.last {
    case .done, .error, .status, .actions: return true
    case .token, nil: return false
    }
}

@Suite("ZeroMQ client API server")
struct ClientAPISocketServerTests {
    @Test("a streamed completion arrives as tokens then done, over tcp:// and ipc://", arguments: [false, true])
    func streamedCompletion(overIPC: Bool) async throws {
        let replies = try await withSocketServer(EchoCompletionService()) { context, tcp, ipc in
            try await exchange(context, endpoint: overIPC ? ipc : tcp,
                               messages: [#"{"type":"complete","id":"c1","prompt":"hi","max_tokens":3}"#], until: endsRequest)
        }
        #expect(replies.count == 4)
        #expect(replies.first == .token(id: "c1", text: "Hello,", tokens: [1]))
        guard case .done("c1", let summary) = replies.last else {
            Issue.record("no done reply: \(replies)")
            return
        }
        #expect(summary.text == "Hello, world from")
    }

    @Test("garbage gets an error reply and the server keeps answering")
    func garbageThenStatus() async throws {
        let replies = try await withSocketServer(EchoCompletionService()) { context, tcp, _ in
            try await exchange(context, endpoint: tcp, messages: ["\u{0}garbage", #"{"type":"status","id":"s"}"#]) {
                $0.count == 2
            }
        }
        // Replies to different requests may arrive in either order; each must arrive once.
        let errors = replies.compactMap { reply -> ClientAPIError? in
            if case .error(nil, let error) = reply { error } else { nil }
        }
        #expect(errors.map(\.code) == [.invalidJSON], "replies: \(replies)")
        #expect(replies.contains(.status(id: "s", ClientStatus(model: "echo-test", ready: true))), "replies: \(replies)")
    }

    @Test("past the concurrency limit a request is refused as overloaded, not queued")
    func overloaded() async throws {
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        let replies = try await withSocketServer(GatedCompletionService(gate: gate), maxConcurrentRequests: 1) { context, tcp, _ in
            let first = #"{"type":"complete","id":"slow","prompt":"x"}"#
            let second = #"{"type":"complete","id":"late","prompt":"x"}"#
            let replies = try await exchange(context, endpoint: tcp, messages: [first, second]) { replies in
                replies.contains { if case .error = $0 { true } else { false } }
            }
            opener.yield()
            opener.finish()
            return replies
        }
        let refusal = replies.first { if case .error = $0 { true } else { false } }
        guard case .error("late", let error) = refusal else {
            Issue.record("the second request was not refused: \(replies)")
            return
        }
        #expect(error.code == .overloaded)
    }

    @Test("stopping with a completion still running returns promptly")
    func stopWhileRunning() async throws {
        let (gate, _) = AsyncStream.makeStream(of: Void.self)
        let start = Date()
        let replies = try await withSocketServer(GatedCompletionService(gate: gate)) { context, tcp, _ in
            try await exchange(context, endpoint: tcp, messages: [#"{"type":"complete","id":"x","prompt":"x"}"#]) { $0.count == 1 }
        }
        #expect(replies == [.token(id: "x", text: "first", tokens: [1])])
        // A hang would never return; the bound is loose because a busy 2-core CI machine is slow.
        #expect(Date().timeIntervalSince(start) < 20)
    }

    @Test("the Python client's example streams a completion from the server",
          .enabled(if: pythonHasZMQ))
    func pythonExample() async throws {
        let script = pythonClientDirectory.appendingPathComponent("example.py").path
        let (status, output) = try await withSocketServer(EchoCompletionService()) { _, _, ipc in
            try await runTool("/usr/bin/env", ["python3", script, ipc, "say hello"])
        }
        #expect(status == 0, "\(output)")
        #expect(output.contains("# echo-test ready=True cloud=False"))
        #expect(output.contains("say helloHello, world from the split.\n"))
        #expect(output.contains("# 6 tokens by local in"))
    }

    @Test("endpoints that face a network are refused", arguments: [
        ("tcp://0.0.0.0:5560", false), ("tcp://10.0.0.2:5560", false), ("tcp://*:5560", false), ("udp://127.0.0.1:1", false),
        ("tcp://127.0.0.1:*", true), ("tcp://localhost:5560", true), ("tcp://[::1]:5560", true), ("ipc:///tmp/e.sock", true),
    ])
    func loopbackOnly(endpoint: String, allowed: Bool) throws {
        #expect(ClientSocketServer<EchoCompletionService>.isLocal(endpoint) == allowed)
        if !allowed {
            let server = ClientSocketServer(context: try ZMQContext(), endpoints: [endpoint],
                                            handler: ClientRequestHandler(service: EchoCompletionService()))
            #expect(throws: ClientAPIError.self) { try server.start() }
        }
    }
}
