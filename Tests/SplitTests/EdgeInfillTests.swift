import Foundation
import Testing
@testable import Split

@Suite("Fill-in-the-middle on the edge", .serialized)
struct EdgeInfillTests {
    @Test("an infill request reaches the bundled model as the PSM prompt of its FIM tokens, and ends at their end tokens")
    func infillUsesTheFIMPrompt() async throws {
        // The bundled model was fine-tuned for FIM (tools/train/fim.py): <|fim_prefix|>,
        // <|fim_suffix|>, <|fim_middle|>, <|fim_pad|> are ids 4096...4099, named by its GGUF.
        let path = LoopbackSplit.modelPath
        let edge = try EdgeService(configuration: .init(modelPath: path, splitLayer: nil, link: nil, workers: 1))
        defer { edge.stop() }
        let input = InfillInput(prefix: "def add(a, b):\n", suffix: "\n\nprint(add(1, 2))\n",
                                extraFiles: [InfillFile(filename: "util.py", text: "X = 1\n")])
        let request = CompletionRequest(prompt: "", maxTokens: 12, strategy: "local", infill: input)
        let summary = try await edge.complete(request) { _ in }

        let model = try ModelFile(path: path)
        let tokenizer = try #require(model.tokenizer)
        let fim = try FIMPrompt(tokenizer: tokenizer)
        let prompt = fim.build(input, window: .standard(contextTokens: 256), maxNewTokens: 12).tokens
        let plain = { (text: String) in tokenizer.encode(text, parsingSpecialTokens: false) }
        // no file separator in this vocabulary: the extra file comes as a snippet, before BOS
        #expect(prompt == plain("\n\n--- snippet ---\n\n") + plain("X = 1\n") + [0, 4096] + plain(input.prefix)
                + [4097] + plain(input.suffix) + [4098])
        #expect(fim.tokens.endTokens == [0, 4099])
        let reference = try LocalGenerator(model: try model.load(), tokenizer: tokenizer)
            .generate(promptTokens: prompt, request: request, bounds: GenerationBounds(endTokens: fim.tokens.endTokens))
        #expect(summary.promptTokenCount == prompt.count)
        #expect(summary.text == reference.text && summary.completionTokenCount == reference.tokens.count)
    }

    @Test("/infill on a model without FIM tokens is refused with a message saying so")
    func modelWithoutFIMIsRefused() async throws {
        // a Llama whose byte-level BPE has no FIM tokens
        let path = Fixtures.path("models/llama/model.gguf")
        let edge = try EdgeService(configuration: .init(modelPath: path, splitLayer: nil, link: nil, workers: 1))
        defer { edge.stop() }
        try await withOpenAIServer(edge) { baseURL in
            let (status, data) = try await httpRequest("\(baseURL)/infill", method: "POST", body: Data(llamaVimInfillBody.utf8))
            #expect(status == 400)
            let error = try #require(try jsonObject(data)["error"] as? [String: Any])
            #expect(error["code"] as? String == "unsupported")
            #expect((error["message"] as? String)?.contains("does not support fill-in-the-middle") == true)
        }
    }
}
