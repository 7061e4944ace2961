import Foundation
import Testing
@testable import Split

@Suite("OpenAI completion request parsing")
struct ClientAPIOpenAIRequestTests {
    func decode(_ json: String) throws -> (request: CompletionRequest, stream: Bool) {
        try OpenAICompletionRequest.decode(Data(json.utf8))
    }

    @Test("prompt may be a string or an array of one string; stop a string or an array")
    func flexibleFields() throws {
        #expect(try decode(#"{"prompt":"a"}"#).request.prompt == "a")
        #expect(try decode(#"{"prompt":["a"]}"#).request.prompt == "a")
        #expect(try decode(#"{"prompt":"a","stop":"x"}"#).request.stop == ["x"])
        #expect(try decode(#"{"prompt":"a","stop":["x","y"]}"#).request.stop == ["x", "y"])
        #expect(try decode(#"{"prompt":"a","stop":null}"#).request.stop == [])
    }

    @Test("defaults follow OpenAI: 16 tokens, temperature 1, not streamed; a seed is drawn when none is given")
    func defaults() throws {
        let (request, stream) = try decode(#"{"prompt":"a"}"#)
        #expect(request.maxTokens == 16)
        #expect(request.sampling.temperature == 1)
        #expect(request.sampling.topP == 1)
        #expect(request.sampling.topK == 0)
        #expect(!stream)
        #expect(try decode(#"{"prompt":"a","temperature":0}"#).request.sampling.seed == 0)
        #expect(try decode(#"{"prompt":"a","seed":99}"#).request.sampling.seed == 99)
    }

    @Test("fields OpenAI clients commonly send and this server need not honour are ignored")
    func ignoredFields() throws {
        let json = #"{"prompt":"a","user":"u","presence_penalty":0,"frequency_penalty":0,"n":1,"echo":false,"logprobs":null,"suffix":""}"#
        #expect(try decode(json).request.prompt == "a")
    }

    @Test("a suffix, as Continue sends it to an OpenAI-compatible server, makes a fill-in-the-middle request")
    func suffixMakesInfill() throws {
        // Continue's `_streamFim` body (core/llm/llms/OpenAI.ts), field for field.
        let json = #"{"model":"split-code","prompt":"def add(a, b):\n    return ","suffix":"\n\nprint(add(1, 2))\n","max_tokens":64,"temperature":0.01,"top_p":0.9,"frequency_penalty":0,"presence_penalty":0,"stop":["\n\n","```"],"stream":true}"#
        let (request, stream) = try decode(json)
        #expect(request.infill == InfillInput(prefix: "def add(a, b):\n    return ", suffix: "\n\nprint(add(1, 2))\n"))
        #expect(request.maxTokens == 64 && request.stop == ["\n\n", "```"] && stream)
        // An empty suffix is an ordinary completion.
        #expect(try decode(#"{"prompt":"a","suffix":""}"#).request.infill == nil)
    }

    static let refusals: [(json: String, code: ClientAPIError.Code, parameter: String?)] = [
        (#"{"prompt":["a","b"]}"#, .unsupported, "prompt"),
        (#"{"prompt":[]}"#, .unsupported, "prompt"),
        (#"{"prompt":"a","n":2}"#, .unsupported, "n"),
        (#"{"prompt":"a","best_of":3}"#, .unsupported, "best_of"),
        (#"{"prompt":"a","echo":true}"#, .unsupported, "echo"),
        (#"{"prompt":"a","logprobs":5}"#, .unsupported, "logprobs"),
        (#"{"model":"m"}"#, .invalidRequest, "prompt"),
        (#"{"prompt":"a","stream":1}"#, .invalidRequest, "stream"),
        (#"{"prompt":"a","stop":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"]}"#, .invalidRequest, "stop"),
        (#"{"prompt":"a","temperature":-0.5}"#, .invalidRequest, "temperature"),
        (#""just a string""#, .invalidJSON, nil),
        ("", .invalidJSON, nil),
    ]

    @Test("requests this server cannot honour are refused with the field named", arguments: refusals)
    func refusal(json: String, code: ClientAPIError.Code, parameter: String?) {
        #expect {
            _ = try decode(json)
        } throws: { error in
            guard let error = error as? ClientAPIError else { return false }
            return error.code == code && error.parameter == parameter
        }
    }

    @Test("each error kind has the HTTP status OpenAI clients expect")
    func statusCodes() {
        let expected: [ClientAPIError.Code: Int] = [
            .invalidJSON: 400, .invalidRequest: 400, .unsupported: 400, .tooLarge: 413, .notFound: 404,
            .cloudUnavailable: 503, .overloaded: 503, .internalError: 500, .requestTimeout: 408, .cancelled: 409,
        ]
        for code in ClientAPIError.Code.allCases {
            #expect(ClientAPIError(code, "m").httpStatus.code == expected[code], "\(code)")
        }
    }
}
