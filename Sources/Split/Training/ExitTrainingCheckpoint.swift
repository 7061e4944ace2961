import Foundation

/// `train-exits`' resumable state: every layer's adapter and Adam moments and the step reached,
/// in a GGUF pinned to the model's SHA-256 and the adapter rank. The training set is collected
/// again on resume (it is deterministic: same files, same order).
enum ExitTrainingCheckpoint {
    static let stepKey = "split.exit_training.step"

    /// Writes the state atomically (a temporary file renamed over the old one).
    /// - Throws: file errors.
    static func save(path: String, modelDigest: SHA256Digest, rank: Int, hiddenSize d: Int, step: Int,
                     states: [Int: ExitHeadTrainer.LayerState]) throws {
        var writer = GGUFWriter()
        writer.setMetadata(ExitHeads.modelDigestKey, .string(modelDigest.hex))
        writer.setMetadata(ExitHeads.rankKey, .uint32(UInt32(rank)))
        writer.setMetadata(stepKey, .uint64(UInt64(step)))
        for layer in states.keys.sorted() {
            let state = states[layer]!
            try writer.addTensor(name: "\(layer).down", shape: [rank, d], values: state.adapter.down)
            try writer.addTensor(name: "\(layer).up", shape: [d, rank], values: state.adapter.up)
            try writer.addTensor(name: "\(layer).m", shape: [2 * rank * d], values: state.firstMoment)
            try writer.addTensor(name: "\(layer).v", shape: [2 * rank * d], values: state.secondMoment)
        }
        let temporary = path + ".tmp"
        try writer.write(to: temporary)
        guard rename(temporary, path) == 0 else {
            throw ExitTrainingError.checkpoint("cannot move \(temporary) to \(path) (errno \(errno))")
        }
    }

    /// Loads the state saved for the same model, rank and layers into `states`; returns its step.
    /// - Throws: `ExitTrainingError.checkpoint` when it was saved for another model, rank or set of layers.
    static func load(path: String, modelDigest: SHA256Digest, rank: Int, hiddenSize d: Int,
                     into states: inout [Int: ExitHeadTrainer.LayerState]) throws -> Int {
        let store = try GGUFFile(path: path)
        guard store.string(ExitHeads.modelDigestKey) == modelDigest.hex else {
            throw ExitTrainingError.checkpoint("\(path) was saved for the model with SHA-256 \(store.string(ExitHeads.modelDigestKey) ?? "?"), "
                                               + "not this one (\(modelDigest.hex)); delete it to start over")
        }
        guard store.int(ExitHeads.rankKey) == rank, let step = store.int(stepKey), step >= 0 else {
            throw ExitTrainingError.checkpoint("\(path) was saved with rank \(store.int(ExitHeads.rankKey) ?? 0), not \(rank); delete it or pass that rank")
        }
        let saved = Set(store.tensorNames.compactMap { $0.hasSuffix(".down") ? Int($0.dropLast(5)) : nil })
        guard saved == Set(states.keys) else {
            throw ExitTrainingError.checkpoint("\(path) holds layers \(saved.sorted()), not \(states.keys.sorted()); delete it or pass those layers")
        }
        let loader = WeightLoader(store: store, transposeLinear: false)
        for layer in saved {
            states[layer] = ExitHeadTrainer.LayerState(
                adapter: ExitHeads.Adapter(down: try loader.vector("\(layer).down", count: rank * d).array,
                                           up: try loader.vector("\(layer).up", count: d * rank).array),
                firstMoment: try loader.vector("\(layer).m", count: 2 * rank * d).array,
                secondMoment: try loader.vector("\(layer).v", count: 2 * rank * d).array)
        }
        return step
    }
}
