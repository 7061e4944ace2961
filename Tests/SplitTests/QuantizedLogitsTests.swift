import Foundation
import Testing
@testable import Split

/// Q8_0 weights are computed on directly, the way llama.cpp computes them (8-bit blocks of
/// weights and of activations, exact integer block sums): the logits of a Q8_0 file must match
/// llama.cpp's on the same file, not merely the f32 model's. Fixtures from
/// tools/fixtures/make_q8_fixture.py (llama-cpp-python, f32 KV cache).
@Suite("Quantized logits agree with llama.cpp")
struct QuantizedLogitsTests {
    struct Reference: Decodable {
        let promptIds: [Int32]
        let quantizationErrorMaxAbs: Float
        let logitsQ8_0: [[Float]]
        let logitsF32: [[Float]]

        enum CodingKeys: String, CodingKey {
            case promptIds = "prompt_ids", quantizationErrorMaxAbs = "quantization_error_max_abs"
            case logitsQ8_0 = "logits_q8_0", logitsF32 = "logits_f32"
        }
    }

    static func reference() throws -> Reference {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("models/llama/llamacpp-q8_0.json")))
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    static func logits(_ path: String, _ tokens: [Int32]) throws -> [Float] {
        let model = try ModelFile(path: Fixtures.path(path)).load()
        var hidden = try model.embed(tokens, startPosition: 0)
        let workspace = Workspace()
        try model.forward(&hidden, rows: tokens.count, startPosition: 0, layers: model.layers,
                          cache: model.makeCache(), workspace: workspace)
        return try model.logits(hidden, rows: tokens.count, workspace: workspace)
    }

    @Test("the Q8_0 file's weights stay in Q8_0 (no f32 copy)")
    func weightsStayQuantized() throws {
        let model = try ModelFile(path: Fixtures.path("models/llama/model-q8_0.gguf")).load()
        #expect(model.blocks.allSatisfy { $0.weights.up.type == .q8_0 && $0.weights.down.type == .q8_0 })
        #expect(model.outputHead?.type == .q8_0)
    }

    @Test("every position's logits on a Q8_0 file are within 1e-3 of llama.cpp's (measured 1.4e-6), far closer than the f32 model's")
    func matchesLlamaCpp() throws {
        let reference = try Self.reference()
        let ours = try Self.logits("models/llama/model-q8_0.gguf", reference.promptIds)
        let theirs = reference.logitsQ8_0.flatMap { $0 }
        let toLlamaCpp = maxAbsDifference(ours, theirs)
        let toF32 = maxAbsDifference(ours, reference.logitsF32.flatMap { $0 })
        #expect(toLlamaCpp <= 1e-3, "max |Split q8_0 − llama.cpp q8_0| = \(toLlamaCpp)")
        // The quantization error itself is much larger: a runtime that dequantized to f32 (or
        // quantized differently) would sit near the f32 logits, not llama.cpp's Q8_0 ones.
        #expect(toLlamaCpp * 4 < reference.quantizationErrorMaxAbs, "llama.cpp q8_0 vs f32: \(reference.quantizationErrorMaxAbs)")
        #expect(toF32 > reference.quantizationErrorMaxAbs / 2)
    }
}
