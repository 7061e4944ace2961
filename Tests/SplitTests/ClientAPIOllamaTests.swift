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

/// The `ollama` Python client's `Client.chat` body (ollama 0.6.3's `_request` shape): a
/// system and a user message, options, no stream (the client's default is stream false).
let ollamaPythonChatBody = #"""
{"model":"split-code-7m","messages":[{"role":"system","content":"You are a coding assistant."},{"role":"user","content":"Write add."}],"tools":[],"stream":false,"options":{"num_predict":24,"temperature":0,"top_k":40,"seed":7,"stop":["\n\n"]},"keep_alive":"5m"}
"""#

@Suite("Ollama /api/chat")
struct ClientAPIOllamaChatTests {
    @Test("a chat body becomes a conversation with /api/generate's option mapping; stream is true unless false")
    func chatRequest() throws {
        let (request, stream) = try OllamaChatRequest.decode(Data(ollamaPythonChatBody.utf8))
        #expect(request.chat == [ChatMessage(role: "system", content: "You are a coding assistant."),
                                 ChatMessage(role: "user", content: "Write add.")])
        #expect(request.maxTokens == 24 && request.sampling.temperature == 0 && request.sampling.topK == 40)
        #expect(request.sampling.seed == 7 && request.stop == ["\n\n"] && !stream)
        let (defaults, streamed) = try OllamaChatRequest.decode(Data(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":-1,"seed":-1}}"#.utf8))
        #expect(streamed && defaults.maxTokens == CompletionFields.Defaults.ollamaChat.maxTokens && defaults.sampling.temperature == 0.8)
    }

    static let refusals: [(String, String)] = [
        (#"{"messages":[]}"#, "messages"),
        (#"{"model":"m"}"#, "messages"),
        (#"{"messages":"hi"}"#, "messages"),
        (#"{"messages":[{"content":"hi"}]}"#, "messages[0].role"),
        (#"{"messages":[{"role":"user","content":"hi","images":["aGk="]}]}"#, "messages[0].images"),
        (#"{"messages":[{"role":"user","content":"hi"}],"format":"json"}"#, "format"),
        (#"{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function"}]}"#, "tools"),
        (#"{"messages":[{"role":"user","content":"hi"}],"options":{"temperature":"hot"}}"#, "temperature"),
        (#"{"messages":[{"role":"user","content":"hi"}],"stream":"yes"}"#, "stream"),
    ]

    @Test("a chat body the edge cannot honour is refused, naming the field", arguments: refusals)
    func refusal(json: String, parameter: String) {
        #expect { try OllamaChatRequest.decode(Data(json.utf8)) } throws: { error in
            (error as? ClientAPIError)?.parameter == parameter
        }
    }

    @Test("a whole chat answer is one object with the assistant's message, done, done_reason, counts and durations")
    func wholeAnswer() async throws {
        let service = ProvenanceEchoService()
        try await withOpenAIServer(service) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/api/chat", method: "POST", body: Data(ollamaPythonChatBody.utf8))
            #expect(status == 200)
            let object = try jsonObject(data)
            let message = try #require(object["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant" && message["content"] as? String == "    return a + b")
            #expect(object["response"] == nil && object["done"] as? Bool == true && object["done_reason"] as? String == "stop")
            #expect(object["model"] as? String == "echo-split" && (object["created_at"] as? String)?.hasSuffix("Z") == true)
            #expect(object["prompt_eval_count"] as? Int == 12 && object["eval_count"] as? Int == 3)
            #expect(object["total_duration"] as? Int == 50_000_000 && object["load_duration"] as? Int == 0)
            #expect(await service.log.requests.first?.chat?.last == ChatMessage(role: "user", content: "Write add."))
        }
    }

    @Test("a chat stream is NDJSON: a line per piece with the assistant's message and done false, then done true")
    func streamedAnswer() async throws {
        try await withOpenAIServer(ProvenanceEchoService()) { baseURL in
            let body = #"{"model":"m","messages":[{"role":"user","content":"Write add."}]}"#
            let (status, data) = try await httpRequest("\(baseURL)/api/chat", method: "POST", body: Data(body.utf8))
            #expect(status == 200)
            let lines = try jsonLines(data)
            #expect(lines.count == 4)
            let messages = lines.map { $0["message"] as? [String: Any] }
            #expect(messages.dropLast().map { $0?["content"] as? String } == ["    return", " a", " + b"])
            #expect(messages.allSatisfy { $0?["role"] as? String == "assistant" })
            #expect(lines.dropLast().allSatisfy { $0["done"] as? Bool == false && $0["done_reason"] == nil })
            #expect(lines.last?["done"] as? Bool == true && messages.last??["content"] as? String == "")
            #expect(lines.last?["done_reason"] as? String == "stop" && lines.last?["eval_count"] as? Int == 3)
            #expect(lines.last?["total_duration"] as? Int == 50_000_000)
        }
    }

    @Test("malformed JSON, wrong types and empty messages are answered 400 in Ollama's {\"error\": ...} shape")
    func badInput() async throws {
        try await withOpenAIServer(ProvenanceEchoService()) { baseURL in
            for body in [#"{"messages":[{"role":"user""#, #"{"messages":[]}"#, #"{"messages":{"role":"user"}}"#, "[1,2]"] {
                let (status, data) = try await httpRequest("\(baseURL)/api/chat", method: "POST", body: Data(body.utf8))
                #expect(status == 400)
                let object = try jsonObject(data)
                #expect(object.keys.sorted() == ["error"] && (object["error"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test("a greedy chat on the edge says what /v1/chat/completions says for the same request")
    func chatEqualsOpenAIChat() async throws {
        var configuration = EdgeService.Configuration(modelPath: LoopbackSplit.modelPath, splitLayer: nil, link: nil, workers: 1)
        configuration.chatTemplate = try qwenTemplate()
        let edge = try EdgeService(configuration: configuration)
        defer { edge.stop() }
        try await withOpenAIServer(edge) { baseURL in
            let messages = #"[{"role":"system","content":"Be brief."},{"role":"user","content":"def reverse(s):"}]"#
            let ollamaBody = #"{"model":"m","messages":\#(messages),"stream":false,"options":{"num_predict":12,"temperature":0}}"#
            let (ollamaStatus, ollamaData) = try await httpRequest("\(baseURL)/api/chat", method: "POST", body: Data(ollamaBody.utf8))
            let openAIBody = #"{"model":"m","messages":\#(messages),"max_tokens":12,"temperature":0}"#
            let (openAIStatus, openAIData) = try await httpRequest("\(baseURL)/v1/chat/completions", method: "POST", body: Data(openAIBody.utf8))
            #expect(ollamaStatus == 200 && openAIStatus == 200)
            let ollama = try jsonObject(ollamaData)
            let openAI = try jsonObject(openAIData)
            let ollamaText = try #require((ollama["message"] as? [String: Any])?["content"] as? String)
            let openAIChoice = try #require((openAI["choices"] as? [[String: Any]])?.first)
            #expect(!ollamaText.isEmpty && ollamaText == (openAIChoice["message"] as? [String: Any])?["content"] as? String)
            let usage = try #require(openAI["usage"] as? [String: Any])
            #expect(ollama["eval_count"] as? Int == usage["completion_tokens"] as? Int)
            #expect(ollama["prompt_eval_count"] as? Int == usage["prompt_tokens"] as? Int)
            // The stream carries the same text, piece by piece.
            let streamBody = #"{"model":"m","messages":\#(messages),"options":{"num_predict":12,"temperature":0}}"#
            let (_, streamData) = try await httpRequest("\(baseURL)/api/chat", method: "POST", body: Data(streamBody.utf8))
            let pieces = try jsonLines(streamData).compactMap { ($0["message"] as? [String: Any])?["content"] as? String }
            #expect(pieces.joined() == ollamaText)
        }
    }
}

@Suite("Ollama /api/tags, /api/show, /api/version", .serialized)
struct ClientAPIOllamaModelTests {
    @Test("/api/tags lists the served model with its file's size, SHA-256, time and GGUF details")
    func tags() async throws {
        let edge = try EdgeService(configuration: .init(modelPath: LoopbackSplit.modelPath, splitLayer: nil, link: nil, workers: 1))
        defer { edge.stop() }
        let gguf = try GGUFFile(path: LoopbackSplit.modelPath)
        let fileSize = (try FileManager.default.attributesOfItem(atPath: LoopbackSplit.modelPath)[.size] as? NSNumber)?.intValue
        let expectedDigest = try SHA256Digest.ofFile(atPath: LoopbackSplit.modelPath).hex
        let expectedParameters = gguf.tensorNames.reduce(0) { $0 + (gguf.tensorInfo($1)?.elementCount ?? 0) }
        try await withOpenAIServer(edge) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/api/tags")
            #expect(status == 200)
            let models = try #require(try jsonObject(data)["models"] as? [[String: Any]])
            #expect(models.count == 1)
            let model = try #require(models.first)
            #expect(model["name"] as? String == "split-code-7m.gguf" && model["model"] as? String == "split-code-7m.gguf")
            #expect(model["size"] as? Int == fileSize && fileSize != nil)
            #expect(model["digest"] as? String == expectedDigest && expectedDigest.count == 64)
            #expect((model["modified_at"] as? String)?.hasSuffix("Z") == true)
            let details = try #require(model["details"] as? [String: Any])
            #expect(details["format"] as? String == "gguf" && details["family"] as? String == gguf.architecture)
            #expect(details["families"] as? [String] == [gguf.architecture ?? "missing"])
            let expectedLevel = gguf.int("general.file_type").flatMap { ServedModel.fileTypeNames[$0] } ?? "unknown"
            #expect(details["quantization_level"] as? String == expectedLevel)
            #expect(edge.servedModel.parameterCount == expectedParameters && expectedParameters > 0)
            #expect((details["parameter_size"] as? String).map { !$0.isEmpty } == true)
        }
    }

    @Test("/api/show describes the model named by model or the legacy name; another name is 404 in Ollama's shape")
    func show() async throws {
        let edge = try EdgeService(configuration: .init(modelPath: LoopbackSplit.modelPath, splitLayer: nil, link: nil, workers: 1))
        defer { edge.stop() }
        let gguf = try GGUFFile(path: LoopbackSplit.modelPath)
        let family = try #require(gguf.architecture)
        try await withOpenAIServer(edge) { baseURL in
            for body in [#"{"model":"split-code-7m.gguf"}"#, #"{"name":"split-code-7m.gguf"}"#, #"{"model":"split-code-7m.gguf:latest"}"#] {
                let (status, data) = try await httpRequest("\(baseURL)/api/show", method: "POST", body: Data(body.utf8))
                #expect(status == 200)
                let object = try jsonObject(data)
                #expect((object["details"] as? [String: Any])?["format"] as? String == "gguf")
                let info = try #require(object["model_info"] as? [String: Any])
                #expect(info["general.architecture"] as? String == family)
                #expect(info["\(family).context_length"] as? Int == edge.file.configuration.maxPositions)
                #expect(info["general.parameter_count"] as? Int == edge.servedModel.parameterCount)
                #expect((object["capabilities"] as? [String])?.first == "completion")
            }
            let (missingStatus, missingData) = try await httpRequest("\(baseURL)/api/show", method: "POST", body: Data(#"{"model":"llama3"}"#.utf8))
            #expect(missingStatus == 404)
            let missing = try jsonObject(missingData)
            #expect(missing.keys.sorted() == ["error"] && (missing["error"] as? String)?.contains("llama3") == true)
            for bad in ["{", #"{"model":3}"#, "{}"] {
                let (badStatus, badData) = try await httpRequest("\(baseURL)/api/show", method: "POST", body: Data(bad.utf8))
                #expect(badStatus == 400)
                #expect(try jsonObject(badData).keys.sorted() == ["error"])
            }
        }
    }

    @Test("/api/version reports a version; a service with no model file is listed by name with unknown details")
    func versionAndNameOnly() async throws {
        try await withOpenAIServer(ProvenanceEchoService()) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/api/version")
            let version = try jsonObject(data)["version"] as? String
            #expect(status == 200 && version == OllamaModelRoutes.version)
            let (_, tags) = try await httpRequest("\(baseURL)/api/tags")
            let model = try #require((try jsonObject(tags)["models"] as? [[String: Any]])?.first)
            #expect(model["name"] as? String == "echo-split" && model["size"] as? Int == 0 && model["digest"] as? String == "")
            #expect((model["details"] as? [String: Any])?["quantization_level"] as? String == "unknown")
        }
    }
}
