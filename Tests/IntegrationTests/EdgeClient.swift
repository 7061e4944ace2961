import Foundation
@testable import Split

/// A test's client of a running edge node's ZeroMQ socket API (docs/CLIENT_API.md): a DEALER
/// sending `ClientRequest`s and reading `ClientReply`s. Owned by the test's thread.
final class EdgeClient {
    let context: ZMQContext
    let socket: ZMQSocket
    private var nextID = 1

    /// Connects to the edge's client endpoint (`ipc://…` or loopback `tcp://…`).
    init(endpoint: String) throws {
        context = try ZMQContext()
        socket = try context.socket(.dealer)
        try socket.setOption(.linger(milliseconds: 0))
        try socket.connect(endpoint)
    }

    deinit { socket.close() }

    /// How a completion ended: its summary, or the error the edge answered with.
    enum Outcome {
        case done(CompletionSummary, streamedText: String)
        case failed(ClientAPIError)
    }

    /// Runs a completion, streamed, calling `onToken` with the count of token events so far.
    /// - Throws: when no final answer comes within `timeoutSeconds`.
    func complete(_ request: CompletionRequest, timeoutSeconds: Double = 30,
                  onToken: (Int) -> Void = { _ in }) throws -> Outcome {
        let id = "test-\(nextID)"
        nextID += 1
        _ = try socket.send(ClientRequest.complete(id: id, request: request, stream: true).encoded())
        var streamed = ""
        var tokens = 0
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            guard let reply = try receive(until: deadline) else { break }
            switch reply {
            case .token(let replyID, let text, _, _) where replyID == id:
                streamed += text
                tokens += 1
                onToken(tokens)
            case .done(let replyID, let summary) where replyID == id:
                return .done(summary, streamedText: streamed)
            case .error(let replyID, let error) where replyID == id || replyID == nil:
                return .failed(error)
            default:
                continue
            }
        }
        throw ProcessError("no answer from the edge within \(timeoutSeconds) s")
    }

    /// The edge's status.
    func status(timeoutSeconds: Double = 10) throws -> ClientStatus {
        _ = try socket.send(ClientRequest.status(id: "status").encoded())
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while let reply = try receive(until: deadline) {
            if case .status(_, let status) = reply { return status }
        }
        throw ProcessError("no status from the edge within \(timeoutSeconds) s")
    }

    private func receive(until deadline: Date) throws -> ClientReply? {
        let poller = ZMQPoller()
        _ = poller.add(socket)
        while Date() < deadline {
            let events = try poller.poll(timeoutMilliseconds: 20)
            guard events[0].contains(.readable), let frame = try socket.receiveData(flags: .dontWait) else { continue }
            return try ClientReply.decode(frame.frame)
        }
        return nil
    }
}
