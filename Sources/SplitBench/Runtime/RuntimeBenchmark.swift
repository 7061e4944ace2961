import Foundation
import Split

/// Measures the runtime's prefill and decode speed on a model, the way llama.cpp's bench does:
/// a fixed prompt of token ids (no tokenizer, no sampling cost), then single-token decode steps.
public struct RuntimeBenchmark: Sendable {
    public var promptTokens: Int
    public var decodeTokens: Int
    public var repetitions: Int
    /// When set, `Result.residentBreakdown` is taken after the last decode loop (while its
    /// cache and scratch are alive), counting mappings of this absolute path as the model's.
    public var modelPath: String?

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
        /// malloc/calloc/realloc/memalign calls during the last repetition's decode loop, counted
        /// when the process runs with tools/bench/malloc_count.so preloaded (else nil).
        public var decodeAllocations: Int?
        /// Peak resident set of the process after the runs (model mapping, caches, scratch).
        public var peakResidentBytes: Int?
        /// Peak resident set right after loading the model (set by the caller that loaded it).
        public var peakResidentBytesAfterLoad: Int?
        /// Seconds to open and load the model (set by the caller that loaded it).
        public var loadSeconds: Double?
        /// Size of the model file (set by the caller that opened it).
        public var modelFileBytes: Int?
        /// What the resident set holds at the end of the last decode loop (when `modelPath` is set).
        public var residentBreakdown: ProcessMemory.ResidentBreakdown?
        /// Bytes of the last run's KV cache (every position of the prompt and the decode).
        public var kvCacheBytes: Int?
        /// Bytes of the forward pass's scratch after the runs (sized by the prefill).
        public var workspaceBytes: Int?
        /// The instruction-set path the kernels ran ("avx2", "neon-dotprod"; `KernelPath`).
        public var kernelPath: String
    }

    /// Runs the benchmark (one warm-up pass first).
    /// - Throws: when the prompt plus decode length exceeds the model's context.
    public func run(_ model: TransformerModel) throws -> Result {
        let c = model.configuration
        let prompt = (0..<promptTokens).map { Int32(($0 * 7919 + 13) % c.vocabularySize) }
        let workspace = Workspace()
        var prefill: [Double] = []
        var decode: [Double] = []
        var row = [Float](repeating: 0, count: c.hiddenSize)
        var logits = [Float](repeating: 0, count: c.vocabularySize)
        var allocations: Int?
        var kvCacheBytes = 0
        var breakdown: ProcessMemory.ResidentBreakdown?
        for repetition in 0...repetitions {
            let cache = model.makeCache(maxPositions: promptTokens + decodeTokens + 1)
            // Room for every position up front, as a generator that knows its token limit does.
            try cache.reserve(upTo: promptTokens + decodeTokens)
            kvCacheBytes = cache.byteCount
            let start = DispatchTime.now()
            var hidden = try model.embed(prompt, startPosition: 0)
            try model.forward(&hidden, rows: prompt.count, startPosition: 0, layers: model.layers, cache: cache, workspace: workspace)
            try hidden.withUnsafeBufferPointer { states in
                try logits.withUnsafeMutableBufferPointer { out in
                    try model.logits(states.baseAddress! + (prompt.count - 1) * c.hiddenSize, rows: 1,
                                     into: out.baseAddress!, workspace: workspace)
                }
            }
            let prefillSeconds = LocalGenerator.seconds(since: start)
            let allocationsBefore = AllocationCounter.count
            let decodeStart = DispatchTime.now()
            for step in 0..<decodeTokens {
                let token = Int32(logits.withUnsafeBufferPointer { Sampler.argmax($0) })
                try model.decodeStep(token, position: prompt.count + step, cache: cache, workspace: workspace, row: &row, logits: &logits)
            }
            let decodeSeconds = LocalGenerator.seconds(since: decodeStart)
            if let before = allocationsBefore, let after = AllocationCounter.count { allocations = after - before }
            if repetition == repetitions, let modelPath { breakdown = ProcessMemory.residentBreakdown(modelPath: modelPath) }
            if repetition > 0 {  // the first pass warms caches and page-ins the mapping
                prefill.append(prefillSeconds)
                decode.append(decodeSeconds)
            }
        }
        let head = model.outputHead?.byteCount ?? 0
        return Result(
            prefillTokensPerSecond: Double(promptTokens) / SampleStatistics.median(prefill),
            decodeTokensPerSecond: Double(decodeTokens) / SampleStatistics.median(decode),
            prefillSeconds: prefill, decodeSeconds: decode,
            weightBytesPerToken: model.weightBytes(layers: model.layers) + head,
            decodeAllocations: allocations, peakResidentBytes: ProcessMemory.peakResidentBytes,
            residentBreakdown: breakdown, kvCacheBytes: kvCacheBytes, workspaceBytes: workspace.byteCount,
            kernelPath: KernelPath.current.name)
    }
}
