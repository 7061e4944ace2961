import Foundation

/// Exit heads trained for a model that has none (`edge-node train-exits`): per exit layer ℓ a
/// low-rank adapter `h + B·A·(h / rms(h))` applied to layer ℓ's state before the model's own
/// final norm and LM head (never copied), plus, optionally, split-exit's stop/exit/continue
/// controller trained on the adapted heads. Only the edge applies them; the cloud is unchanged.
///
/// Stored in a sidecar GGUF next to the model (`x.gguf` → `x.exits.gguf`) as
/// `split.exit_head.<ℓ>.down` [rank, d] (A), `split.exit_head.<ℓ>.up` [d, rank] (B), the
/// controller's `split.exit_controller.*` tensors, and `split.exit_head.model_sha256`, the
/// SHA-256 of the model file the heads were trained on.
public struct ExitHeads: Sendable, Equatable {
    /// One layer's adapter.
    public struct Adapter: Sendable, Equatable {
        /// A: [rank × hiddenSize], row-major.
        public var down: [Float]
        /// B: [hiddenSize × rank], row-major.
        public var up: [Float]

        /// Makes an adapter.
        public init(down: [Float], up: [Float]) {
            self.down = down
            self.up = up
        }
    }

    public let hiddenSize: Int
    public let rank: Int
    /// Adapters by exit layer ℓ (the state after ℓ layers, 1…L−1).
    public var adapters: [Int: Adapter]
    /// The stop/exit/continue controller trained with these heads, if any.
    public var controller: ExitController?

    /// Makes a set of heads.
    public init(hiddenSize: Int, rank: Int, adapters: [Int: Adapter], controller: ExitController? = nil) {
        self.hiddenSize = hiddenSize
        self.rank = rank
        self.adapters = adapters
        self.controller = controller
    }

    static let prefix = "split.exit_head."
    /// Sidecar metadata: SHA-256 (hex) of the model file the heads were trained on.
    static let modelDigestKey = "split.exit_head.model_sha256"
    static let rankKey = "split.exit_head.rank"
    /// Keeps the adapted state's RMS from dividing by zero (an all-zero state stays zero).
    static let epsilon: Float = 1e-6

    /// Where the sidecar of a model file is: `x.gguf` → `x.exits.gguf`; a safetensors folder `x` → `x.exits.gguf`.
    public static func sidecarPath(forModel path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return (trimmed.hasSuffix(".gguf") ? String(trimmed.dropLast(5)) : trimmed) + ".exits.gguf"
    }

    /// The heads in `path`, or in the sidecar next to the model when `path` is nil; nil when
    /// no path is given and there is no sidecar.
    /// - Throws: `ExitHeadsError.trainedForAnotherModel` when the sidecar names another model
    ///   file's SHA-256, `ModelError` when its tensors are malformed or a given path is missing.
    public static func load(for file: ModelFile, path: String? = nil) throws -> ExitHeads? {
        let sidecar = path ?? sidecarPath(forModel: file.path)
        if path == nil, !FileManager.default.fileExists(atPath: sidecar) { return nil }
        let store = try GGUFFile(path: sidecar)
        let modelDigest = try file.identity().hex
        guard let trainedFor = store.string(modelDigestKey) else {
            throw ModelError.missingMetadata("\(modelDigestKey) in \(sidecar)")
        }
        guard trainedFor == modelDigest else {
            throw ExitHeadsError.trainedForAnotherModel(sidecar: sidecar, trainedFor: trainedFor, model: file.path,
                                                        modelDigest: modelDigest)
        }
        return try load(from: store, hiddenSize: file.configuration.hiddenSize, layerCount: file.configuration.layerCount)
    }

