import Foundation

/// Measures this machine for a device profile: sustained f32 GEMM throughput, the bandwidth a
/// GEMV streams weights at, memcpy bandwidth, and (given a model) each layer's prefill and
/// decode time, the embedding look-up and the head.
public struct DeviceProfiler: Sendable {
    /// Prompt length of the per-layer prefill measurement.
    public var promptTokens: Int
    /// Decode steps measured per repetition (each layer's median is kept).
    public var decodeSteps: Int
    /// Measured repetitions of the per-layer pass (after one warm-up).
    public var repetitions: Int
    /// Seconds each kernel measurement runs for at least.
    public var kernelSeconds: Double
    /// Told the fraction done and what is being measured.
    public var progress: @Sendable (Double, String) -> Void

    /// A profiler; the defaults take a few seconds per kernel and per model.
    public init(promptTokens: Int = 64, decodeSteps: Int = 16, repetitions: Int = 3, kernelSeconds: Double = 1,
                progress: @escaping @Sendable (Double, String) -> Void = { _, _ in }) {
        self.promptTokens = max(1, promptTokens)
        self.decodeSteps = max(1, decodeSteps)
        self.repetitions = max(1, repetitions)
        self.kernelSeconds = kernelSeconds
        self.progress = progress
    }

    /// The command line a measured figure is credited to.
    public static var commandLine: String {
        "edge-node " + CommandLine.arguments.dropFirst().joined(separator: " ")
    }

    /// Sustained GFLOP/s of the runtime's own f32 matrix kernel (what prefill runs) on
    /// `size`×`size` matrices with the current thread count.
    public func measureGEMM(size: Int = 512) -> Double {
        let weights = WeightMatrix(rows: size, columns: size, values: [Float](repeating: 0.25, count: size * size))
        let a = [Float](repeating: 0.5, count: size * size)
        var c = [Float](repeating: 0, count: size * size)
        let seconds = timeRepeatedly {
            a.withUnsafeBufferPointer { x in
                c.withUnsafeMutableBufferPointer { y in weights.multiply(x.baseAddress!, count: size, into: y.baseAddress!) }
            }
        }
        return 2 * Double(size * size * size) / seconds / 1e9
    }

