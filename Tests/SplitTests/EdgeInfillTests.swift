import Foundation
import Testing
@testable import Split

/// The bundled model rewritten with GGUF FIM ids naming four of its ordinary tokens, so that
/// the edge's infill path can be followed end to end (the model was not trained for FIM: the
/// text it writes means nothing, the prompt it is given is what is checked).
private func fimCapableCopy(in directory: TemporaryDirectory) throws -> String {
    let path = LoopbackSplit.modelPath
    let file = try GGUFFile(path: path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    var writer = GGUFWriter(alignment: file.alignment)
    for key in file.metadataKeys {
        if let value = file.value(forKey: key) { writer.setMetadata(key, value) }
    }
    writer.setMetadata("tokenizer.ggml.fim_pre_token_id", .uint32(4092))
    writer.setMetadata("tokenizer.ggml.fim_suf_token_id", .uint32(4093))
    writer.setMetadata("tokenizer.ggml.fim_mid_token_id", .uint32(4094))
    writer.setMetadata("tokenizer.ggml.fim_sep_token_id", .uint32(4095))
    for tensor in file.tensors {
        let count = try #require(tensor.byteCount)
        writer.addTensor(name: tensor.name, shape: tensor.shape, typeCode: tensor.typeCode,
                         data: Array(bytes[tensor.fileOffset..<(tensor.fileOffset + count)]))
    }
    return directory.write(writer.serialized(), to: "split-code-fim.gguf")
}

@Suite("Fill-in-the-middle on the edge", .serialized)
struct EdgeInfillTests {
    @Test("an infill request reaches the model as the prompt its FIM tokens build, and ends at their end tokens")
    func infillUsesTheFIMPrompt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try fimCapableCopy(in: directory)
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
        #expect(prompt.suffix(1) == [4094] && prompt.contains(4092) && prompt.contains(4093) && prompt.contains(4095))
        let reference = try LocalGenerator(model: try model.load(), tokenizer: tokenizer)
            .generate(promptTokens: prompt, request: request, bounds: GenerationBounds(endTokens: fim.tokens.endTokens))
        #expect(summary.promptTokenCount == prompt.count)
        #expect(summary.text == reference.text && summary.completionTokenCount == reference.tokens.count)
    }

    @Test("/infill on a model without FIM tokens is refused with a message saying so")
    func modelWithoutFIMIsRefused() async throws {
        let edge = try EdgeService(configuration: .init(modelPath: LoopbackSplit.modelPath, splitLayer: nil, link: nil, workers: 1))
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
