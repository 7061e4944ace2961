import Foundation
import Testing
@testable import Split

/// A file asking for maths Split does not implement (a RoPE scaling, soft-capping, a bias, an
/// unknown tensor) is refused with a message naming the key or tensor: never silently run
/// without it.
@Suite("Files asking for computation Split does not do are refused by name")
struct UnsupportedFeatureTests {
    typealias Tensor = (name: String, shape: [Int], values: [Float])

    /// A golden fixture's GGUF rewritten with `edit` applied to its tensors and metadata.
    func rewrittenGGUF(_ model: String = "llama", _ edit: (inout [Tensor], inout [String: GGUFValue]) -> Void) throws -> (TemporaryDirectory, String) {
        let source = try GGUFFile(path: Fixtures.path("models/\(model)/model.gguf"))
        var tensors: [Tensor] = try source.tensors.map { info in
            let view = try source.weight(info.name)
            return (info.name, info.shape, view.withBytes { Array($0.bindMemory(to: Float.self)) })
        }
        var metadata = source.metadata
        edit(&tensors, &metadata)
        var writer = GGUFWriter()
        for key in source.metadataKeys { if let value = metadata[key] { writer.setMetadata(key, value) } }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !source.metadataKeys.contains(key) {
            writer.setMetadata(key, value)
        }
        for tensor in tensors { try writer.addTensor(name: tensor.name, shape: tensor.shape, values: tensor.values) }
        let directory = try TemporaryDirectory()
        let path = directory.file("model.gguf")
        try writer.write(to: path)
        return (directory, path)
    }

