import CSplitKernels

/// Causal grouped-query attention of new rows against a layer's cached keys and values.
enum Attention {
    /// `output[rows × queryWidth]` for query rows at positions `start ..< start + rows`, attending
    /// to cached positions `0 ... start + i` (keys/values already hold the new rows). Heads run in
    /// parallel on the worker pool (`split_attention`), without allocating.
    static func compute(
        query: UnsafeMutablePointer<Float>, rows: Int, start: Int,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        configuration c: ModelConfiguration, output: UnsafeMutablePointer<Float>, workspace: Workspace
    ) {
        let scores = workspace.buffer(.scores, count: c.headCount * (start + rows))
        split_attention(
            query, rows, start, keys, values, c.headCount, c.kvHeadCount, c.headDimension, c.queryWidth, c.kvWidth,
            1 / Float(c.headDimension).squareRoot(), scores, output, Parallel.threadCount)
    }
}
