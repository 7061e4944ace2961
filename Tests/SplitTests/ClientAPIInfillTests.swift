import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Split

/// Answers like `EchoCompletionService`, and says where each token came from, as a split
/// generation does.
struct ProvenanceEchoService: CompletionService {
    let modelName = "echo-split"
    let log = RequestLog()
    static let provenance = [TokenProvenance(side: .cloud, layer: 8), TokenProvenance(side: .draft, layer: 4),
                             TokenProvenance(side: .edge, layer: 3)]

    func complete(_ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) -> Void) async throws -> CompletionSummary {
        await log.record(request)
        let words = ["    return", " a", " + b"]
        for (index, word) in words.enumerated() {
            onEvent(.text(word, tokens: [Int32(index)], provenance: [Self.provenance[index]]))
        }
        return CompletionSummary(
            text: words.joined(), promptTokenCount: 12, completionTokenCount: words.count, finishReason: .endOfText,
            strategy: "split-spec(k=4)", timeToFirstTokenSeconds: 0.02, totalSeconds: 0.05, provenance: Self.provenance)
    }
}

/// llama.vim's FIM request (`llama#fim` in llama.cpp's examples/llama.vim), field for field.
let llamaVimInfillBody = #"""
{"input_prefix": "def add(a, b):\n", "input_suffix": "\n\nprint(add(1, 2))\n", "input_extra": [{"text": "X = 1\n", "filename": "util.py"}], "prompt": "    ", "n_predict": 128, "n_indent": 4, "top_k": 40, "top_p": 0.99, "stream": false, "samplers": ["top_k", "top_p", "infill"], "cache_prompt": true, "t_max_prompt_ms": 500, "t_max_predict_ms": 3000}
"""#

/// llama.vim's and llama.vscode's warm-up request: only extra context, nothing to complete.
let llamaVimWarmUpBody = #"""
{"input_prefix": "", "input_suffix": "", "input_extra": [{"text": "import os\n", "filename": "main.py"}], "prompt": "", "n_predict": 1, "temperature": 0.0, "stream": false, "samplers": ["temperature"], "cache_prompt": true, "t_max_prompt_ms": 1, "t_max_predict_ms": 1}
"""#

/// llama.vscode's `getLlamaCompletion` body (src/llama-server.ts): `id_slot` absent, `n_indent` set.
let llamaVSCodeInfillBody = #"""
{"input_prefix": "fn main() {\n", "input_suffix": "}\n", "input_extra": [], "prompt": "    let", "n_predict": 96, "top_k": 40, "top_p": 0.99, "stream": false, "n_indent": 4, "samplers": ["top_k", "top_p", "infill"], "cache_prompt": true, "t_max_prompt_ms": 500, "t_max_predict_ms": 2500}
"""#

@Suite("llama.cpp-compatible /infill request parsing")
struct LlamaInfillRequestTests {
    @Test("llama.vim's request becomes a FIM request with its prefix, suffix, extra files, budget and line rules")
    func llamaVimRequest() throws {
        let (request, stream) = try LlamaInfillRequest.decode(Data(llamaVimInfillBody.utf8))
        #expect(request.infill == InfillInput(prefix: "def add(a, b):\n", suffix: "\n\nprint(add(1, 2))\n",
                                              extraFiles: [InfillFile(filename: "util.py", text: "X = 1\n")], prompt: "    "))
        #expect(request.maxTokens == 128 && request.sampling.topK == 40 && abs(request.sampling.topP - 0.99) < 1e-6)
        #expect(request.minimumIndent == 4 && request.predictTimeLimitSeconds == 3)
        #expect(!stream)
    }

    @Test("the warm-up request with empty prefix, suffix and prompt is accepted")
    func warmUpRequest() throws {
        let (request, _) = try LlamaInfillRequest.decode(Data(llamaVimWarmUpBody.utf8))
        #expect(request.infill?.extraFiles == [InfillFile(filename: "main.py", text: "import os\n")])
        #expect(request.maxTokens == 1 && request.sampling.temperature == 0)
    }

    @Test("llama.vscode's request is accepted, and n_predict -1 means the default budget")
    func llamaVSCodeRequest() throws {
        let (request, _) = try LlamaInfillRequest.decode(Data(llamaVSCodeInfillBody.utf8))
        #expect(request.infill?.prompt == "    let" && request.maxTokens == 96 && request.minimumIndent == 4)
        let unlimited = try LlamaInfillRequest.decode(Data(#"{"input_prefix":"a","input_suffix":"b","n_predict":-1,"seed":-1}"#.utf8))
        #expect(unlimited.request.maxTokens == FIMDefaults.maxTokens && unlimited.request.predictTimeLimitSeconds == nil)
    }

    static let refusals: [(json: String, parameter: String?)] = [
        (#"{"input_suffix":"b"}"#, "input_prefix"),
        (#"{"input_prefix":"a"}"#, "input_suffix"),
        (#"{"input_prefix":"a","input_suffix":"b","input_extra":{"text":"x"}}"#, "input_extra"),
        (#"{"input_prefix":"a","input_suffix":"b","input_extra":[{"filename":"f"}]}"#, "input_extra"),
        (#"{"input_prefix":"a","input_suffix":"b","prompt":7}"#, "prompt"),
        (#"{"input_prefix":"a","input_suffix":"b","n_indent":-2}"#, "n_indent"),
    ]

    @Test("an infill request missing what llama.cpp requires is refused with the field named", arguments: refusals)
    func refusal(json: String, parameter: String?) {
        #expect {
            _ = try LlamaInfillRequest.decode(Data(json.utf8))
        } throws: { error in
            (error as? ClientAPIError)?.parameter == parameter
        }
    }
}

/// The `/infill` default budget, as the tests expect it.
private enum FIMDefaults {
    static let maxTokens = CompletionFields.Defaults.infill.maxTokens
}

@Suite("llama.cpp-compatible /infill over HTTP")
struct ClientAPIInfillHTTPTests {
    @Test("llama.vim's request is answered in llama.cpp's shape, with Split's provenance")
    func wholeInfill() async throws {
        let service = ProvenanceEchoService()
        try await withOpenAIServer(service) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/infill", method: "POST", body: Data(llamaVimInfillBody.utf8))
            #expect(status == 200)
            let body = try jsonObject(data)
            #expect(body["content"] as? String == "    return a + b")
            #expect(body["stop"] as? Bool == true)
            #expect(body["stop_type"] as? String == "eos")
            #expect(body["tokens_predicted"] as? Int == 3 && body["tokens_evaluated"] as? Int == 12)
            let timings = try #require(body["timings"] as? [String: Any])
            #expect(timings["predicted_n"] as? Int == 3 && timings["prompt_n"] as? Int == 12)
            #expect(abs((timings["prompt_ms"] as? Double ?? 0) - 20) < 1e-6)
            let split = try #require(body["split"] as? [String: Any])
            #expect(split["provenance"] as? [String] == ["cloud@8", "draft@4", "edge@3"])
            let received = await service.log.requests
            #expect(received.first?.infill?.prefix == "def add(a, b):\n" && received.first?.minimumIndent == 4)
        }
    }

    @Test("a streamed infill sends llama.cpp's events: content pieces with stop false, then stop true, and no [DONE]")
    func streamedInfill() async throws {
        try await withOpenAIServer(ProvenanceEchoService()) { baseURL in
            let body = #"{"input_prefix":"def add(a, b):\n","input_suffix":"\n","stream":true}"#
            let (status, data) = try await httpRequest("\(baseURL)/infill", method: "POST", body: Data(body.utf8))
            #expect(status == 200)
            let events = try serverSentEvents(data).map { try jsonObject(Data($0.utf8)) }
            #expect(events.count == 4)
            #expect(events.dropLast().map { $0["content"] as? String } == ["    return", " a", " + b"])
            #expect(events.dropLast().allSatisfy { $0["stop"] as? Bool == false })
            let last = try #require(events.last)
            #expect(last["stop"] as? Bool == true && last["content"] as? String == "")
            #expect((last["split"] as? [String: Any])?["provenance"] as? [String] == ["cloud@8", "draft@4", "edge@3"])
        }
    }

    @Test("an infill request without input_suffix is answered 400 naming the field")
    func missingSuffix() async throws {
        try await withOpenAIServer(ProvenanceEchoService()) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/infill", method: "POST", body: Data(#"{"input_prefix":"a"}"#.utf8))
            #expect(status == 400)
            let error = try #require(try jsonObject(data)["error"] as? [String: Any])
            #expect(error["param"] as? String == "input_suffix")
        }
    }

    @Test("/v1/completions with Continue's suffix reaches the service as a FIM request and answers in OpenAI's shape")
    func completionsWithSuffix() async throws {
        let service = ProvenanceEchoService()
        try await withOpenAIServer(service) { baseURL in
            let body = #"{"model":"split","prompt":"def add(a, b):\n","suffix":"\n\nprint(add(1, 2))\n","max_tokens":64,"temperature":0.01,"top_p":0.9,"frequency_penalty":0,"presence_penalty":0,"stop":["\n\n"],"stream":true}"#
            let (status, data) = try await httpRequest("\(baseURL)/v1/completions", method: "POST", body: Data(body.utf8))
            #expect(status == 200)
            let events = serverSentEvents(data)
            #expect(events.last == "[DONE]")
            #expect(try streamedText(events) == "    return a + b")
            let received = await service.log.requests
            #expect(received.first?.infill == InfillInput(prefix: "def add(a, b):\n", suffix: "\n\nprint(add(1, 2))\n"))
        }
    }
}
