import Foundation

/// Trains `ExitHeads` on an `ExitTrainingSet`, in Swift on the runtime's own kernels (an edge
/// device has no Python): per exit layer ℓ a low-rank adapter `h' = h + B·A·(h / rms(h))`
/// before the model's final norm and LM head, with loss `(1 − α)·CE(true token) + α·KL(teacher ‖ exit)`,
/// i.e. cross-entropy against the mixture of the one-hot true token and the full model's top-K
/// distribution. B starts at zero, so training starts from the plain shared head. Adam.
///
/// The LM head's gradient `∂L/∂u = gᵀ·W` runs as a multiply by Wᵀ, a transposed f16 copy of
/// the head made once (`vocabularySize × hiddenSize` halves: 512 MiB for Llama-3.2-1B's).
/// Then the stop/exit/continue controller is fitted on the adapted heads, labelled as
/// `tools/train/train_controller.py` labels it.
public final class ExitHeadTrainer {
    /// Training settings.
    public struct Options: Sendable {
        public var rank = 32
        /// Positions per step and layer.
        public var batchSize = 32
        public var learningRate: Float = 2e-3
        /// α: the teacher's weight against the true token.
        public var distillation: Float = 0.9
        /// Steps per layer at most.
        public var maxSteps = 800
        /// Wall-clock budget of the training loop (the controller's fit comes after).
        public var maxSeconds: Double = 600
        /// Share of positions held out to measure agreement (the last ones).
        public var validationFraction = 0.1
        public var seed: UInt64 = 1234
        /// Where the trainer saves its state every `checkpointSeconds`, and resumes from.
        public var checkpointPath: String?
        public var checkpointSeconds: Double = 30
        public var controllerExitThreshold: Float = 0.5
        public var controllerStopThreshold: Float = 0.9

        public init() {}
    }

    /// What training did, per layer, on the held-out positions.
    public struct LayerReport: Sendable, Codable {
        public var layer: Int
        /// Share of held-out positions whose exit's greedy token is the full model's, with the
        /// plain shared head and with the trained adapter.
        public var agreementBefore: Double
        public var agreementAfter: Double
        /// Mean loss on held-out positions, before and after.
        public var lossBefore: Double
        public var lossAfter: Double
    }

    /// The training outcome.
    public struct Report: Sendable, Codable {
        public var trainingPositions: Int
        public var validationPositions: Int
        public var steps: Int
        public var resumedFromStep: Int
        public var seconds: Double
        public var layers: [LayerReport]
    }

    private let model: TransformerModel
    private let set: ExitTrainingSet
    private let options: Options
    private let modelDigest: SHA256Digest
    private let workspace = Workspace()
    /// Wᵀ as [hiddenSize × vocabularySize] f16.
    private let transposedHead: WeightMatrix
    private let normWeight: [Float]
    private let normEpsilon: Float
    private let trainCount: Int

    /// Prepares training (makes the transposed head).
    /// - Throws: `ExitTrainingError` for a model whose final norm is not an RMSNorm, or options out of range.
    public init(model: TransformerModel, set: ExitTrainingSet, modelDigest: SHA256Digest, options: Options) throws {
        let c = model.configuration
        guard let finalNorm = model.finalNorm, let head = model.outputHead else {
            throw ExitTrainingError.unsupportedModel("the model part has no final norm and LM head")
        }
        guard finalNorm.kind == .rms else {
            throw ExitTrainingError.unsupportedModel("its final norm is a LayerNorm; train-exits trains through an RMSNorm only")
        }
        guard (1...c.hiddenSize).contains(options.rank), options.batchSize > 0, options.maxSteps >= 0,
              (0...1).contains(options.distillation), options.learningRate > 0 else {
            throw ExitTrainingError.invalidOption("rank 1…\(c.hiddenSize), batch > 0, steps ≥ 0, α in [0, 1], learning rate > 0")
        }
        let validation = max(1, Int(Double(set.count) * options.validationFraction))
        guard set.count - validation >= 1 else {
            throw ExitTrainingError.noText("\(set.count) positions leave none to train on after \(validation) held out")
        }
        self.model = model
        self.set = set
        self.options = options
        self.modelDigest = modelDigest
        trainCount = set.count - validation
        normWeight = finalNorm.weight.array
        normEpsilon = finalNorm.epsilon
        transposedHead = Self.transpose(head)
    }

