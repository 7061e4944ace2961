/// Predicted compute time of a model's pieces on one device: a roofline estimate (the larger
/// of FLOPs over sustained GEMM throughput and bytes over GEMV bandwidth, plus a fixed cost per
/// layer), replaced by the device's measured per-layer times when it has a calibration for
/// this shape (then the roofline only scales them to other prompt lengths and contexts).
public struct LayerTimeModel: Sendable {
    public let shape: ModelShape
    public let device: DeviceProfile
    /// Multiplies every time: 1 for an idle device, 2 when it gives us half its throughput.
    public let loadFactor: Double
    /// The calibration used, nil when the estimate is roofline only.
    public let calibration: LayerCalibration?

    /// A model of `shape` on `device`; `calibrated: false` ignores measured layer times.
    public init(shape: ModelShape, device: DeviceProfile, loadFactor: Double = 1, calibrated: Bool = true) {
        self.shape = shape
        self.device = device
        self.loadFactor = max(1, loadFactor.isFinite ? loadFactor : 1)
        calibration = calibrated ? device.calibration(for: shape) : nil
    }

    /// Seconds for work by the roofline: arithmetic or memory traffic, whichever is slower.
    public func rooflineSeconds(_ work: ModelShape.Work, gemm: Bool) -> Double {
        // A GEMV streams the weights once; a GEMM reuses them and is bound by arithmetic.
        let compute = work.flops / device.gemmFLOPPerSecond
        let memory = work.bytes / (gemm ? device.memoryBandwidthGBPerSecond.value * 1e9 : device.gemvBytesPerSecond)
        return max(compute, memory)
    }

    /// One layer's decode step for one token with `context` earlier positions.
    public func layerDecodeSeconds(_ layer: Int, context: Int) -> Double {
        let roofline = rooflineSeconds(shape.layerDecodeWork(context: context), gemm: false) + device.layerOverheadSeconds
        guard let calibration, calibration.layerDecodeSeconds.indices.contains(layer) else { return loadFactor * roofline }
        // The measured time at its context, moved by the roofline's change with the context.
        let measuredContext = rooflineSeconds(shape.layerDecodeWork(context: calibration.decodeContext), gemm: false)
            + device.layerOverheadSeconds
        return loadFactor * max(0, calibration.layerDecodeSeconds[layer] + roofline - measuredContext)
    }

    /// One layer's prefill of a `tokens`-position prompt.
    public func layerPrefillSeconds(_ layer: Int, tokens: Int) -> Double {
        guard tokens > 0 else { return 0 }
        let roofline = rooflineSeconds(shape.layerPrefillWork(tokens: tokens), gemm: tokens > 1) + device.layerOverheadSeconds
        guard let calibration, calibration.layerPrefillSeconds.indices.contains(layer) else { return loadFactor * roofline }
        let measuredLength = rooflineSeconds(shape.layerPrefillWork(tokens: calibration.promptTokens), gemm: true)
            + device.layerOverheadSeconds
        return loadFactor * calibration.layerPrefillSeconds[layer] * roofline / measuredLength
    }

    /// Layers `range` decoding one token.
    public func decodeSeconds(layers range: Range<Int>, context: Int) -> Double {
        range.reduce(0) { $0 + layerDecodeSeconds($1, context: context) }
    }

    /// Layers `range` over a prompt.
    public func prefillSeconds(layers range: Range<Int>, tokens: Int) -> Double {
        range.reduce(0) { $0 + layerPrefillSeconds($1, tokens: tokens) }
    }

    /// Embedding look-up of `tokens` tokens.
    public func embedSeconds(tokens: Int) -> Double {
        if let calibration { return loadFactor * calibration.embedSeconds * Double(tokens) }
        return loadFactor * rooflineSeconds(shape.embedWork(tokens: tokens), gemm: false)
    }

    /// Final norm and LM head on one row.
    public var headSeconds: Double {
        if let calibration { return loadFactor * calibration.headSeconds }
        return loadFactor * (rooflineSeconds(shape.headWork, gemm: false) + device.layerOverheadSeconds)
    }
}
