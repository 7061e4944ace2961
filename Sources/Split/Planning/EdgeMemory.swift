/// What the edge's part of a split needs in memory.
extension ModelShape {
    /// Bytes the edge needs to run layers [0, k) (k = L: the whole model and its head): the
    /// embedding, the layers' weights, their KV cache for `maxContext` positions, the layer-k
    /// hidden states a split keeps for rebuilds, and the workspace of a `promptRows` prefill.
    public func edgeMemoryBytes(splitLayer k: Int, maxContext: Int, promptRows: Int) -> Int {
        let local = k >= layerCount
        let weights = embeddingBytes + k * layerWeightBytes + (local ? headExtraBytes : 0)
        let cache = kvCacheBytes(layers: k, positions: maxContext)
        let keptHiddenStates = local ? 0 : maxContext * hiddenSize * 4
        // Per prefill row: the residual and normed rows, q, k, v, the feed-forward's two
        // intermediates; attention scores for one row over the context per head; the logits.
        let perRow = 2 * hiddenSize + queryWidth + 2 * kvWidth + 2 * intermediateSize
        let workspace = (promptRows * perRow + headCount * maxContext + vocabularySize) * 4
        return weights + cache + keptHiddenStates + workspace
    }
}