    /// Wᵀ of `head` [V × d] as an f16 matrix [d × V], made row block by row block.
    private static func transpose(_ head: WeightMatrix) -> WeightMatrix {
        let v = head.rows, d = head.columns
        let storage = HalfBuffer(count: v * d)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { row.deallocate() }
        for token in 0..<v {
            head.copyRow(token, into: row)
            for i in 0..<d { storage.pointer[i * v + token] = Float16(row[i]).bitPattern }
        }
        return WeightMatrix(rows: d, columns: v, storage: .f16(UnsafePointer(storage.pointer)), owner: storage)
    }

    /// Adam's state for one layer's adapter.
    struct LayerState {
        var adapter: ExitHeads.Adapter
        var firstMoment: [Float]
        var secondMoment: [Float]
    }

    /// Trains every layer round-robin until `maxSteps` or `maxSeconds`, then fits the controller.
    /// `progress` gets the fraction done and a status line.
    /// - Throws: model errors, or checkpoint errors.
    public func train(progress: (Double, String) -> Void = { _, _ in }) throws -> (ExitHeads, Report) {
        let d = set.hiddenSize, r = options.rank
        var random = SplitMix64(state: options.seed)
        var states: [Int: LayerState] = [:]
        for layer in set.layers {
            // A ~ N(0, 1/d) (Box–Muller), B = 0: the adapter starts as the identity.
            let down = (0..<(r * d)).map { _ in Self.gaussian(&random) / Float(d).squareRoot() }
            let adapter = ExitHeads.Adapter(down: down, up: [Float](repeating: 0, count: d * r))
            states[layer] = LayerState(adapter: adapter, firstMoment: [Float](repeating: 0, count: 2 * r * d),
                                       secondMoment: [Float](repeating: 0, count: 2 * r * d))
        }
        let plain = Dictionary(uniqueKeysWithValues: states.map { ($0.key, $0.value.adapter) })
        var step = 0
        if let path = options.checkpointPath, FileManager.default.fileExists(atPath: path) {
            step = try ExitTrainingCheckpoint.load(path: path, modelDigest: modelDigest, rank: r, hiddenSize: d, into: &states)
        }
        let resumedFrom = step
        let before = set.layers.map { evaluate(layer: $0, adapter: plain[$0]!) }
        let start = DispatchTime.now()
        var lastCheckpoint = start
        var lastLoss: [Int: Float] = [:]
        func elapsed(since t: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e9 }
        while step < options.maxSteps, elapsed(since: start) < options.maxSeconds {
            var batchRandom = SplitMix64(state: options.seed &+ UInt64(step) &* 0x9E37_79B9)
            let batch = (0..<min(options.batchSize, trainCount)).map { _ in Int(batchRandom.next() % UInt64(trainCount)) }
            for layer in set.layers {
                lastLoss[layer] = try self.step(layer: layer, positions: batch, state: &states[layer]!, time: step + 1)
            }
            step += 1
            let losses = set.layers.map { String(format: "%.2f", lastLoss[$0] ?? 0) }.joined(separator: " ")
            let fraction = max(Double(step) / Double(max(1, options.maxSteps)), elapsed(since: start) / options.maxSeconds)
            progress(fraction, "step \(step)/\(options.maxSteps) loss \(losses)")
            if let path = options.checkpointPath, elapsed(since: lastCheckpoint) >= options.checkpointSeconds {
                try ExitTrainingCheckpoint.save(path: path, modelDigest: modelDigest, rank: r, hiddenSize: d, step: step, states: states)
                lastCheckpoint = DispatchTime.now()
            }
        }
        if let path = options.checkpointPath {
            try ExitTrainingCheckpoint.save(path: path, modelDigest: modelDigest, rank: r, hiddenSize: d, step: step, states: states)
        }
        let adapters = states.mapValues(\.adapter)
        let after = set.layers.map { evaluate(layer: $0, adapter: adapters[$0]!) }
        var heads = ExitHeads(hiddenSize: d, rank: r, adapters: adapters)
        heads.controller = try ExitControllerFit(set: set, heads: heads, model: model, trainCount: trainCount,
                                                 exitThreshold: options.controllerExitThreshold,
                                                 stopThreshold: options.controllerStopThreshold).fit()
        let layers = set.layers.indices.map { i in
            LayerReport(layer: set.layers[i], agreementBefore: before[i].agreement, agreementAfter: after[i].agreement,
                        lossBefore: before[i].loss, lossAfter: after[i].loss)
        }
        let report = Report(trainingPositions: trainCount, validationPositions: set.count - trainCount, steps: step,
                            resumedFromStep: resumedFrom, seconds: elapsed(since: start), layers: layers)
        return (heads, report)
    }

