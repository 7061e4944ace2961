import Foundation
import Testing
@testable import Split

/// A model file that parses as GGUF but cannot make a model is refused with an error that
/// names what is wrong, never a crash.
@Suite("Model files that cannot make a model")
struct ModelFileErrorTests {
    /// The llama fixture rewritten with `edit` applied to its tensors and metadata.
    func rewritten(_ edit: (inout [(name: String, shape: [Int], values: [Float])], inout [String: GGUFValue]) -> Void) throws -> (TemporaryDirectory, String) {
        let source = try GGUFFile(path: Fixtures.path("models/llama/model.gguf"))
        var tensors: [(name: String, shape: [Int], values: [Float])] = try source.tensors.map { info in
            let view = try source.weight(info.name)
            let values = view.withBytes { Array($0.bindMemory(to: Float.self)) }
            return (info.name, info.shape, values)
        }
        var metadata = source.metadata
        edit(&tensors, &metadata)
        var writer = GGUFWriter()
        for key in source.metadataKeys { if let value = metadata[key] { writer.setMetadata(key, value) } }
        for (key, value) in metadata where !source.metadataKeys.contains(key) { writer.setMetadata(key, value) }
        for tensor in tensors { try writer.addTensor(name: tensor.name, shape: tensor.shape, values: tensor.values) }
        let directory = try TemporaryDirectory()
        let path = directory.file("model.gguf")
        try writer.write(to: path)
        return (directory, path)
    }

    @Test("a missing layer tensor is named in the error")
    func missingTensor() throws {
        let (directory, path) = try rewritten { tensors, _ in tensors.removeAll { $0.name == "blk.1.ffn_down.weight" } }
        defer { directory.remove() }
        #expect(throws: ModelError.missingTensor("blk.1.ffn_down.weight")) { _ = try ModelFile(path: path).load() }
        // A part that does not need the tensor still loads.
        #expect(throws: Never.self) { _ = try ModelFile(path: path).load(.init(layers: 0..<1, embedding: true, head: false)) }
    }

    @Test("a tensor whose shape does not fit the configuration is named with both shapes")
    func wrongShape() throws {
        let (directory, path) = try rewritten { tensors, _ in
            if let i = tensors.firstIndex(where: { $0.name == "blk.0.attn_q.weight" }) {
                tensors[i].shape = [32, 128]
            }
        }
        defer { directory.remove() }
        #expect(throws: ModelError.shapeMismatch(tensor: "blk.0.attn_q.weight", expected: [64, 64], found: [32, 128])) {
            _ = try ModelFile(path: path).load()
        }
    }

    @Test("an unknown architecture and missing shape metadata are refused by name")
    func badMetadata() throws {
        let (d1, unknown) = try rewritten { _, metadata in metadata["general.architecture"] = .string("mamba") }
        defer { d1.remove() }
        #expect(throws: ModelError.unsupportedArchitecture("mamba")) { _ = try ModelFile(path: unknown) }
        let (d2, missing) = try rewritten { _, metadata in metadata["llama.block_count"] = nil }
        defer { d2.remove() }
        #expect(throws: ModelError.missingMetadata("llama.block_count")) { _ = try ModelFile(path: missing) }
    }

    @Test("a path that is neither GGUF nor a model directory is refused")
    func notAModel() throws {
        #expect(throws: ModelError.self) { _ = try ModelFile(path: "/nonexistent/model.gguf") }
        #expect(throws: (any Error).self) { _ = try ModelFile(path: Fixtures.path("models/llama/golden.json")) }
    }
}
