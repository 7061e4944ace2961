import Foundation

/// The batched forward pass over the admitted sessions' jobs, and the replies it makes.
extension CloudSessionStore {
    /// Runs the next rows of each job through the cloud's layers in one batched pass per split
    /// layer (sessions of edges splitting at the same layer share every matrix multiply). The
    /// pass holds about `maxRows` rows (`passRows`), so long prefills advance in chunks while
    /// other sessions' decode steps keep going.
    public func runChunk(_ jobs: [ForwardJob], maxRows: Int) {
        let c = model.configuration
        let d = c.hiddenSize
        let pending = jobs.filter { !$0.isComputed }
        let allotted = Self.passRows(remaining: pending.map { $0.rowCount - $0.computedRows }, maxRows: maxRows)
        for splitLayer in Set(pending.map(\.splitLayer)).sorted() {
            let members = pending.indices.filter { pending[$0].splitLayer == splitLayer && allotted[$0] > 0 }
            guard !members.isEmpty else { continue }
            let group = members.map { pending[$0] }
            let counts = members.map { allotted[$0] }
            var segments: [BatchSegment] = []
            var hidden: [Float] = []
            hidden.reserveCapacity(counts.reduce(0, +) * d)
            for (job, count) in zip(group, counts) {
                segments.append(BatchSegment(rows: count, startPosition: job.start + job.computedRows, cache: job.session.cache))
                hidden += job.hidden[(job.computedRows * d)..<((job.computedRows + count) * d)]
            }
            do {
                try model.forward(&hidden, segments: segments, layers: splitLayer..<c.layerCount, workspace: workspace)
            } catch {
                // A batch fails as a whole only for a reason one of its jobs caused; rerun them
                // one by one so that the others still get their rows.
                if group.count > 1 {
                    for job in group { runChunk([job], maxRows: maxRows) }
                } else if let job = group.first {
                    job.failure = .error(.init(code: .internal, sessionID: job.request.sessionID,
                                               requestID: job.request.requestID, message: String(describing: error)))
                }
                continue
            }
            var offset = 0
            for (job, count) in zip(group, counts) {
                job.hidden.replaceSubrange((job.computedRows * d)..<((job.computedRows + count) * d),
                                           with: hidden[(offset * d)..<((offset + count) * d)])
                job.advance(by: count)
                job.session.length = job.start + job.computedRows
                forwardedPositions += count
                offset += count
            }
        }
    }

    /// Rows each job runs in the next pass, for jobs with `remaining` rows left (in arrival
    /// order). A job with at most a quarter of `maxRows` left (a decode step, a verify batch,
    /// the end of a prompt) runs them all, however many such jobs there are. Longer ones (prompts)
    /// fill what is left of `maxRows` rows, fewest rows left first, each at most `maxRows`; and
    /// the oldest one left out still gets a quarter of `maxRows`, so a prompt advances even
    /// behind 64 decoding sessions. Without this budget, 16 prompts arriving together were one
    /// pass of 16 × 64 rows that every decode step in it waited for.
    static func passRows(remaining: [Int], maxRows: Int) -> [Int] {
        let quarter = max(1, maxRows / 4)
        var rows = remaining.map { $0 <= quarter ? $0 : 0 }
        var left = maxRows - rows.reduce(0, +)
        for index in remaining.indices.sorted(by: { (remaining[$0], $0) < (remaining[$1], $1) }) where rows[index] == 0 {
            rows[index] = min(remaining[index], maxRows, max(left, 0))
            left -= rows[index]
        }
        if let starved = remaining.indices.first(where: { rows[$0] == 0 && remaining[$0] > 0 }) {
            rows[starved] = min(remaining[starved], quarter)
        }
        return rows
    }

