import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Split

/// The `ollama` Python client's bodies (ollama 0.6.3, captured from `Client.generate` against a
/// local server), byte for byte: a FIM request with `suffix`, then a raw one.
let ollamaPythonSuffixBody = #"""
{"model":"split-code-7m","stream":false,"options":{"num_predict":32,"temperature":0,"stop":["\n\n"]},"prompt":"def add(a, b):\n","suffix":"\n\nprint(add(1, 2))\n"}
"""#
let ollamaPythonRawBody = #"""
{"model":"split-code-7m","stream":false,"options":{"num_predict":16,"temperature":0},"prompt":"def fib(n):","raw":true}
"""#
/// Continue's autocomplete body for its Ollama provider (`_getGenerateOptions` in
/// core/llm/llms/Ollama.ts): model options it sends and Split does not apply, `keep_alive`, a stream.
let continueOllamaFIMBody = #"""
{"model":"split-code-7m","prompt":"fn main() {\n    let","suffix":"\n}\n","raw":true,"options":{"temperature":0.01,"num_predict":256,"stop":["\n\n","<|endoftext|>"],"num_ctx":8096},"keep_alive":1800,"stream":true}
"""#

/// The JSON objects of an NDJSON body, one a line.
func jsonLines(_ data: Data) throws -> [[String: Any]] {
    try String(decoding: data, as: UTF8.self).split(separator: "\n").map { try jsonObject(Data($0.utf8)) }
}

@Suite("Ollama /api/generate")
struct ClientAPIOllamaTests {
    @Test("the ollama client's suffix request is a FIM request with its options")
    func suffixRequest() throws {
        let (request, stream) = try OllamaGenerateRequest.decode(Data(ollamaPythonSuffixBody.utf8))
        #expect(request.infill == InfillInput(prefix: "def add(a, b):\n", suffix: "\n\nprint(add(1, 2))\n"))
        #expect(request.chat == nil && request.maxTokens == 32 && request.sampling.temperature == 0 && request.stop == ["\n\n"])
        #expect(!stream)
    }

    @Test("raw sends the prompt as it is; without raw the prompt becomes a chat turn with the system message")
    func rawAndTemplated() throws {
        let (raw, _) = try OllamaGenerateRequest.decode(Data(ollamaPythonRawBody.utf8))
        #expect(raw.prompt == "def fib(n):" && raw.chat == nil && raw.infill == nil && raw.maxTokens == 16)
        let (templated, stream) = try OllamaGenerateRequest.decode(Data(#"{"model":"m","prompt":"Why?","system":"Be brief."}"#.utf8))
        #expect(templated.chat == [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Why?")])
        #expect(templated.prompt == "Why?" && stream && templated.sampling.temperature == 0.8 && templated.maxTokens == 128)
    }

    @Test("Continue's autocomplete request is accepted; num_predict -1 means the default budget")
    func continueRequest() throws {
        let (request, stream) = try OllamaGenerateRequest.decode(Data(continueOllamaFIMBody.utf8))
        #expect(request.infill?.suffix == "\n}\n" && request.maxTokens == 256 && request.stop == ["\n\n", "<|endoftext|>"] && stream)
        let (unbounded, _) = try OllamaGenerateRequest.decode(Data(#"{"prompt":"x","raw":true,"options":{"num_predict":-1}}"#.utf8))
        #expect(unbounded.maxTokens == CompletionFields.Defaults.ollama.maxTokens)
    }

    static let refusals: [(String, String)] = [
        (#"{"prompt":"x","template":"{{ .Prompt }}"}"#, "template"),
        (#"{"prompt":"x","context":[1,2,3]}"#, "context"),
        (#"{"prompt":"x","images":["aGk="]}"#, "images"),
        (#"{"prompt":"x","format":"json"}"#, "format"),
        (#"{"prompt":"","raw":true}"#, "prompt"),
        (#"{"prompt":"x","options":{"temperature":"hot"}}"#, "temperature"),
    ]

    @Test("what the edge cannot honour is refused, naming the field", arguments: refusals)
    func refusal(json: String, parameter: String) {
        #expect { try OllamaGenerateRequest.decode(Data(json.utf8)) } throws: { error in
            (error as? ClientAPIError)?.parameter == parameter
        }
    }

    @Test("a whole answer has Ollama's fields: response, done, done_reason, counts, durations, and Split's provenance")
    func wholeAnswer() async throws {
        let service = ProvenanceEchoService()
        try await withOpenAIServer(service) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/api/generate", method: "POST", body: Data(ollamaPythonSuffixBody.utf8))
            #expect(status == 200)
            let object = try jsonObject(data)
            #expect(object["response"] as? String == "    return a + b" && object["done"] as? Bool == true)
            #expect(object["done_reason"] as? String == "stop" && object["model"] as? String == "echo-split")
            #expect(object["prompt_eval_count"] as? Int == 12 && object["eval_count"] as? Int == 3)
            #expect(object["total_duration"] as? Int == 50_000_000 && object["eval_duration"] as? Int == 30_000_000)
            #expect((object["created_at"] as? String)?.hasSuffix("Z") == true)
            #expect((object["split"] as? [String: Any])?["provenance"] as? [String] == ["cloud@8", "draft@4", "edge@3"])
            #expect(await service.log.requests.first?.infill?.prefix == "def add(a, b):\n")
        }
    }

    @Test("a stream is NDJSON: a line per piece with done false, then done true with the counts")
    func streamedAnswer() async throws {
        try await withOpenAIServer(ProvenanceEchoService()) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/api/generate", method: "POST", body: Data(continueOllamaFIMBody.utf8))
            #expect(status == 200)
            #expect(!String(decoding: data, as: UTF8.self).contains("data:"))
            let lines = try jsonLines(data)
            #expect(lines.count == 4)
            #expect(lines.dropLast().map { $0["response"] as? String } == ["    return", " a", " + b"])
            #expect(lines.dropLast().allSatisfy { $0["done"] as? Bool == false && $0["done_reason"] == nil })
            #expect(lines.last?["done"] as? Bool == true && lines.last?["response"] as? String == "")
            #expect(lines.last?["eval_count"] as? Int == 3)
        }
    }

    @Test("errors come back in Ollama's shape, {\"error\": ...}, with the status code")
    func errorShape() async throws {
        try await withOpenAIServer(UnavailableCompletionService()) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/api/generate", method: "POST", body: Data(ollamaPythonRawBody.utf8))
            #expect(status == 503)
            #expect((try jsonObject(data)["error"] as? String)?.contains("no cloud endpoint answered") == true)
            let (badStatus, badData) = try await httpRequest("\(baseURL)/api/generate", method: "POST",
                                                             body: Data(#"{"prompt":"x","template":"t"}"#.utf8))
            let badError = try jsonObject(badData)["error"] as? String
            #expect(badStatus == 400 && badError?.contains("template") == true)
        }
    }

    @Test("on the bundled model (no chat template) a templated prompt is used as it is, as Ollama does, and equals raw")
    func templatelessModelTakesThePrompt() async throws {
        let edge = try EdgeService(configuration: .init(modelPath: LoopbackSplit.modelPath, splitLayer: nil, link: nil, workers: 1))
        defer { edge.stop() }
        try await withOpenAIServer(edge) { baseURL in
            var answers: [String] = []
            for raw in [false, true] {
                let body = #"{"model":"m","prompt":"def fib(n):","raw":\#(raw),"stream":false,"options":{"num_predict":8,"temperature":0}}"#
                let (status, data) = try await httpRequest("\(baseURL)/api/generate", method: "POST", body: Data(body.utf8))
                #expect(status == 200)
                answers.append(try jsonObject(data)["response"] as? String ?? "missing")
            }
            let reference = try await edge.complete(CompletionRequest(prompt: "def fib(n):", maxTokens: 8)) { _ in }
            #expect(answers == [reference.text, reference.text])
        }
    }
}
