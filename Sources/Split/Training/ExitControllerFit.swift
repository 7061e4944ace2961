import Foundation

/// Fits split-exit's stop/exit/continue controller (`ExitController`) on trained exit heads:
/// per exit layer a softmax regression on the features `ExitController` reads (the state over
/// its RMS, the adapted exit's top probability and top-1/top-2 margin), labelled as
/// `tools/train/train_controller.py` labels: the first exit layer whose head predicts the true
/// next token marks "exit" from there on and "continue" below; where neither an exit nor the
/// full model predicts it, every layer is "stop".
struct ExitControllerFit {
    let set: ExitTrainingSet
    let heads: ExitHeads
    let model: TransformerModel
    let trainCount: Int
    let exitThreshold: Float
    let stopThreshold: Float
    /// Positions the controller learns from (each costs one head multiply per layer).
    var maxPositions = 2048
    var steps = 300
    var learningRate: Float = 0.05

    /// The fitted controller.
    /// - Throws: model errors.
    func fit() throws -> ExitController {
        let d = set.hiddenSize, width = d + 2, v = model.configuration.vocabularySize
        let count = min(trainCount, maxPositions)
        let workspace = Workspace()
        var features: [Int: [Float]] = [:]
        var predictsTruth: [Int: [Bool]] = [:]
        for layer in set.layers {
            let states = set.states[layer]!
            var rows = [Float](repeating: 0, count: count * width)
            var hits = [Bool](repeating: false, count: count)
            // In chunks: a chunk's logits are `chunk × vocabularySize` floats (Llama-3.2-1B: 64 MiB).
            let chunk = 128
            for first in stride(from: 0, to: count, by: chunk) {
                let n = min(chunk, count - first)
                let slice = Array(states[(first * d)..<((first + n) * d)])
                let logits = try model.logits(heads.adapted(slice, rows: n, layer: layer), rows: n, workspace: workspace)
                logits.withUnsafeBufferPointer { all in
                    for row in 0..<n {
                        let p = first + row
                        let z = UnsafeBufferPointer(rebasing: all[(row * v)..<((row + 1) * v)])
                        var meanSquare: Float = 0
                        for i in 0..<d { meanSquare += states[p * d + i] * states[p * d + i] }
                        let scale = 1 / (meanSquare / Float(d) + 1e-6).squareRoot()
                        for i in 0..<d { rows[p * width + i] = states[p * d + i] * scale }
                        let confidence = ExitPolicy.confidence(z)
                        rows[p * width + d] = confidence.top
                        rows[p * width + d + 1] = confidence.margin
                        hits[p] = Int32(Sampler.argmax(z)) == set.nextTokens[p]
                    }
                }
            }
            features[layer] = rows
            predictsTruth[layer] = hits
        }
        var labels: [Int: [Int]] = Dictionary(uniqueKeysWithValues: set.layers.map { ($0, [Int](repeating: 0, count: count)) })
        for p in 0..<count {
            let firstHit = set.layers.first { predictsTruth[$0]![p] }
            let fullHit = set.teacherToken(p) == set.nextTokens[p]
            for layer in set.layers {
                let outcome: ExitController.Outcome
                if let firstHit { outcome = layer >= firstHit ? .exit : .continue } else { outcome = fullHit ? .continue : .stop }
                labels[layer]![p] = outcome.rawValue
            }
        }
        var controllerHeads: [Int: ExitController.Head] = [:]
        for layer in set.layers {
            controllerHeads[layer] = regression(features: features[layer]!, labels: labels[layer]!, width: width)
        }
        return ExitController(hiddenSize: d, heads: controllerHeads, exitThreshold: exitThreshold, stopThreshold: stopThreshold)
    }

    /// Full-batch softmax regression with Adam.
    private func regression(features x: [Float], labels y: [Int], width: Int) -> ExitController.Head {
        let n = y.count, parameters = 3 * width + 3
        var theta = [Float](repeating: 0, count: parameters)
        var m = theta, s = theta
        for t in 1...steps {
            var gradient = [Float](repeating: 0, count: parameters)
            for p in 0..<n {
                var scores = [Float](repeating: 0, count: 3)
                for c in 0..<3 {
                    var sum = theta[3 * width + c]
                    for i in 0..<width { sum += theta[c * width + i] * x[p * width + i] }
                    scores[c] = sum
                }
                let top = scores.max()!
                let e = scores.map { Foundation.exp($0 - top) }
                let total = e.reduce(0, +)
                for c in 0..<3 {
                    let g = (e[c] / total - (y[p] == c ? 1 : 0)) / Float(n)
                    for i in 0..<width { gradient[c * width + i] += g * x[p * width + i] }
                    gradient[3 * width + c] += g
                }
            }
            let c1 = 1 - Foundation.pow(Float(0.9), Float(t)), c2 = 1 - Foundation.pow(Float(0.999), Float(t))
            for i in 0..<parameters {
                m[i] = 0.9 * m[i] + 0.1 * gradient[i]
                s[i] = 0.999 * s[i] + 0.001 * gradient[i] * gradient[i]
                theta[i] -= learningRate * (m[i] / c1) / ((s[i] / c2).squareRoot() + 1e-8)
            }
        }
        return ExitController.Head(weight: Array(theta[0..<(3 * width)]), bias: Array(theta[(3 * width)...]))
    }
}
