import Foundation
import Testing
@testable import Split

/// Quantized GGUF files made by llama-quantize, split between an edge and a cloud node on
/// loopback: the edge runs layers [0, k) on the quantized weights, the cloud the rest.
@Suite("Quantized models through the split", .serialized)
struct QuantizedSplitTests {
    static let files = ["model-q4_0.gguf", "model-q4_k_m.gguf", "model-q6_k.gguf"]

    @Test("a Q4_0, Q4_K_M or Q6_K file split at every layer gives exactly the tokens the whole model gives locally",
          arguments: files)
    func splitEqualsLocal(file name: String) throws {
        let split = try LoopbackSplit(modelPath: fixturePath("models/llama-quant/\(name)"))
        defer { split.stop() }
        let layers = split.model.configuration.layerCount
        let vocabulary = Int32(split.model.configuration.vocabularySize)
        let local = try LocalGenerator(model: split.model, tokenizer: split.tokenizer)
        // Token ids, not text: the fixture's vocabulary is the random model's own.
        let prompt: [Int32] = (0..<12).map { Int32(($0 * 7919 + 13) % Int(vocabulary)) }
        let request = CompletionRequest(prompt: "", maxTokens: 12)
        let expected = try local.generate(promptTokens: prompt, request: request).tokens
        #expect(expected.count == 12)
        for k in 1..<layers {
            let report = try split.generator(splitLayer: k).generate(request, promptTokens: prompt)
            #expect(report.result.tokens == expected, "\(name) split at k=\(k)")
            #expect(report.roundTrips >= expected.count, "the cloud computed layers [\(k), \(layers)) of every token")
        }
    }
}
