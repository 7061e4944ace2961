import Foundation
import Testing
@testable import Split

@Suite("ZeroMQ client API messages")
struct ClientAPIMessageTests {
    static let fullRequest = CompletionRequest(
        prompt: "def fib(n):", maxTokens: 32,
        sampling: SamplingParameters(temperature: 0.7, topK: 40, topP: 0.95, seed: 1234),
        stop: ["\n\n", "def "], strategy: "split-spec(k=2,g=4)", allowDegraded: true)

    @Test("a complete request survives encoding and parsing unchanged", arguments: [true, false])
    func completeRoundTrip(stream: Bool) throws {
        let request = ClientRequest.complete(id: "req-1", request: Self.fullRequest, stream: stream)
        #expect(try ClientRequest.decode(request.encoded()) == request)
    }

    @Test("a status request survives encoding and parsing unchanged", arguments: [nil, "s-9"] as [String?])
    func statusRoundTrip(id: String?) throws {
        #expect(try ClientRequest.decode(ClientRequest.status(id: id).encoded()) == .status(id: id))
    }

    @Test("a minimal complete request takes the socket API's defaults: greedy, 64 tokens, streamed")
    func minimalComplete() throws {
        let parsed = try ClientRequest.decode(Data(#"{"type":"complete","id":"a","prompt":"hi"}"#.utf8))
        #expect(parsed == .complete(id: "a", request: CompletionRequest(prompt: "hi"), stream: true))
    }

    /// Messages the parser must refuse, with the error code and field it must name.
    static let rejections: [(message: String, code: ClientAPIError.Code, parameter: String?)] = [
        ("not json", .invalidJSON, nil),
        ("[1, 2]", .invalidJSON, nil),
        (#"{"id":"a"}"#, .invalidRequest, "type"),
        (#"{"type":"launch","id":"a"}"#, .notFound, "type"),
        (#"{"type":"complete","prompt":"hi"}"#, .invalidRequest, "id"),
        (#"{"type":"complete","id":"","prompt":"hi"}"#, .invalidRequest, "id"),
        (#"{"type":"complete","id":"a"}"#, .invalidRequest, "prompt"),
        (#"{"type":"complete","id":"a","prompt":""}"#, .invalidRequest, "prompt"),
        (#"{"type":"complete","id":"a","prompt":42}"#, .invalidRequest, "prompt"),
        (#"{"type":"complete","id":"a","prompt":"hi","max_token":5}"#, .invalidRequest, "max_token"),
        (#"{"type":"complete","id":"a","prompt":"hi","max_tokens":0}"#, .invalidRequest, "max_tokens"),
        (#"{"type":"complete","id":"a","prompt":"hi","max_tokens":100000}"#, .invalidRequest, "max_tokens"),
        (#"{"type":"complete","id":"a","prompt":"hi","max_tokens":"ten"}"#, .invalidRequest, "max_tokens"),
        (#"{"type":"complete","id":"a","prompt":"hi","temperature":3}"#, .invalidRequest, "temperature"),
        (#"{"type":"complete","id":"a","prompt":"hi","top_p":0}"#, .invalidRequest, "top_p"),
        (#"{"type":"complete","id":"a","prompt":"hi","top_k":-1}"#, .invalidRequest, "top_k"),
        (#"{"type":"complete","id":"a","prompt":"hi","seed":-1}"#, .invalidRequest, "seed"),
        (#"{"type":"complete","id":"a","prompt":"hi","stop":["s0","s1","s2","s3","s4","s5","s6","s7","s8","s9","s10","s11","s12","s13","s14","s15","s16"]}"#, .invalidRequest, "stop"),
        (#"{"type":"complete","id":"a","prompt":"hi","stop":[""]}"#, .invalidRequest, "stop"),
        (#"{"type":"complete","id":"a","prompt":"hi","stop":[1]}"#, .invalidRequest, "stop"),
        (#"{"type":"complete","id":"a","prompt":"hi","max_tokens":1.5}"#, .invalidRequest, "max_tokens"),
        (#"{"type":"complete","id":"a","prompt":"hi","strategy":""}"#, .invalidRequest, "strategy"),
        (#"{"type":"complete","id":"a","prompt":"hi","stream":"yes"}"#, .invalidRequest, "stream"),
    ]

    @Test("a completion with 16 stop strings, as editor plugins send for a FIM template, is accepted")
    func sixteenStopStrings() throws {
        let message = #"{"type":"complete","id":"a","prompt":"hi","stop":["s0","s1","s2","s3","s4","s5","s6","s7","s8","s9","s10","s11","s12","s13","s14","s15"]}"#
        guard case .complete(_, let request, _) = try ClientRequest.decode(Data(message.utf8)) else {
            Issue.record("not decoded as a completion")
            return
        }
        #expect(request.stop.count == 16)
    }

    @Test("malformed requests are refused with a code and the field at fault", arguments: rejections)
    func rejection(message: String, code: ClientAPIError.Code, parameter: String?) {
        #expect {
            _ = try ClientRequest.decode(Data(message.utf8))
        } throws: { error in
            guard let error = error as? ClientAPIError else { return false }
            return error.code == code && error.parameter == parameter && !error.message.isEmpty
        }
    }

    @Test("messages, prompts, ids and stop strings past the limits are refused before use")
    func limits() throws {
        let limits = ClientAPILimits(maxMessageBytes: 200, maxPromptBytes: 10, maxStopBytes: 3, maxIDBytes: 4)
        let cases: [(String, ClientAPIError.Code, String?)] = [
            (#"{"type":"complete","id":"a","prompt":"\#(String(repeating: "x", count: 300))"}"#, .tooLarge, nil),
            (#"{"type":"complete","id":"a","prompt":"eleven byte"}"#, .tooLarge, "prompt"),
            (#"{"type":"complete","id":"abcde","prompt":"hi"}"#, .invalidRequest, "id"),
            (#"{"type":"complete","id":"a","prompt":"hi","stop":["abcd"]}"#, .invalidRequest, "stop"),
        ]
        for (message, code, parameter) in cases {
            #expect("\(message)") {
                _ = try ClientRequest.decode(Data(message.utf8), limits: limits)
            } throws: { error in
                (error as? ClientAPIError).map { $0.code == code && $0.parameter == parameter } ?? false
            }
        }
    }

    @Test("an error reply can name the request even when the request was refused")
    func bestEffortID() {
        #expect(ClientRequest.bestEffortID(in: Data(#"{"type":"complete","id":"x7","max_tokens":0}"#.utf8)) == "x7")
        #expect(ClientRequest.bestEffortID(in: Data(#"{"type":"complete","id":7}"#.utf8)) == nil)
        #expect(ClientRequest.bestEffortID(in: Data("garbage".utf8)) == nil)
    }

    static let summary = CompletionSummary(
        text: "    return n", promptTokenCount: 5, completionTokenCount: 3, finishReason: .endOfText,
        strategy: "split(k=4,f16)", degraded: true, timeToFirstTokenSeconds: 0.25, totalSeconds: 0.5)

    static let replies: [ClientReply] = [
        .token(id: "r", text: " return", tokens: [470, 299]),
        .done(id: "r", summary: summary),
        .error(id: "r", ClientAPIError(.cloudUnavailable, "cloud unavailable: no endpoint answered")),
        .error(id: nil, ClientAPIError(.invalidRequest, "max_tokens must be between 1 and 4096, not 0", parameter: "max_tokens")),
        .status(id: "s", ClientStatus(model: "code-small", ready: true, cloudConnected: true, cloudEndpoint: "tcp://10.0.0.2:5555",
                                      defaultStrategy: "split(k=4)", activeRequests: 2, uptimeSeconds: 12.5)),
        .status(id: nil, ClientStatus(model: "code-small", ready: false, message: "loading weights")),
    ]

    @Test("every reply survives encoding and parsing unchanged", arguments: replies)
    func replyRoundTrip(reply: ClientReply) throws {
        #expect(try ClientReply.decode(reply.encoded()) == reply)
    }

    @Test("replies use the documented field names")
    func replyShapes() throws {
        let token = try jsonObject(ClientReply.token(id: "r", text: "a", tokens: [1]).encoded())
        #expect(Set(token.keys) == ["type", "id", "text", "tokens"])
        #expect(token["type"] as? String == "token")
        let done = try jsonObject(ClientReply.done(id: "r", summary: Self.summary).encoded())
        #expect(Set(done.keys) == ["type", "id", "text", "finish_reason", "prompt_tokens", "completion_tokens",
                                   "strategy", "degraded", "time_to_first_token_seconds", "total_seconds"])
        #expect(done["finish_reason"] as? String == "end_of_text")
        let error = try jsonObject(ClientReply.error(id: "r", ClientAPIError(.overloaded, "busy")).encoded())
        #expect(Set(error.keys) == ["type", "id", "code", "message"])
        #expect(error["code"] as? String == "overloaded")
        let status = try jsonObject(ClientReply.status(id: nil, ClientStatus(model: "m", ready: true)).encoded())
        #expect(status["type"] as? String == "status")
        #expect(status["model"] as? String == "m")
        #expect(status["active_requests"] as? Int == 0)
    }

    @Test("a service's errors reach clients with a code and their message")
    func serviceErrors() {
        let cases: [(any Error, ClientAPIError.Code)] = [
            (CompletionError.invalidRequest("unknown strategy \"warp\""), .invalidRequest),
            (CompletionError.cloudUnavailable("no endpoint"), .cloudUnavailable),
            (CompletionError.overloaded("8 sessions"), .overloaded),
            (CompletionError.internalError("bad shape"), .internalError),
            (CocoaError(.fileReadCorruptFile), .internalError),
        ]
        for (error, code) in cases {
            let converted = ClientAPIError(serviceError: error)
            #expect(converted.code == code)
            #expect(!converted.message.isEmpty)
        }
        #expect(ClientAPIError(serviceError: CompletionError.cloudUnavailable("no endpoint")).message.contains("no endpoint"))
    }
}
