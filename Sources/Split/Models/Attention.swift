import CSplitKernels

/// Causal grouped-query attention of new rows against a layer's cached keys and values.
enum Attention {
    /// What differs between layers' attention: the score scale, the sliding window (0: none)
    /// and the soft-cap on scores (0: none).
    struct Options {
        var scale: Float
        var window: Int
        var softcap: Float
    }

    /// `output[rows × queryWidth]` for query rows at positions `start ..< start + rows`, attending
    /// to cached positions `0 ... start + i` (keys/values already hold the new rows). Heads run in
    /// parallel on the worker pool (`split_attention`), without allocating.
    static func compute(
        query: UnsafeMutablePointer<Float>, rows: Int, start: Int,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        configuration c: ModelConfiguration, options: Options, output: UnsafeMutablePointer<Float>, workspace: Workspace
    ) {
        let scores = workspace.buffer(.scores, count: c.headCount * (start + rows))
        split_attention(
            query, rows, start, keys, values, c.headCount, c.kvHeadCount, c.headDimension, c.queryWidth, c.kvWidth,
            options.scale, options.window, options.softcap, scores, output, Parallel.threadCount)
    }
}

extension Attention {
    /// One sequence's share of `compute(batch:)`: its query rows, positions, cache and output rows.
    struct Segment {
        var query: UnsafeMutablePointer<Float>
        var rows: Int
        var start: Int
        var keys: UnsafePointer<Float>
        var values: UnsafePointer<Float>
        var output: UnsafeMutablePointer<Float>
    }

    /// What one chunk of the batched job reads: every (sequence, head) pair of the batch.
    private struct BatchJob {
        var segments: UnsafePointer<Segment>
        /// Each segment's scores area (`headCount × (start + rows)` floats: a row of scratch per head).
        var scores: UnsafePointer<UnsafeMutablePointer<Float>>
        /// Per chunk: its sequence, and the query heads it runs (first, count).
        var chunks: UnsafePointer<(sequence: Int, firstHead: Int, heads: Int)>
        var headCount: Int
        var group: Int
        var headDimension: Int
        var queryWidth: Int
        var kvWidth: Int
        var scale: Float
        var window: Int
        var softcap: Float
    }

    /// Attention of several sequences' new rows, each against its own cache, as one job on the
    /// worker pool with a chunk per (sequence, KV head): 16 decoding sessions are 48 chunks per
    /// layer instead of 16 jobs of 9 heads, each waited for. A chunk runs the query heads that
    /// share its KV head one after the other, so the first reads the keys and values from memory
    /// (a cloud's caches are L3-sized and more) and the others find them in L1: per head, as one
    /// chunk per head, attention was 7% of a 16-session pass's samples, mostly waiting for those
    /// loads. A segment of many rows (a prefill chunk) gets a chunk per head instead, so its
    /// heads still spread over the pool. Each head is `split_attention` with that head's
    /// pointers, so every value is the one `compute` gives, bit for bit.
    static func compute(batch: [Segment], configuration c: ModelConfiguration, options: Options, workspace: Workspace) {
        let sizes = batch.map { c.headCount * ($0.start + $0.rows) }
        let area = workspace.buffer(.scores, count: sizes.reduce(0, +))
        var scores: [UnsafeMutablePointer<Float>] = []
        scores.reserveCapacity(batch.count)
        var offset = 0
        for size in sizes {
            scores.append(area + offset)
            offset += size
        }
        let group = c.headCount / c.kvHeadCount
        var plan: [(sequence: Int, firstHead: Int, heads: Int)] = []
        plan.reserveCapacity(batch.count * c.headCount)
        for (sequence, segment) in batch.enumerated() {
            let width = segment.rows >= Self.rowsPerHeadChunk ? 1 : group
            for first in stride(from: 0, to: c.headCount, by: width) { plan.append((sequence, first, width)) }
        }
        let chunk: split_task_fn = { context, index, _ in
            let job = context!.assumingMemoryBound(to: BatchJob.self).pointee
            let part = job.chunks[index], d = job.headDimension
            let segment = job.segments[part.sequence]
            let total = segment.start + segment.rows
            for head in part.firstHead..<(part.firstHead + part.heads) {
                let kvHead = head / job.group, sequence = part.sequence
                split_attention(
                    segment.query + head * d, segment.rows, segment.start, segment.keys + kvHead * d,
                    segment.values + kvHead * d, 1, 1, d, job.queryWidth, job.kvWidth, job.scale, job.window, job.softcap,
                    job.scores[sequence] + head * total, segment.output + head * d, 1)
            }
        }
        batch.withUnsafeBufferPointer { segments in
            scores.withUnsafeBufferPointer { areas in
                plan.withUnsafeBufferPointer { chunks in
                    var job = BatchJob(segments: segments.baseAddress!, scores: areas.baseAddress!, chunks: chunks.baseAddress!,
                                       headCount: c.headCount, group: group, headDimension: c.headDimension,
                                       queryWidth: c.queryWidth, kvWidth: c.kvWidth,
                                       scale: options.scale, window: options.window, softcap: options.softcap)
                    withUnsafeMutablePointer(to: &job) { context in
                        if Parallel.threadCount > 1 {
                            split_pool_run(chunk, context, chunks.count)
                        } else {
                            for index in 0..<chunks.count { chunk(context, index, chunks.count) }
                        }
                    }
                }
            }
        }
    }

    /// Rows from which a segment's heads are chunked one by one (a prefill chunk: its work
    /// dwarfs the reuse of keys and values a KV-head chunk buys).
    static let rowsPerHeadChunk = 8
}