    /// Answers computed jobs: the final norm and head over every job's output rows in one
    /// pass, then each row's token (sampled with the edge's draw) and top-k.
    public func finish(_ jobs: [ForwardJob]) -> [WireMessage] {
        let c = model.configuration
        let d = c.hiddenSize
        var answers = [WireMessage?](repeating: nil, count: jobs.count)
        var outputRows: [Float] = []
        var rowCounts: [Int] = []
        for (index, job) in jobs.enumerated() {
            job.session.busy = false
            job.session.reservedBytes = 0
            if let failure = job.failure {
                answers[index] = failure
                rowCounts.append(0)
                continue
            }
            let firstRow = job.request.flags.contains(.allRows) ? 0 : job.rowCount - 1
            outputRows += job.hidden[(firstRow * d)...]
            rowCounts.append(job.rowCount - firstRow)
        }
        if c.isPolicy {
            // A robot policy answers with its action chunk, read from each job's last position.
            for (index, job) in jobs.enumerated() where answers[index] == nil {
                let request = job.request
                do {
                    let values = try model.actions(job.hidden, rows: job.rowCount, workspace: workspace)
                    answers[index] = .actions(.init(sessionID: request.sessionID, requestID: request.requestID,
                                                    horizon: UInt32(c.actionHorizon), dimensions: UInt32(c.actionDimensions),
                                                    values: values))
                } catch {
                    answers[index] = .error(.init(code: .internal, sessionID: request.sessionID, requestID: request.requestID,
                                                  message: String(describing: error)))
                }
            }
            for job in jobs { enforceBudget(keeping: job.key) }
            return answers.map { $0! }
        }
        // The head runs over at most `headRows` rows at a time into one reused buffer: a pass's
        // logits (16 rows: 3 MB) were a fresh mapping, faulted in and unmapped, every pass.
        let owners = rowCounts.enumerated().flatMap { index, count in [Int](repeating: index, count: count) }
        var rows = [[WireMessage.ResultRow]](repeating: [], count: jobs.count)
        let vocabulary = c.vocabularySize
        if logitsBuffer.count < min(owners.count, Self.headRows) * vocabulary {
            logitsBuffer = [Float](repeating: 0, count: min(owners.count, Self.headRows) * vocabulary)
        }
        var first = 0
        while first < owners.count {
            let count = min(Self.headRows, owners.count - first)
            do {
                try outputRows.withUnsafeBufferPointer { input in
                    try logitsBuffer.withUnsafeMutableBufferPointer { output in
                        try model.logits(input.baseAddress! + first * d, rows: count, into: output.baseAddress!, workspace: workspace)
                    }
                }
            } catch {
                return jobs.map { job in
                    .error(.init(code: .internal, sessionID: job.request.sessionID, requestID: job.request.requestID,
                                 message: String(describing: error)))
                }
            }
            // Each row's token, top-k and distribution read only that row's logits: the rows run
            // on the worker pool (16 rows' log-sum-exp and argmax over 49,152 logits were ≈ 0.5 ms
            // of a pass on the compute thread alone).
            var picked = [WireMessage.ResultRow?](repeating: nil, count: count)
            logitsBuffer.withUnsafeBufferPointer { all in
                picked.withUnsafeMutableBufferPointer { picked in
                    Parallel.forEach(count) { row in
                        let request = jobs[owners[first + row]].request
                        let parameters = SamplingParameters(
                            temperature: request.sampling.temperature, topK: Int(request.sampling.topK),
                            topP: request.sampling.topP)
                        let slice = UnsafeBufferPointer(rebasing: all[(row * vocabulary)..<((row + 1) * vocabulary)])
                        let token = Sampler.pick(slice, parameters: parameters, uniform: request.sampling.uniform)
                        picked[row] = .init(
                            token: .init(tokenID: UInt32(token.token), logprob: token.logProbability),
                            topK: Self.topK(slice, count: Int(request.topK)),
                            probabilities: request.flags.contains(.distributions)
                                ? SpeculativeAcceptance.distribution(slice, parameters: parameters) : nil)
                    }
                }
            }
            for row in 0..<count { rows[owners[first + row]].append(picked[row]!) }
            first += count
        }
        for (index, job) in jobs.enumerated() where answers[index] == nil {
            let request = job.request
            answers[index] = .result(.init(sessionID: request.sessionID, requestID: request.requestID,
                                           startPosition: UInt32(job.start + job.rowCount - rowCounts[index]), rows: rows[index]))
        }
        for job in jobs { enforceBudget(keeping: job.key) }
        return answers.map { $0! }
    }

    /// The `count` most likely tokens with their log-probabilities.
    static func topK(_ logits: UnsafeBufferPointer<Float>, count: Int) -> [WireMessage.TokenLogprob] {
        guard count > 0 else { return [] }
        let logSumExp = Sampler.logSumExp(logits)
        var best: [(Int, Float)] = []
        for (i, v) in logits.enumerated() where best.count < count || v > best[best.count - 1].1 {
            let index = best.firstIndex { v > $0.1 } ?? best.count
            best.insert((i, v), at: index)
            if best.count > count { best.removeLast() }
        }
        return best.map { .init(tokenID: UInt32($0.0), logprob: $0.1 - logSumExp) }
    }
}
