import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Split

/// The `openai` Python SDK's bodies (openai 3.63.0, captured from `client.chat.completions.create`
/// against a local server), byte for byte: text parts, `max_completion_tokens`, `stop`; then a
/// streamed request with `stream_options.include_usage`, `max_tokens` and `seed`.
let openAIPythonChatBody = #"""
{"model":"split-code-7m","stream":false,"messages":[{"role":"system","content":"You are a coding assistant."},{"role":"user","content":[{"type":"text","text":"Reverse a string in Swift."}]}],"max_completion_tokens":64,"stop":["\n\n"],"temperature":0}
"""#
let openAIPythonStreamedChatBody = #"""
{"model":"split-code-7m","stream":true,"messages":[{"role":"user","content":"Hello"}],"max_tokens":32,"seed":7,"stream_options":{"include_usage":true}}
"""#
/// Continue's chat body (`_convertArgs` in core/llm/llms/OpenAI.ts): penalties it sends and we
/// ignore, `stream: true`, its stop words; empty contents sent as " ".
let continueChatBody = #"""
{"messages":[{"role":"system","content":"Always answer in Swift."},{"role":"user","content":"What does defer do?"},{"role":"assistant","content":" "},{"role":"user","content":"Show me."}],"model":"split","max_tokens":600,"temperature":0.5,"top_p":0.9,"frequency_penalty":0,"presence_penalty":0,"stream":true,"stop":["<|im_end|>"]}
"""#

func qwenTemplate() throws -> String {
    try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja"), encoding: .utf8)
}

@Suite("OpenAI chat completions request parsing")
struct OpenAIChatRequestTests {
    @Test("the openai SDK's request becomes a chat request: text parts joined, max_completion_tokens, stop, greedy")
    func openAIPythonRequest() throws {
        let (request, stream, includeUsage) = try OpenAIChatRequest.decode(Data(openAIPythonChatBody.utf8))
        #expect(request.chat == [ChatMessage(role: "system", content: "You are a coding assistant."),
                                 ChatMessage(role: "user", content: "Reverse a string in Swift.")])
        #expect(request.maxTokens == 64 && request.stop == ["\n\n"] && request.sampling.temperature == 0)
        #expect(!stream && !includeUsage)
    }

    @Test("a streamed SDK request asks for the usage chunk; max_tokens and seed are read")
    func openAIPythonStreamedRequest() throws {
        let (request, stream, includeUsage) = try OpenAIChatRequest.decode(Data(openAIPythonStreamedChatBody.utf8))
        #expect(request.chat == [ChatMessage(role: "user", content: "Hello")])
        #expect(request.maxTokens == 32 && request.sampling.seed == 7 && request.sampling.temperature == 1)
        #expect(stream && includeUsage)
    }

    @Test("Continue's chat request is accepted with its sampling fields")
    func continueRequest() throws {
        let (request, stream, _) = try OpenAIChatRequest.decode(Data(continueChatBody.utf8))
        #expect(request.chat?.count == 4 && request.chat?.last == ChatMessage(role: "user", content: "Show me."))
        #expect(request.maxTokens == 600 && request.sampling.temperature == 0.5 && abs(request.sampling.topP - 0.9) < 1e-6)
        #expect(request.stop == ["<|im_end|>"] && stream)
    }

    static let refusals: [(String, String)] = [
        (#"{"model":"m"}"#, "messages"),
        (#"{"messages":[]}"#, "messages"),
        (#"{"messages":[{"content":"hi"}]}"#, "messages[0].role"),
        (#"{"messages":[{"role":"user","content":"hi"}],"n":2}"#, "n"),
        (#"{"messages":[{"role":"user","content":"hi"}],"logprobs":true}"#, "logprobs"),
        (#"{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#, "tools"),
        (#"{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}"#, "response_format"),
        (#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#, "messages[0].content"),
        (#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":0}"#, "max_tokens"),
    ]

    @Test("a chat request the server cannot honour is refused, naming the field", arguments: refusals)
    func refusal(json: String, parameter: String) {
        #expect { try OpenAIChatRequest.decode(Data(json.utf8)) } throws: { error in
            (error as? ClientAPIError)?.parameter == parameter
        }
    }
}

@Suite("OpenAI chat completions over HTTP")
struct ClientAPIChatHTTPTests {
    @Test("a chat completion comes back whole as a chat.completion with the assistant's message, usage and provenance")
    func wholeChatCompletion() async throws {
        let service = ProvenanceEchoService()
        try await withOpenAIServer(service) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/v1/chat/completions", method: "POST",
                                                       body: Data(openAIPythonChatBody.utf8))
            #expect(status == 200)
            let object = try jsonObject(data)
            #expect(object["object"] as? String == "chat.completion")
            #expect((object["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            let choice = try #require((object["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant" && message["content"] as? String == "    return a + b")
            #expect(choice["finish_reason"] as? String == "stop" && choice.keys.contains("logprobs"))
            #expect((object["usage"] as? [String: Any])?["completion_tokens"] as? Int == 3)
            #expect((object["split"] as? [String: Any])?["provenance"] as? [String] == ["cloud@8", "draft@4", "edge@3"])
            let received = await service.log.requests
            #expect(received.first?.chat?.first == ChatMessage(role: "system", content: "You are a coding assistant."))
        }
    }

    @Test("a streamed chat sends the role first, then content deltas, the finish reason, the usage chunk and [DONE]")
    func streamedChatCompletion() async throws {
        try await withOpenAIServer(ProvenanceEchoService()) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/v1/chat/completions", method: "POST",
                                                       body: Data(openAIPythonStreamedChatBody.utf8))
            #expect(status == 200)
            let events = serverSentEvents(data)
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map { try jsonObject(Data($0.utf8)) }
            #expect(chunks.count == 6)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1)
            let deltas = chunks.map { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]) }
            #expect(deltas[0]?["role"] as? String == "assistant" && deltas[0]?["content"] as? String == "")
            #expect(deltas[1...3].map { $0?["content"] as? String } == ["    return", " a", " + b"])
            #expect(deltas[1...3].allSatisfy { $0?["role"] == nil })
            let finish = try #require((chunks[4]["choices"] as? [[String: Any]])?.first)
            #expect(finish["finish_reason"] as? String == "stop" && (finish["delta"] as? [String: Any])?.isEmpty == true)
            #expect((chunks[4]["split"] as? [String: Any])?["provenance"] as? [String] == ["cloud@8", "draft@4", "edge@3"])
            #expect((chunks[5]["choices"] as? [Any])?.isEmpty == true)
            #expect((chunks[5]["usage"] as? [String: Any])?["total_tokens"] as? Int == 15)
        }
    }

    @Test("n > 1 is answered 400 in OpenAI's error shape naming n")
    func manyChoicesRefused() async throws {
        try await withOpenAIServer(ProvenanceEchoService()) { baseURL in
            let body = #"{"messages":[{"role":"user","content":"hi"}],"n":3}"#
            let (status, data) = try await httpRequest("\(baseURL)/v1/chat/completions", method: "POST", body: Data(body.utf8))
            #expect(status == 400)
            let error = try #require(try jsonObject(data)["error"] as? [String: Any])
            #expect(error["param"] as? String == "n" && error["code"] as? String == "unsupported")
        }
    }
}

@Suite("Chat prompts on the edge", .serialized)
struct EdgeChatTests {
    @Test("a template's end of turn ends the reply even when the model's metadata names no EOT token")
    func endOfTurnFromTemplate() throws {
        var vocabulary: [String: Int32] = [:]
        for byte in 0..<256 { vocabulary[String(ByteEncoder.characterOfByte[byte])] = Int32(byte) }
        var settings = BPETokenizer.Settings()
        settings.chatTemplate = try qwenTemplate()
        settings.eosTokenID = 256
        let tokenizer = try BPETokenizer(vocabulary: vocabulary, merges: [], addedTokens: [
            AddedToken(content: "<|endoftext|>", id: 256, isSpecial: true), AddedToken(content: "<|im_start|>", id: 257, isSpecial: true),
            AddedToken(content: "<|im_end|>", id: 258, isSpecial: true),
        ], settings: settings)
        let prompt = try ChatPrompt(tokenizer: tokenizer)
        #expect(prompt.endTokens == [256, 258])
        let tokens = try prompt.tokens(for: [ChatMessage(role: "user", content: "hi")])
        #expect(tokens.first == 257 && tokens.filter { $0 == 258 }.count == 2)
        #expect(tokenizer.decode(tokens) == "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test("Phi-3's real vocabulary and GGUF template: BOS once, its special tokens parsed, <|end|> ends the reply")
    func phi3Vocabulary() throws {
        let tokenizer = try BPETokenizer(gguf: GGUFFile(path: fixturePath("llama-vocab/ggml-vocab-phi-3.gguf")))
        let prompt = try ChatPrompt(tokenizer: tokenizer)
        #expect(prompt.endTokens.contains(32007) && prompt.endTokens.contains(32000))  // <|end|>, <|endoftext|>
        let tokens = try prompt.tokens(for: [ChatMessage(role: "user", content: "Write hello world in Swift.")])
        #expect(tokens.first == 1 && tokens.filter { $0 == 1 }.count == 1)  // <s>, written by the template
        let markers = tokens.filter { [32010, 32007, 32001].contains($0) }  // <|user|>, <|end|>, <|assistant|>
        #expect(markers == [32010, 32007, 32001])
        #expect(tokenizer.decode(Array(tokens.dropFirst())).contains("Write hello world in Swift.<|end|>"))
    }

    @Test("a chat request reaches the model as its template renders the conversation, and answers as local generation does")
    func chatUsesTheTemplate() async throws {
        var configuration = EdgeService.Configuration(modelPath: LoopbackSplit.modelPath, splitLayer: nil, link: nil, workers: 1)
        configuration.chatTemplate = try qwenTemplate()
        let edge = try EdgeService(configuration: configuration)
        defer { edge.stop() }
        let messages = [ChatMessage(role: "user", content: "def reverse(s):")]
        let request = CompletionRequest(prompt: "", maxTokens: 12, strategy: "local", chat: messages)
        let summary = try await edge.complete(request) { _ in }

        let model = try ModelFile(path: LoopbackSplit.modelPath)
        let tokenizer = try #require(model.tokenizer)
        let builder = try ChatPrompt(tokenizer: tokenizer, configuredTemplate: try qwenTemplate())
        let prompt = try builder.tokens(for: messages)
        #expect(tokenizer.decode(prompt).hasSuffix("<|im_start|>user\ndef reverse(s):<|im_end|>\n<|im_start|>assistant\n"))
        let reference = try LocalGenerator(model: try model.load(), tokenizer: tokenizer)
            .generate(promptTokens: prompt, request: request, bounds: GenerationBounds(endTokens: builder.endTokens))
        #expect(summary.promptTokenCount == prompt.count)
        #expect(summary.text == reference.text && summary.completionTokenCount == reference.tokens.count)
    }

    @Test("chat on a model without a chat template is refused with a message saying so")
    func modelWithoutTemplateIsRefused() async throws {
        let edge = try EdgeService(configuration: .init(modelPath: LoopbackSplit.modelPath, splitLayer: nil, link: nil, workers: 1))
        defer { edge.stop() }
        try await withOpenAIServer(edge) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/v1/chat/completions", method: "POST", body: Data(continueChatBody.utf8))
            #expect(status == 400)
            let error = try #require(try jsonObject(data)["error"] as? [String: Any])
            #expect(error["code"] as? String == "unsupported")
            #expect((error["message"] as? String)?.contains("has no chat template") == true)
        }
    }

    @Test("a conversation the template refuses (Gemma: no system role) is answered 400 with the template's words")
    func templateRefusalIsAClientError() async throws {
        var configuration = EdgeService.Configuration(modelPath: LoopbackSplit.modelPath, splitLayer: nil, link: nil, workers: 1)
        configuration.chatTemplate = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/chat-templates/google-gemma-2-2b-it.jinja"), encoding: .utf8)
        let edge = try EdgeService(configuration: configuration)
        defer { edge.stop() }
        try await withOpenAIServer(edge) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/v1/chat/completions", method: "POST", body: Data(continueChatBody.utf8))
            #expect(status == 400)
            let error = try #require(try jsonObject(data)["error"] as? [String: Any])
            #expect(error["code"] as? String == "invalid_request")
            #expect((error["message"] as? String)?.contains("System role not supported") == true)
        }
    }
}
