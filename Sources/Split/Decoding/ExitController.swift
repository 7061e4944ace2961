import Foundation

/// The trained stop/exit/continue classifier of split-exit (after Sun et al., "When Neural
/// Code Completion Models Size up the Situation", ICSE 2024): per eligible layer ℓ, a linear
/// map from features of the hidden state to three logits. Features: the hidden state divided by
/// its root mean square, then the exit head's top probability and top-1/top-2 margin.
/// `tools/train/train_controller.py` trains it and writes it (into a sidecar GGUF, or the model's) as
/// `split.exit_controller.<ℓ>.weight` [3, d + 2], `split.exit_controller.<ℓ>.bias` [3] and
/// `split.exit_controller.thresholds` [2] (exit, stop probabilities); models without them
/// fall back to the plain confidence threshold.
public struct ExitController: Sendable, Equatable {
    /// The classes, in the order of the weight's rows.
    public enum Outcome: Int, Sendable { case `continue` = 0, exit = 1, stop = 2 }
    /// One layer's classifier.
    public struct Head: Sendable, Equatable {
        /// [3 × (hiddenSize + 2)], row-major.
        public var weight: [Float]
        /// [3].
        public var bias: [Float]
    }
    public let hiddenSize: Int
    public var heads: [Int: Head]
    /// Probability of "exit" that answers on the edge.
    public var exitThreshold: Float
    /// Probability of "stop" that ends the completion.
    public var stopThreshold: Float

    /// Makes a controller.
    public init(hiddenSize: Int, heads: [Int: Head], exitThreshold: Float, stopThreshold: Float) {
        self.hiddenSize = hiddenSize
        self.heads = heads
        self.exitThreshold = exitThreshold
        self.stopThreshold = stopThreshold
    }

    static let prefix = "split.exit_controller."
    /// Sidecar metadata: SHA-256 (hex) of the model file the controller was trained on.
    static let modelDigestKey = "split.exit_controller.model_sha256"

    /// The controller stored in the model file, else in the sidecar `<model>.controller.gguf`
    /// next to it when the sidecar names this model file's SHA-256 (what `train_controller.py` writes by default, so the shipped model file and
    /// its pinned SHA stay as they are); nil when neither has one.
    /// - Throws: `ModelError` when controller tensors are there but malformed.
    public static func load(from file: ModelFile) throws -> ExitController? {
        let d = file.configuration.hiddenSize, layers = file.configuration.layerCount
        if let controller = try load(from: file.store, hiddenSize: d, layerCount: layers) { return controller }
        let sidecar = sidecarPath(forModel: file.path)
        guard FileManager.default.fileExists(atPath: sidecar) else { return nil }
        let store = try GGUFFile(path: sidecar)
        // A sidecar trained for another version of the model (re-exported since) is ignored:
        // its classifiers read hidden states that no longer exist.
        guard let trainedFor = store.string(modelDigestKey), trainedFor == (try file.identity()).hex else {
            return nil
        }
        return try load(from: store, hiddenSize: d, layerCount: layers)
    }

    /// Where the sidecar of a model file is: `x.gguf` → `x.controller.gguf`.
    public static func sidecarPath(forModel path: String) -> String {
        (path.hasSuffix(".gguf") ? String(path.dropLast(5)) : path) + ".controller.gguf"
    }

    /// The controller in `store`, or nil when it has no controller tensors.
    /// - Throws: `ModelError` naming a malformed tensor.
    static func load(from store: WeightStore, hiddenSize d: Int, layerCount: Int) throws -> ExitController? {
        let names = store.tensorNames.filter { $0.hasPrefix(prefix) }
        guard !names.isEmpty else { return nil }
        let loader = WeightLoader(store: store, transposeLinear: false)
        var heads: [Int: Head] = [:]
        for name in names where name.hasSuffix(".weight") {
            let middle = name.dropFirst(prefix.count).dropLast(".weight".count)
            guard let layer = Int(middle), (1...layerCount).contains(layer) else {
                throw ModelError.invalidConfiguration("exit controller tensor \(name) names no layer of the model")
            }
            heads[layer] = Head(weight: try loader.vector(name, count: 3 * (d + 2)).array,
                                bias: try loader.vector("\(prefix)\(layer).bias", count: 3).array)
        }
        let thresholds = try loader.vector("\(prefix)thresholds", count: 2).array
        guard thresholds.allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 1 }) else {
            throw ModelError.invalidConfiguration("exit controller thresholds \(thresholds) outside (0, 1]")
        }
        guard heads.values.allSatisfy({ ($0.weight + $0.bias).allSatisfy(\.isFinite) }) else {
            throw ModelError.invalidConfiguration("exit controller weights are not all finite")
        }
        return ExitController(hiddenSize: d, heads: heads, exitThreshold: thresholds[0], stopThreshold: thresholds[1])
    }

    /// Class probabilities (continue, exit, stop) at `layer`, or nil without a head for it.
    public func probabilities(layer: Int, hidden: UnsafeBufferPointer<Float>, logits: UnsafeBufferPointer<Float>) -> [Float]? {
        guard let head = heads[layer], hidden.count == hiddenSize else { return nil }
        var meanSquare: Float = 0
        for v in hidden { meanSquare += v * v }
        let scale = 1 / (meanSquare / Float(hiddenSize) + 1e-6).squareRoot()
        let confidence = ExitPolicy.confidence(logits)
        var scores = head.bias
        let width = hiddenSize + 2
        for c in 0..<3 {
            var sum: Float = 0
            let row = c * width
            for i in 0..<hiddenSize { sum += head.weight[row + i] * hidden[i] }
            scores[c] += sum * scale + head.weight[row + hiddenSize] * confidence.top
                + head.weight[row + hiddenSize + 1] * confidence.margin
        }
        let top = scores.max() ?? 0
        let e = scores.map { Foundation.exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    /// The decision at `layer`, or nil when there is no head for it. `exitThreshold` overrides
    /// the stored one (split-exit's τ).
    public func decide(layer: Int, hidden: UnsafeBufferPointer<Float>, logits: UnsafeBufferPointer<Float>,
                       exitThreshold: Float? = nil) -> ExitPolicy.Decision? {
        guard let p = probabilities(layer: layer, hidden: hidden, logits: logits) else { return nil }
        if p[Outcome.stop.rawValue] >= stopThreshold { return .stop }
        return p[Outcome.exit.rawValue] >= (exitThreshold ?? self.exitThreshold) ? .exit : .continue
    }
}
