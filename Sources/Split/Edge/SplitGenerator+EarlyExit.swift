import Foundation

/// split-exit(k, τ): a token whose exit head is confident at an eligible layer ℓ ≤ k is answered
/// on the edge without a round trip. Nothing is approximated: the positions answered early are
/// carried forward and computed for real later. Their missing edge layers [ℓ, k) run in the
/// same batch as the next token once it reaches layer ℓ (a later position may not pass a layer
/// an earlier one has not filled), and their layer-k states go to the cloud together with the
/// next position that needs it, so the cloud's caches for [k, L) only ever hold true states.
extension SplitGenerator {
    func exitEarly(after first: Int32, promptLength: Int, policy: ExitPolicy, session: Session, sampler: inout Sampler,
                   output: inout GenerationOutput, allowDegraded: Bool, degraded: inout Bool,
                   onText: (GeneratedText) -> Void) throws {
        let d = model.configuration.hiddenSize
        let k = splitLayer
        let eligible = max(1, min(policy.minLayer, k))...max(1, k)
        // Positions after the stored layer-k states, in order, each with its hidden state and the
        // layers it has passed; those are never increasing along the positions.
        var lagging: [(row: [Float], layer: Int)] = []
        var cloudLength = promptLength
        var next = first
        while true {
            let position = promptLength + output.tokens.count - 1
            var active = try model.embed([next], startPosition: position)
            var activeStart = position
            var exit: (layer: Int, token: Int32)?
            for layer in 0..<k {
                while let last = lagging.last, last.layer == layer {
                    active = last.row + active
                    activeStart -= 1
                    lagging.removeLast()
                }
                try model.forward(&active, rows: position - activeStart + 1, startPosition: activeStart,
                                  layers: layer..<(layer + 1), cache: session.cache, workspace: workspace)
                guard eligible.contains(layer + 1), !degraded else { continue }
                let row = Array(active[(active.count - d)...])
                let logits = try exitLogits(row, layer: layer + 1)
                let decision = row.withUnsafeBufferPointer { hidden in
                    logits.withUnsafeBufferPointer { policy.decide(layer: layer + 1, hidden: hidden, logits: $0) }
                }
                if decision == .stop {
                    output.finish = .controllerStop
                    return
                }
                if decision == .exit {
                    let uniform = sampler.parameters.isGreedy ? 0 : sampler.nextUniform()
                    let token = logits.withUnsafeBufferPointer { Sampler.pick($0, parameters: sampler.parameters, uniform: uniform) }.token
                    exit = (layer + 1, token)
                    break
                }
            }
            if let exit {
                if exit.layer == k {
                    session.hidden += active
                } else {
                    let rows = position - activeStart + 1
                    for r in 0..<rows { lagging.append((Array(active[(r * d)..<((r + 1) * d)]), exit.layer)) }
                }
                guard output.accept(exit.token, from: TokenProvenance(side: .edge, layer: exit.layer), onText: onText) else { return }
                next = exit.token
                continue
            }
            // Through every edge layer: everything that lagged has joined this batch.
            session.hidden += active
            next = try nextToken(session: session, from: cloudLength, sampler: &sampler, allowDegraded: allowDegraded,
                                 degraded: &degraded)
            cloudLength = session.hidden.count / d
            guard output.accept(next, from: origin(degraded), onText: onText) else { return }
        }
    }
}