    /// A golden fixture's HF directory with `edit` applied to its config.json and, when
    /// `extraTensor` is given, that tensor added to its safetensors.
    func rewrittenHF(_ model: String = "llama", extraTensor: Tensor? = nil, _ edit: (inout [String: Any]) -> Void) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        let source = Fixtures.path("models/\(model)")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source + "/config.json"))) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: directory.file("config.json")))
        if let extraTensor {
            let file = try SafetensorsFile(path: source + "/model.safetensors")
            var writer = SafetensorsWriter()
            for name in file.tensorNames {
                let view = try file.weight(name)
                try writer.addTensor(name: name, shape: view.shape, values: view.withBytes { Array($0.bindMemory(to: Float.self)) })
            }
            try writer.addTensor(name: extraTensor.name, shape: extraTensor.shape, values: extraTensor.values)
            try writer.write(to: directory.file("model.safetensors"))
        } else {
            try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: directory.file("model.safetensors"))
        }
        return directory
    }

    /// Expects `body` to throw `ModelError.unsupportedFeature` whose message names `name`.
    func expectRefusal(naming name: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a refusal naming \(name)", sourceLocation: sourceLocation)
        } catch let error as ModelError {
            guard case .unsupportedFeature = error else {
                Issue.record("expected unsupportedFeature, got \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(error.description.contains(name), "\(error.description)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a ModelError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    static let refusedGGUFKeys: [(key: String, value: GGUFValue)] = [
        ("llama.rope.scaling.type", .string("longrope")),
        ("llama.attn_logit_softcapping", .float32(50)),
        ("llama.final_logit_softcapping", .float32(30)),
        ("llama.expert_count", .uint32(8)),
        ("llama.attention.value_length", .uint32(32)),
        ("llama.rope.scaling.yarn_log_multiplier", .float32(0.1)),
        ("llama.embedding_scale", .float32(12)),
    ]

    @Test("a GGUF metadata key that changes the maths and is not implemented is refused by name",
          arguments: refusedGGUFKeys.indices)
    func refusedGGUFKey(index: Int) throws {
        let (key, value) = Self.refusedGGUFKeys[index]
        let (directory, path) = try rewrittenGGUF { _, metadata in metadata[key] = value }
        defer { directory.remove() }
        expectRefusal(naming: key) { _ = try ModelFile(path: path) }
    }

    @Test("soft-capping and sliding-window keys are refused on architectures that do not have them")
    func refusedOnOtherArchitectures() throws {
        let (d1, qwen) = try rewrittenGGUF("qwen2") { _, metadata in metadata["qwen2.attention.sliding_window"] = .uint32(4) }
        defer { d1.remove() }
        expectRefusal(naming: "qwen2.attention.sliding_window") { _ = try ModelFile(path: qwen) }
        let (d2, gemma) = try rewrittenGGUF("gemma3") { _, metadata in metadata["gemma3.final_logit_softcapping"] = .float32(30) }
        defer { d2.remove() }
        expectRefusal(naming: "gemma3.final_logit_softcapping") { _ = try ModelFile(path: gemma) }
    }

    static let refusedTensors: [Tensor] = [
        ("blk.0.attn_output.bias", [64], [Float](repeating: 0.1, count: 64)),
        ("blk.1.ffn_up.bias", [96], [Float](repeating: 0.1, count: 96)),
        ("blk.0.attn_q_norm.weight", [16], [Float](repeating: 1, count: 16)),
        ("rope_factors_long.weight", [8], [Float](repeating: 2, count: 8)),
        ("blk.2.ffn_gate_exps.weight", [4, 96, 64], [Float](repeating: 0, count: 4 * 96 * 64)),
    ]

    @Test("a GGUF tensor the model would not read is refused by name", arguments: refusedTensors.map(\.name))
    func refusedGGUFTensor(name: String) throws {
        let extra = Self.refusedTensors.first { $0.name == name }!
        let (directory, path) = try rewrittenGGUF { tensors, _ in tensors.append(extra) }
        defer { directory.remove() }
        expectRefusal(naming: name) { _ = try ModelFile(path: path) }
    }

    @Test("a rope_freqs tensor combined with another scaling, or a RoPE attention factor without YaRN, is refused")
    func refusedRopeCombinations() throws {
        let (d1, combined) = try rewrittenGGUF { tensors, metadata in
            tensors.append(("rope_freqs.weight", [8], [Float](repeating: 2, count: 8)))
            metadata["llama.rope.scaling.type"] = .string("linear")
            metadata["llama.rope.scaling.factor"] = .float32(4)
        }
        defer { d1.remove() }
        expectRefusal(naming: "rope_freqs.weight") { _ = try ModelFile(path: combined) }
        let (d2, attention) = try rewrittenGGUF { _, metadata in metadata["llama.rope.scaling.attn_factor"] = .float32(0.5) }
        defer { d2.remove() }
        expectRefusal(naming: "llama.rope.scaling.attn_factor") { _ = try ModelFile(path: attention) }
    }

    static let refusedConfigs: [(name: String, edit: @Sendable (inout [String: Any]) -> Void)] = [
        ("dynamic", { $0["rope_scaling"] = ["type": "dynamic", "factor": 2.0] }),
        ("longrope", { $0["rope_parameters"] = ["rope_type": "longrope", "rope_theta": 10000.0, "factor": 2.0] }),
        ("mscale", { $0["rope_scaling"] = ["rope_type": "yarn", "factor": 4.0, "mscale": 0.707, "original_max_position_embeddings": 32] }),
        ("attn_logit_softcapping", { $0["attn_logit_softcapping"] = 50.0 }),
        ("final_logit_softcapping", { $0["final_logit_softcapping"] = 30.0 }),
        ("hidden_act", { $0["hidden_act"] = "gelu" }),
        ("mlp_bias", { $0["mlp_bias"] = true }),
        ("partial_rotary_factor", { $0["partial_rotary_factor"] = 0.5 }),
        ("layer_types[1]", { $0["layer_types"] = ["full_attention", "sliding_attention", "full_attention"] }),
        ("num_local_experts", { $0["num_local_experts"] = 8 }),
    ]

    @Test("a config.json setting that changes the maths and is not implemented is refused by name",
          arguments: refusedConfigs.indices)
    func refusedConfig(index: Int) throws {
        let (name, edit) = Self.refusedConfigs[index]
        let directory = try rewrittenHF("llama", edit)
        defer { directory.remove() }
        expectRefusal(naming: name) { _ = try ModelFile(path: directory.path) }
    }

    @Test("Qwen's sliding window is refused only when use_sliding_window turns it on")
    func qwenSlidingWindow() throws {
        let on = try rewrittenHF("qwen2") { $0["use_sliding_window"] = true; $0["sliding_window"] = 4 }
        defer { on.remove() }
        expectRefusal(naming: "use_sliding_window") { _ = try ModelFile(path: on.path) }
        let off = try rewrittenHF("qwen2") { $0["use_sliding_window"] = false; $0["sliding_window"] = 4 }
        defer { off.remove() }
        #expect(throws: Never.self) { _ = try ModelFile(path: off.path) }
    }

    @Test("a safetensors tensor the model would not read is refused by name")
    func refusedSafetensorsTensor() throws {
        let directory = try rewrittenHF(extraTensor: ("model.layers.0.self_attn.o_proj.bias", [64], [Float](repeating: 0.1, count: 64))) { _ in }
        defer { directory.remove() }
        expectRefusal(naming: "model.layers.0.self_attn.o_proj.bias") { _ = try ModelFile(path: directory.path) }
    }

    @Test("RoPE scaling reads the same from rope_type, the older type key and rope_parameters")
    func ropeScalingSpellings() throws {
        var configurations: [ModelConfiguration] = []
        for edit: (inout [String: Any]) -> Void in [
            { $0["rope_scaling"] = ["type": "linear", "factor": 4.0] },
            { $0["rope_scaling"] = ["rope_type": "linear", "factor": 4.0] },
            { $0["rope_parameters"] = ["rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0] },
        ] {
            let directory = try rewrittenHF("llama", edit)
            defer { directory.remove() }
            configurations.append(try ModelFile(path: directory.path).configuration)
        }
        #expect(configurations.allSatisfy { $0.ropeScaling == .linear(factor: 4) })
    }
}
