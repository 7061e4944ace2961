import COpenBLAS
import Foundation

/// Measures the runtime's prefill and decode speed on a model, the way llama.cpp's bench does:
/// a fixed prompt of token ids (no tokenizer, no sampling cost), then single-token decode steps.
public struct RuntimeBenchmark: Sendable {
    public var promptTokens: Int
    public var decodeTokens: Int
    public var repetitions: Int

    public init(promptTokens: Int = 128, decodeTokens: Int = 128, repetitions: Int = 3) {
        self.promptTokens = promptTokens
        self.decodeTokens = decodeTokens
        self.repetitions = repetitions
    }

    /// Median figures over the repetitions.
    public struct Result: Sendable, Codable {
        public var prefillTokensPerSecond: Double
        public var decodeTokensPerSecond: Double
        public var prefillSeconds: [Double]
        public var decodeSeconds: [Double]
        public var weightBytesPerToken: Int
    }

    /// Sets the thread count of both OpenBLAS and the runtime's own kernels.
    public static func setThreads(_ count: Int) {
        Parallel.threadCount = max(1, count)
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// Runs the benchmark (one warm-up pass first).
    /// - Throws: when the prompt plus decode length exceeds the model's context.
    public func run(_ model: TransformerModel) throws -> Result {
        let c = model.configuration
        let prompt = (0..<promptTokens).map { Int32(($0 * 7919 + 13) % c.vocabularySize) }
        let workspace = Workspace()
        var prefill: [Double] = []
        var decode: [Double] = []
        for repetition in 0...repetitions {
            let cache = model.makeCache(maxPositions: promptTokens + decodeTokens + 1)
            let start = DispatchTime.now()
            var hidden = try model.embed(prompt, startPosition: 0)
            try model.forward(&hidden, rows: prompt.count, startPosition: 0, layers: model.layers, cache: cache, workspace: workspace)
            var logits = try model.logits(Array(hidden[((prompt.count - 1) * c.hiddenSize)...]), rows: 1, workspace: workspace)
            let prefillSeconds = LocalGenerator.seconds(since: start)
            let decodeStart = DispatchTime.now()
            for step in 0..<decodeTokens {
                let token = Int32(logits.withUnsafeBufferPointer { Sampler.argmax($0) })
                var row = try model.embed([token], startPosition: prompt.count + step)
                try model.forward(&row, rows: 1, startPosition: prompt.count + step, layers: model.layers, cache: cache, workspace: workspace)
                logits = try model.logits(row, rows: 1, workspace: workspace)
            }
            let decodeSeconds = LocalGenerator.seconds(since: decodeStart)
            if repetition > 0 {  // the first pass warms caches and page-ins the mapping
                prefill.append(prefillSeconds)
                decode.append(decodeSeconds)
            }
        }
        let head = model.outputHead?.byteCount ?? 0
        return Result(
            prefillTokensPerSecond: Double(promptTokens) / Self.median(prefill),
            decodeTokensPerSecond: Double(decodeTokens) / Self.median(decode),
            prefillSeconds: prefill, decodeSeconds: decode,
            weightBytesPerToken: model.weightBytes(layers: model.layers) + head)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }
}
