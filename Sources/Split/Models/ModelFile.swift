import Foundation

/// A model on disk, opened but not yet built: its configuration, its weights (memory-mapped),
/// its tokenizer, and how its tensors are named. Build any part of it with `load(_:)`.
///
/// Accepts a `.gguf` file, a `.safetensors` file next to its `config.json`, or a Hugging Face
/// model directory (`config.json`, `model.safetensors` or an index of shards, `tokenizer.json`).
public final class ModelFile: @unchecked Sendable {
    // Safe to send: every stored property is immutable after init.
    public let path: String
    public let family: CheckpointFamily
    public let configuration: ModelConfiguration
    public let store: WeightStore
    public let naming: WeightNaming
    public let tokenizer: BPETokenizer?

    /// Opens and validates the model at `path`.
    /// - Throws: `GGUFError`, `SafetensorsError`, `ModelError` or `TokenizerError` naming the problem.
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.invalidConfiguration("no model file or directory at \(path)")
        }
        if !isDirectory.boolValue && path.hasSuffix(".gguf") {
            let file = try GGUFFile(path: path)
            family = .gguf
            configuration = try ModelConfiguration(gguf: file)
            store = file
            tokenizer = file.string("tokenizer.ggml.model") == nil ? nil : try BPETokenizer(gguf: file)
            file.releaseMetadataPages()  // configuration and tokenizer are built from it; a later read maps it back
        } else {
            let directory = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
            let configPath = (directory as NSString).appendingPathComponent("config.json")
            guard let configData = FileManager.default.contents(atPath: configPath) else {
                throw ModelError.missingMetadata("config.json next to \(path)")
            }
            family = .huggingFace
            configuration = try ModelConfiguration(huggingFaceConfig: configData)
            store = try isDirectory.boolValue ? SafetensorsDirectory(path: path) : SafetensorsFile(path: path)
            let tokenizerPath = (directory as NSString).appendingPathComponent("tokenizer.json")
            tokenizer = FileManager.default.fileExists(atPath: tokenizerPath)
                ? try BPETokenizer(tokenizerJSONPath: tokenizerPath) : nil
        }
        naming = configuration.architecture.naming(family: family, configuration: configuration, store: store)
        try Self.refuseUnknownTensors(store: store, naming: naming, configuration: configuration, family: family)
    }

    /// Refuses a file holding a tensor the model would not read: a bias, norm or scaling table
    /// left out of the computation would make every output silently wrong.
    /// - Throws: `ModelError.unsupportedFeature` naming the first such tensor.
    static func refuseUnknownTensors(
        store: WeightStore, naming: WeightNaming, configuration: ModelConfiguration, family: CheckpointFamily
    ) throws {
        var known = naming.knownTensorNames(configuration)
        // Read into the configuration (`RopeScaling.frequencyFactors`).
        if family == .gguf { known.insert("rope_freqs.weight") }
        for name in store.tensorNames where !known.contains(name) {
            // HF buffers recomputed at load time, not parameters: RoPE's inverse frequencies
            // (Split computes them from the config) and GPT-2's causal-mask buffers.
            if family == .huggingFace,
               name.hasSuffix(".rotary_emb.inv_freq") || name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") {
                continue
            }
            throw ModelError.unsupportedFeature(
                what: "tensor '\(name)'",
                reason: "not part of the \(configuration.architecture.rawValue) computation Split implements")
        }
    }

    /// Builds the requested part of the model (mapping, not copying, f32/f16 weights);
    /// `pacer`, when given, wraps each piece of compute (benchmarks play slower devices with it).
    /// - Throws: `ModelError` naming a missing tensor or a shape mismatch.
    public func load(_ parts: TransformerModel.Parts = .all, pacer: (any ComputePacer)? = nil) throws -> TransformerModel {
        try TransformerModel(configuration: configuration, store: store, naming: naming, parts: parts, pacer: pacer)
    }

    /// SHA-256 of the weights: of the file, or of every `.safetensors` file of a directory in
    /// name order. Edge and cloud compare it in their hello, so they never mix two models.
    /// - Throws: `DigestError` when a file cannot be read.
    public func identity() throws -> SHA256Digest {
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard isDirectory.boolValue else { return try SHA256Digest.ofFile(atPath: path) }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        var digests: [UInt8] = []
        for name in names {
            digests += try SHA256Digest.ofFile(atPath: (path as NSString).appendingPathComponent(name)).bytes
        }
        return try SHA256Digest.of(digests)
    }
}