    /// A standard normal draw (Box–Muller).
    private static func gaussian(_ random: inout SplitMix64) -> Float {
        let u1 = (Float(random.next() >> 40) + 1) / Float(1 << 24), u2 = Float(random.next() >> 40) / Float(1 << 24)
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Float.pi * u2)
    }

    /// One Adam step of `layer`'s adapter on `positions`; returns the batch's mean loss.
    private func step(layer: Int, positions: [Int], state: inout LayerState, time: Int) throws -> Float {
        let d = set.hiddenSize, r = options.rank, v = model.configuration.vocabularySize, n = positions.count
        let states = set.states[layer]!
        var low = [Float](repeating: 0, count: n * r)
        var scales = [Float](repeating: 0, count: n)
        var adapted = [Float](repeating: 0, count: n * d)
        for (b, p) in positions.enumerated() {
            forwardAdapter(states, position: p, adapter: state.adapter, low: &low, lowOffset: b * r, scale: &scales[b],
                           into: &adapted, offset: b * d)
        }
        var gradient = try model.logits(adapted, rows: n, workspace: workspace)  // becomes ∂L/∂z in place
        var loss: Float = 0
        for b in 0..<n {
            loss += lossGradient(&gradient, row: b, position: positions[b], vocabularySize: v, scale: 1 / Float(n))
        }
        // ∂L/∂u = ∂L/∂z · W, through the transposed head's kernel.
        var normGradient = [Float](repeating: 0, count: n * d)
        gradient.withUnsafeBufferPointer { g in
            normGradient.withUnsafeMutableBufferPointer { transposedHead.multiply(g.baseAddress!, count: n, into: $0.baseAddress!) }
        }
        var gradA = [Float](repeating: 0, count: r * d), gradB = [Float](repeating: 0, count: d * r)
        var dx = [Float](repeating: 0, count: d)
        for b in 0..<n {
            rmsNormBackward(adapted, offset: b * d, outputGradient: normGradient, into: &dx)
            let h = positions[b] * d
            for i in 0..<d {
                let g = dx[i]
                guard g != 0 else { continue }
                for j in 0..<r { gradB[i * r + j] += g * low[b * r + j] }
            }
            for j in 0..<r {
                var gLow: Float = 0
                for i in 0..<d { gLow += state.adapter.up[i * r + j] * dx[i] }
                let g = gLow * scales[b]
                for i in 0..<d { gradA[j * d + i] += g * states[h + i] }
            }
        }
        adam(&state, gradients: gradA + gradB, time: time)
        return loss / Float(n)
    }

    /// `h + B·A·(h / rms(h))` for one stored position; keeps `A·h/rms(h)` and `1/rms(h)` for the backward pass.
    private func forwardAdapter(_ states: [Float], position p: Int, adapter: ExitHeads.Adapter, low: inout [Float], lowOffset: Int,
                                scale: inout Float, into out: inout [Float], offset: Int) {
        let d = set.hiddenSize, r = options.rank, h = p * d
        var meanSquare: Float = 0
        for i in 0..<d { meanSquare += states[h + i] * states[h + i] }
        scale = 1 / (meanSquare / Float(d) + ExitHeads.epsilon).squareRoot()
        for j in 0..<r {
            var sum: Float = 0
            for i in 0..<d { sum += adapter.down[j * d + i] * states[h + i] }
            low[lowOffset + j] = sum * scale
        }
        for i in 0..<d {
            var sum: Float = 0
            for j in 0..<r { sum += adapter.up[i * r + j] * low[lowOffset + j] }
            out[offset + i] = states[h + i] + sum
        }
    }

    /// Turns row `row` of `logits` into `scale · ∂L/∂z` (softmax minus the target mixture, through
    /// the logit soft-cap when the model has one); returns the row's loss.
    private func lossGradient(_ logits: inout [Float], row: Int, position: Int, vocabularySize v: Int, scale: Float) -> Float {
        let alpha = options.distillation, k = set.topK
        return logits.withUnsafeMutableBufferPointer { all -> Float in
            let z = UnsafeMutableBufferPointer(rebasing: all[(row * v)..<((row + 1) * v)])
            let capped = z.map { $0 }  // the soft-capped logits, for the cap's derivative
            let logSumExp = Sampler.logSumExp(UnsafeBufferPointer(z))
            for i in 0..<v { z[i] = Foundation.exp(z[i] - logSumExp) }
            let truth = Int(set.nextTokens[position])
            var loss = -(1 - alpha) * Foundation.log(max(z[truth], 1e-30))
            for t in 0..<k {
                let token = Int(set.teacherTokens[position * k + t])
                loss -= alpha * set.teacherProbabilities[position * k + t] * Foundation.log(max(z[token], 1e-30))
            }
            z[truth] -= 1 - alpha
            for t in 0..<k { z[Int(set.teacherTokens[position * k + t])] -= alpha * set.teacherProbabilities[position * k + t] }
            let cap = model.configuration.finalLogitSoftcap
            for i in 0..<v {
                var g = z[i] * scale
                if let cap { g *= 1 - (capped[i] / cap) * (capped[i] / cap) }
                z[i] = g
            }
            return loss
        }
    }

    /// ∂L/∂x of `u = w ⊙ x / rms(x)` for row `offset` of `adapted`, from ∂L/∂u.
    private func rmsNormBackward(_ adapted: [Float], offset: Int, outputGradient: [Float], into dx: inout [Float]) {
        let d = set.hiddenSize
        var meanSquare: Float = 0, dot: Float = 0
        for i in 0..<d {
            let x = adapted[offset + i]
            meanSquare += x * x
            dot += x * normWeight[i] * outputGradient[offset + i]
        }
        let s = 1 / (meanSquare / Float(d) + normEpsilon).squareRoot()
        let correction = s * s * s / Float(d) * dot
        for i in 0..<d { dx[i] = s * normWeight[i] * outputGradient[offset + i] - correction * adapted[offset + i] }
    }

    /// Adam (β 0.9, 0.999) on A then B.
    private func adam(_ state: inout LayerState, gradients: [Float], time: Int) {
        let beta1: Float = 0.9, beta2: Float = 0.999, lr = options.learningRate
        let c1 = 1 - Foundation.pow(beta1, Float(time)), c2 = 1 - Foundation.pow(beta2, Float(time))
        let half = state.adapter.down.count
        for i in 0..<gradients.count {
            let g = gradients[i]
            state.firstMoment[i] = beta1 * state.firstMoment[i] + (1 - beta1) * g
            state.secondMoment[i] = beta2 * state.secondMoment[i] + (1 - beta2) * g * g
            let update = lr * (state.firstMoment[i] / c1) / ((state.secondMoment[i] / c2).squareRoot() + 1e-8)
            if i < half { state.adapter.down[i] -= update } else { state.adapter.up[i - half] -= update }
        }
    }

    /// Agreement with the full model's greedy token and mean loss on the held-out positions.
    private func evaluate(layer: Int, adapter: ExitHeads.Adapter) -> (agreement: Double, loss: Double) {
        let d = set.hiddenSize, r = options.rank, v = model.configuration.vocabularySize
        let states = set.states[layer]!
        var agree = 0, loss = 0.0
        var low = [Float](repeating: 0, count: r), scale: Float = 0, row = [Float](repeating: 0, count: d)
        for p in trainCount..<set.count {
            forwardAdapter(states, position: p, adapter: adapter, low: &low, lowOffset: 0, scale: &scale, into: &row, offset: 0)
            guard var logits = try? model.logits(row, rows: 1, workspace: workspace) else { continue }
            if logits.withUnsafeBufferPointer({ Int32(Sampler.argmax($0)) }) == set.teacherToken(p) { agree += 1 }
            loss += Double(lossGradient(&logits, row: 0, position: p, vocabularySize: v, scale: 1))
        }
        let held = Double(set.count - trainCount)
        return (Double(agree) / held, loss / held)
    }
}

/// f16 storage with a stable address (the transposed head).
final class HalfBuffer: @unchecked Sendable {
    // Safe to send: written once before the matrix that owns it is used, read-only after.
    let pointer: UnsafeMutablePointer<UInt16>

    init(count: Int) {
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
