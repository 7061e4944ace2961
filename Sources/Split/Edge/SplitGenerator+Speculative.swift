import Foundation

/// split-spec(k, γ): the edge drafts γ tokens with its exit head at layer k, sends the γ + 1
/// layer-k hidden states (the last confirmed token and the drafts) in one step with `allRows`,
/// and the cloud runs layers [k, L) over all of them in one batch. The edge keeps the longest
/// prefix of drafts the cloud agrees with plus the cloud's own next token, so greedy output is
/// the full model's token for token. Rollback costs no message: both caches drop the rejected
/// positions, the edge at once, the cloud when the next step starts at the first of them
/// (a step's `startPosition` truncates the cloud's cache), so a rejected draft's keys and
/// values are never attended to.
extension SplitGenerator {
    /// Runs split-spec after `first` (a confirmed token not yet through the edge layers), or,
    /// with nil, from the prompt's last position, whose layer-k state is stored but which the
    /// cloud has not seen: the prompt's positions from `cloudFrom` on (those a reused cloud
    /// session lacks) then go out with the first drafts in one request.
    func speculate(after first: Int32?, promptLength: Int, cloudFrom promptCloudFrom: Int = 0, draftLength: Int,
                   adaptive: Bool, session: Session,
                   sampler: inout Sampler, output: inout GenerationOutput, allowDegraded: Bool, degraded: inout Bool,
                   onText: (GeneratedText) -> Void) throws {
        let parameters = sampler.parameters
        let draftOrigin = TokenProvenance(side: .draft, layer: splitLayer)
        var next = first
        var draftBound = draftLength
        var cloudFrom: Int? = first == nil ? promptCloudFrom : nil  // the prompt is not on the cloud yet
        while true {
            let position = promptLength + output.tokens.count - 1
            if let next { try runEdgeLayers([next], at: position, session: session) }
            if degraded {
                let token = try nextToken(session: session, from: position, sampler: &sampler, allowDegraded: allowDegraded,
                                          degraded: &degraded)
                guard output.accept(token, from: origin(true), onText: onText) else { return }
                next = token
                continue
            }
            // Drafting past the budget would be thrown away: the last emitted token is the cloud's.
            let draftCount = max(0, min(draftBound, output.remaining - 1))
            var drafts: [Int32] = []
            var draftProbabilities: [[Float]] = []
            var uniforms: [Float] = []
            while drafts.count < draftCount {
                let logits = try lastRowExitLogits(session)
                let token: Int32
                if parameters.isGreedy {
                    token = logits.withUnsafeBufferPointer { Int32(Sampler.argmax($0)) }
                } else {
                    let q = SpeculativeAcceptance.distribution(logits, parameters: parameters)
                    token = SpeculativeAcceptance.draw(q, uniform: sampler.nextUniform())
                    draftProbabilities.append(q)
                }
                drafts.append(token)
                try runEdgeLayers([token], at: position + drafts.count, session: session)
                if token == tokenizer.eosTokenID { break }
            }
            if !parameters.isGreedy { uniforms = (0...drafts.count).map { _ in sampler.nextUniform() } }
            let sampling = WireMessage.Sampling(temperature: parameters.temperature, topK: UInt32(max(0, parameters.topK)),
                                                topP: parameters.topP, uniform: 0)
            guard let rows = try cloudRows(session: session, from: cloudFrom ?? position, rowsFrom: position,
                                           withDistributions: !parameters.isGreedy, sampling: sampling,
                                           allowDegraded: allowDegraded, degraded: &degraded) else {
                // No cloud any more: drop the drafts and go on at the edge alone.
                truncateEdge(session, to: position + 1)
                let token = try edgeOnlyToken(session: session, parameters: parameters, uniform: sampler.nextUniform())
                guard output.accept(token, from: origin(true), onText: onText) else { return }
                next = token
                continue
            }
            guard rows.count == drafts.count + 1 else {
                throw CompletionError.cloudUnavailable("cloud verified \(rows.count) rows of \(drafts.count + 1)")
            }
            let verdict: SpeculativeAcceptance.Verdict
            if parameters.isGreedy {
                verdict = try SpeculativeAcceptance.greedy(drafts: drafts, targets: rows.map { try checkedToken($0.token.tokenID) })
            } else {
                verdict = try SpeculativeAcceptance.sampled(
                    drafts: drafts, draftProbabilities: draftProbabilities,
                    targetProbabilities: rows.map { try targetDistribution($0) }, uniforms: uniforms)
            }
            cloudFrom = nil
            session.counts.drafted += drafts.count
            session.counts.acceptedDrafts += verdict.accepted
            truncateEdge(session, to: position + verdict.accepted + 1)
            for token in drafts[..<verdict.accepted] {
                guard output.accept(token, from: draftOrigin, onText: onText) else { return }
            }
            next = verdict.next
            guard output.accept(verdict.next, from: origin(false), onText: onText) else { return }
            if adaptive {
                draftBound = SpeculativeAcceptance.adaptedDraftLength(draftBound, drafted: drafts.count,
                                                                      accepted: verdict.accepted, configured: draftLength)
            }
        }
    }

    /// The cloud's sampling distribution of one verified row, checked against the vocabulary.
    private func targetDistribution(_ row: WireMessage.ResultRow) throws -> [Float] {
        guard let probabilities = row.probabilities, probabilities.count == model.configuration.vocabularySize else {
            throw CompletionError.cloudUnavailable("cloud sent no distribution for a verified row")
        }
        return probabilities
    }
}
