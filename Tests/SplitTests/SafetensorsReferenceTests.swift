import Foundation
import Testing
@testable import Split

private struct ReferenceTensor: Decodable {
    let shape: [Int]
    let values: [Float]
}

private let expectedTypes: [String: WeightType] = [
    "model.embed_tokens.weight": .f32, "model.layers.0.self_attn.q_proj.weight": .f16, "model.norm.weight": .bf16,
]

@Test("a checkpoint written by the reference safetensors package reads back byte for byte, single or sharded")
func referenceSafetensors() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("safetensors/reference.json")))
    let reference = try JSONDecoder().decode([String: ReferenceTensor].self, from: data)
    let single = try SafetensorsFile(path: fixturePath("safetensors/reference.safetensors"))
    let sharded = try SafetensorsDirectory(path: fixturePath("safetensors/sharded"))
    #expect(single.tensorNames == sharded.tensorNames)
    for (name, type) in expectedTypes {
        let source = try #require(reference[name])
        let encoded = try #require(WeightEncoding.encode(source.values, as: type))
        for store in [single, sharded] as [any WeightStore] {
            let view = try store.weight(name)
            #expect(view.shape == source.shape && view.type == type, "\(name)")
            #expect(view.withBytes { Array($0) } == encoded, "\(name) bytes differ from Split's \(type) encoding")
        }
    }
    #expect(throws: SafetensorsError.unsupportedDtype(name: "position_ids", dtype: "I64")) {
        try sharded.weight("position_ids")
    }
}
