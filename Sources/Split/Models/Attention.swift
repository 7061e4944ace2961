import COpenBLAS

/// Causal grouped-query attention of new rows against a layer's cached keys and values.
enum Attention {
    /// `output[rows × queryWidth]` for query rows at positions `start ..< start + rows`, attending
    /// to cached positions `0 ... start + i` (keys/values already hold the new rows).
    static func compute(
        query: UnsafeMutablePointer<Float>, rows: Int, start: Int,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        configuration c: ModelConfiguration, output: UnsafeMutablePointer<Float>, workspace: Workspace
    ) {
        let total = start + rows
        let hd = c.headDimension
        let groupSize = c.headCount / c.kvHeadCount
        let scale = 1 / Float(hd).squareRoot()
        let scores = workspace.buffer(.scores, count: rows * total)
        for head in 0..<c.headCount {
            let kvHead = head / groupSize
            let q = query + head * hd
            let k = keys + kvHead * hd
            let v = values + kvHead * hd
            // scores[rows × total] = scale · Q_h · K_gᵀ
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(total), Int32(hd),
                scale, q, Int32(c.queryWidth), k, Int32(c.kvWidth), 0, scores, Int32(total))
            for row in 0..<rows {
                let visible = start + row + 1
                let s = scores + row * total
                Activations.softmax(s, count: visible)
                for j in visible..<total { s[j] = 0 }
            }
            // out_h[rows × hd] = P · V_g
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(hd), Int32(total),
                1, scores, Int32(total), v, Int32(c.kvWidth), 0, output + head * hd, Int32(c.queryWidth))
        }
    }
}