    /// GB/s a GEMV (the runtime's own kernel, n = 1) reads an f32 weight matrix of `megabytes` at.
    public func measureGEMV(megabytes: Int = 64) -> Double {
        let columns = 4096
        let rows = max(1, megabytes << 20 / (columns * 4))
        let matrix = WeightMatrix(rows: rows, columns: columns, values: [Float](repeating: 0.01, count: rows * columns))
        let input = [Float](repeating: 1, count: columns)
        var output = [Float](repeating: 0, count: rows)
        let seconds = timeRepeatedly {
            input.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in matrix.multiply(x.baseAddress!, count: 1, into: y.baseAddress!) }
            }
        }
        return Double(matrix.byteCount) / seconds / 1e9
    }

    /// GB/s of memcpy over `megabytes` (bytes read plus bytes written, as STREAM's copy counts).
    public func measureMemoryBandwidth(megabytes: Int = 128) -> Double {
        let count = megabytes << 20
        let source = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        let target = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        defer { source.deallocate(); target.deallocate() }
        memset(source, 1, count)
        memset(target, 0, count)
        let seconds = timeRepeatedly { memcpy(target, source, count) }
        return 2 * Double(count) / seconds / 1e9
    }

    /// Each layer's prefill and decode time on `model`, with the embedding and head.
    /// - Throws: model errors (a prompt longer than the context).
    public func measureLayers(_ model: TransformerModel, shape: ModelShape) throws -> LayerCalibration {
        let c = model.configuration
        let prompt = (0..<min(promptTokens, c.maxPositions - decodeSteps - 1)).map { Int32(($0 * 7919 + 13) % c.vocabularySize) }
        let workspace = Workspace()
        let L = c.layerCount
        var prefill = [[Double]](repeating: [], count: L)
        var decode = [[Double]](repeating: [], count: L)
        var embeds: [Double] = [], heads: [Double] = []
        for repetition in 0...repetitions {
            progress(Double(repetition) / Double(repetitions + 1), "layers of \(shape.name), pass \(repetition + 1)/\(repetitions + 1)")
            let keep = repetition > 0  // the first pass pages in the mapping and warms caches
            let cache = model.makeCache(maxPositions: prompt.count + decodeSteps + 1)
            var hidden = try model.embed(prompt, startPosition: 0)
            for layer in 0..<L {
                let seconds = try Self.time {
                    try model.forward(&hidden, rows: prompt.count, startPosition: 0, layers: layer..<(layer + 1), cache: cache, workspace: workspace)
                }
                if keep { prefill[layer].append(seconds) }
            }
            var token: Int32 = 1
            for step in 0..<decodeSteps {
                let position = prompt.count + step
                var row: [Float] = []
                let embedSeconds = try Self.time { row = try model.embed([token], startPosition: position) }
                for layer in 0..<L {
                    let seconds = try Self.time {
                        try model.forward(&row, rows: 1, startPosition: position, layers: layer..<(layer + 1), cache: cache, workspace: workspace)
                    }
                    if keep { decode[layer].append(seconds) }
                }
                var logits: [Float] = []
                let headSeconds = try Self.time { logits = try model.logits(row, rows: 1, workspace: workspace) }
                token = Int32(logits.withUnsafeBufferPointer { Sampler.argmax($0) })
                if keep {
                    embeds.append(embedSeconds)
                    heads.append(headSeconds)
                }
            }
        }
        return LayerCalibration(
            modelShape: shape.signature, source: Self.commandLine + " (medians of \(repetitions) passes; prefill \(prompt.count) tokens)",
            promptTokens: prompt.count, decodeContext: prompt.count + decodeSteps / 2,
            embedSeconds: SampleStatistics.median(embeds), headSeconds: SampleStatistics.median(heads),
            layerPrefillSeconds: prefill.map(SampleStatistics.median), layerDecodeSeconds: decode.map(SampleStatistics.median))
    }

    /// Measures the kernels (and the model's layers, when given) and returns a profile of this
    /// machine named `name`, keeping `previous`'s calibrations for other shapes.
    /// - Throws: model errors.
    public func profile(name: String, model: TransformerModel?, shape: ModelShape?, previous: DeviceProfile? = nil) throws -> DeviceProfile {
        let command = Self.commandLine
        progress(0, "sgemm")
        let gemm = measureGEMM()
        progress(0.1, "GEMV")
        let gemv = measureGEMV()
        progress(0.2, "memory bandwidth")
        let memory = measureMemoryBandwidth()
        var calibrations = previous?.calibrations ?? []
        if let model, let shape {
            let inner = self.progress
            var layers = self
            layers.progress = { fraction, what in inner(0.3 + 0.7 * fraction, what) }
            let calibration = try layers.measureLayers(model, shape: shape)
            calibrations.removeAll { $0.modelShape == calibration.modelShape }
            calibrations.append(calibration)
        }
        progress(1, "done")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let memoryGiB = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
        return DeviceProfile(
            name: name, description: "this machine as measured by edge-node profile (\(cores) cores, \(Parallel.threadCount) threads used)",
            cores: ProfileFigure(Double(cores), source: "ProcessInfo.activeProcessorCount"),
            memoryGiB: ProfileFigure((memoryGiB * 100).rounded() / 100, source: "ProcessInfo.physicalMemory"),
            gemmGFLOPPerSecond: ProfileFigure(gemm.rounded3, source: command + " (f32 GEMM 512x512x512)"),
            memoryBandwidthGBPerSecond: ProfileFigure(memory.rounded3, source: command + " (memcpy 128 MiB, read+write)"),
            gemvBandwidthGBPerSecond: ProfileFigure(gemv.rounded3, source: command + " (own f32 GEMV kernel, 64 MiB matrix)"),
            layerOverheadMicroseconds: previous?.layerOverheadMicroseconds,
            calibrations: calibrations.isEmpty ? nil : calibrations)
    }

    /// The median seconds of `body`, repeated for at least `kernelSeconds` (after a warm-up).
    private func timeRepeatedly(_ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        let start = MonotonicClock.nanoseconds()
        while samples.count < 3 || Double(MonotonicClock.nanoseconds() - start) / 1e9 < kernelSeconds {
            let begin = MonotonicClock.nanoseconds()
            body()
            samples.append(Double(MonotonicClock.nanoseconds() - begin) / 1e9)
        }
        return SampleStatistics.median(samples)
    }

    private static func time(_ body: () throws -> Void) rethrows -> Double {
        let begin = MonotonicClock.nanoseconds()
        try body()
        return Double(MonotonicClock.nanoseconds() - begin) / 1e9
    }
}

extension Double {
    /// Rounded to three significant decimals, for profile files people read.
    var rounded3: Double { (self * 1000).rounded() / 1000 }
}
