import Foundation
import Testing
@testable import Split

@Suite("ZeroMQ client API request handling")
struct ClientAPIRequestHandlerTests {
    func replies(to message: String, service: some CompletionService) async -> [ClientReply] {
        let recorded = Locked<[ClientReply]>([])
        await ClientRequestHandler(service: service).handle(Data(message.utf8)) { reply in
            recorded.withLock { $0.append(reply) }
        }
        return recorded.current
    }

    @Test("a streamed completion sends a token per piece of text, then done")
    func streamed() async {
        let replies = await replies(to: #"{"type":"complete","id":"c1","prompt":"hi","max_tokens":3}"#,
                                    service: EchoCompletionService())
        #expect(replies.count == 4)
        #expect(replies.prefix(3) == [
            .token(id: "c1", text: "Hello,", tokens: [1]), .token(id: "c1", text: " world", tokens: [2]),
            .token(id: "c1", text: " from", tokens: [3]),
        ])
        guard case .done(let id, let summary) = replies.last else {
            Issue.record("last reply is not done: \(replies)")
            return
        }
        #expect(id == "c1")
        #expect(summary.text == "Hello, world from")
        #expect(summary.finishReason == .length)
    }

    @Test("an unstreamed completion sends only done, with the whole text")
    func unstreamed() async {
        let replies = await replies(to: #"{"type":"complete","id":"c2","prompt":"hi","stream":false}"#,
                                    service: EchoCompletionService())
        #expect(replies.count == 1)
        guard case .done("c2", let summary) = replies.first else {
            Issue.record("expected one done reply: \(replies)")
            return
        }
        #expect(summary.text == EchoCompletionService.words.joined())
    }

    @Test("a refused request gets an error reply naming its id and field")
    func refused() async {
        let replies = await replies(to: #"{"type":"complete","id":"c3","prompt":"hi","max_tokens":-1}"#,
                                    service: EchoCompletionService())
        #expect(replies == [.error(id: "c3", ClientAPIError(.invalidRequest, "max_tokens must be between 1 and 4096, not -1",
                                                           parameter: "max_tokens"))])
    }

    @Test("garbage gets an error reply without an id")
    func garbage() async {
        let replies = await replies(to: "\u{1}\u{2}garbage", service: EchoCompletionService())
        guard case .error(nil, let error) = replies.first, replies.count == 1 else {
            Issue.record("expected one error reply without id: \(replies)")
            return
        }
        #expect(error.code == .invalidJSON)
    }

    @Test("a lost cloud ends the request with a cloud_unavailable error")
    func cloudUnavailable() async {
        let replies = await replies(to: #"{"type":"complete","id":"c4","prompt":"hi"}"#, service: UnavailableCompletionService())
        guard case .error("c4", let error) = replies.first, replies.count == 1 else {
            Issue.record("expected one error reply: \(replies)")
            return
        }
        #expect(error.code == .cloudUnavailable)
        #expect(error.message.contains("no cloud endpoint answered"))
    }

    @Test("status is answered with the node's status")
    func status() async {
        let replies = await replies(to: #"{"type":"status","id":"s"}"#, service: EchoCompletionService())
        #expect(replies == [.status(id: "s", ClientStatus(model: "echo-test", ready: true))])
    }
}