    /// The heads in `store`.
    /// - Throws: `ModelError` naming a malformed tensor or a layer the model does not have.
    static func load(from store: GGUFFile, hiddenSize d: Int, layerCount: Int) throws -> ExitHeads {
        guard let rank = store.int(rankKey), rank > 0, rank <= d else {
            throw ModelError.invalidConfiguration("exit heads' \(rankKey) is missing or outside 1…\(d)")
        }
        let loader = WeightLoader(store: store, transposeLinear: false)
        var adapters: [Int: Adapter] = [:]
        for name in store.tensorNames where name.hasPrefix(prefix) && name.hasSuffix(".down") {
            let middle = name.dropFirst(prefix.count).dropLast(".down".count)
            guard let layer = Int(middle), (1..<layerCount).contains(layer) else {
                throw ModelError.invalidConfiguration("exit head tensor \(name) names no exit layer of the model (1…\(layerCount - 1))")
            }
            let adapter = Adapter(down: try loader.vector(name, count: rank * d).array,
                                  up: try loader.vector("\(prefix)\(layer).up", count: d * rank).array)
            guard (adapter.down + adapter.up).allSatisfy(\.isFinite) else {
                throw ModelError.invalidConfiguration("exit head \(layer) holds a NaN or infinity")
            }
            adapters[layer] = adapter
        }
        guard !adapters.isEmpty else { throw ModelError.missingTensor("\(prefix)<layer>.down") }
        let controller = try ExitController.load(from: store, hiddenSize: d, layerCount: layerCount)
        return ExitHeads(hiddenSize: d, rank: rank, adapters: adapters, controller: controller)
    }

    /// Writes the sidecar, pinned to `modelDigest`.
    /// - Throws: file errors.
    public func write(to path: String, modelDigest: SHA256Digest) throws {
        var writer = GGUFWriter()
        writer.setMetadata("general.architecture", .string("split-exit-heads"))
        writer.setMetadata(Self.modelDigestKey, .string(modelDigest.hex))
        writer.setMetadata(Self.rankKey, .uint32(UInt32(rank)))
        for layer in adapters.keys.sorted() {
            let adapter = adapters[layer]!
            try writer.addTensor(name: "\(Self.prefix)\(layer).down", shape: [rank, hiddenSize], values: adapter.down)
            try writer.addTensor(name: "\(Self.prefix)\(layer).up", shape: [hiddenSize, rank], values: adapter.up)
        }
        if let controller {
            for layer in controller.heads.keys.sorted() {
                let head = controller.heads[layer]!
                try writer.addTensor(name: "\(ExitController.prefix)\(layer).weight", shape: [3, hiddenSize + 2], values: head.weight)
                try writer.addTensor(name: "\(ExitController.prefix)\(layer).bias", shape: [3], values: head.bias)
            }
            try writer.addTensor(name: "\(ExitController.prefix)thresholds", shape: [2],
                                 values: [controller.exitThreshold, controller.stopThreshold])
        }
        try writer.write(to: path)
    }

    /// Layer ℓ's state adapted in place for its exit head (`rows` rows); unchanged without an
    /// adapter for ℓ.
    public func adapt(_ hidden: UnsafeMutablePointer<Float>, rows: Int, layer: Int) {
        guard let adapter = adapters[layer] else { return }
        let d = hiddenSize, r = rank
        withUnsafeTemporaryAllocation(of: Float.self, capacity: r) { low in
            for row in 0..<rows {
                let h = hidden + row * d
                var meanSquare: Float = 0
                for i in 0..<d { meanSquare += h[i] * h[i] }
                let scale = 1 / (meanSquare / Float(d) + Self.epsilon).squareRoot()
                adapter.down.withUnsafeBufferPointer { a in
                    for j in 0..<r {
                        var sum: Float = 0
                        for i in 0..<d { sum += a[j * d + i] * h[i] }
                        low[j] = sum * scale
                    }
                }
                adapter.up.withUnsafeBufferPointer { b in
                    for i in 0..<d {
                        var sum: Float = 0
                        for j in 0..<r { sum += b[i * r + j] * low[j] }
                        h[i] += sum
                    }
                }
            }
        }
    }

    /// A copy of `hidden` adapted for layer ℓ's exit head.
    public func adapted(_ hidden: [Float], rows: Int, layer: Int) -> [Float] {
        var copy = hidden
        copy.withUnsafeMutableBufferPointer { adapt($0.baseAddress!, rows: rows, layer: layer) }
        return copy
    }
}

/// Why trained exit heads were refused.
public enum ExitHeadsError: Error, CustomStringConvertible, Equatable {
    /// The sidecar was trained on another model file (or another version of this one).
    case trainedForAnotherModel(sidecar: String, trainedFor: String, model: String, modelDigest: String)

    public var description: String {
        switch self {
        case .trainedForAnotherModel(let sidecar, let trainedFor, let model, let modelDigest):
            return "exit heads \(sidecar) were trained for the model with SHA-256 \(trainedFor), but \(model) has SHA-256 "
                + "\(modelDigest): run `edge-node train-exits` again for this model"
        }
    }
}
