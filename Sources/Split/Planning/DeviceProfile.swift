import Foundation

/// What a device can do for the cost model: sustained matrix throughput, memory bandwidth and
/// size, and optionally per-layer times measured on it for particular model shapes.
///
/// Read from `profiles/devices/NAME.yaml`; every figure carries its source.
public struct DeviceProfile: Sendable, Equatable, Codable {
    /// Short identifier, also the file name (`raspberry-pi-4`).
    public var name: String
    /// One line saying what the device is.
    public var description: String
    /// CPU cores (for GPUs: the host's cores; the figures below are the accelerator's).
    public var cores: ProfileFigure
    /// Memory available to the model, GiB.
    public var memoryGiB: ProfileFigure
    /// Sustained single-precision (or the runtime's working precision) GEMM throughput, GFLOP/s.
    public var gemmGFLOPPerSecond: ProfileFigure
    /// Sustained memory read bandwidth (STREAM-like), GB/s (10⁹ bytes).
    public var memoryBandwidthGBPerSecond: ProfileFigure
    /// Bandwidth a GEMV over a large weight matrix achieves, GB/s; the memory bandwidth when absent.
    public var gemvBandwidthGBPerSecond: ProfileFigure?
    /// Fixed cost per transformer layer (kernel launches, thread hand-offs), microseconds.
    public var layerOverheadMicroseconds: ProfileFigure?
    /// Per-layer times measured on this device, one entry per model shape.
    public var calibrations: [LayerCalibration]?

    enum CodingKeys: String, CodingKey {
        case name, description, cores
        case memoryGiB = "memory_gib"
        case gemmGFLOPPerSecond = "gemm_gflop_per_second"
        case memoryBandwidthGBPerSecond = "memory_bandwidth_gb_per_second"
        case gemvBandwidthGBPerSecond = "gemv_bandwidth_gb_per_second"
        case layerOverheadMicroseconds = "layer_overhead_us"
        case calibrations
    }

    /// Makes a profile.
    public init(name: String, description: String, cores: ProfileFigure, memoryGiB: ProfileFigure,
                gemmGFLOPPerSecond: ProfileFigure, memoryBandwidthGBPerSecond: ProfileFigure,
                gemvBandwidthGBPerSecond: ProfileFigure? = nil, layerOverheadMicroseconds: ProfileFigure? = nil,
                calibrations: [LayerCalibration]? = nil) {
        self.name = name
        self.description = description
        self.cores = cores
        self.memoryGiB = memoryGiB
        self.gemmGFLOPPerSecond = gemmGFLOPPerSecond
        self.memoryBandwidthGBPerSecond = memoryBandwidthGBPerSecond
        self.gemvBandwidthGBPerSecond = gemvBandwidthGBPerSecond
        self.layerOverheadMicroseconds = layerOverheadMicroseconds
        self.calibrations = calibrations
    }

    /// Memory in bytes.
    public var memoryBytes: Int { Int(memoryGiB.value * 1_073_741_824) }
    /// FLOP per second of a sustained GEMM.
    public var gemmFLOPPerSecond: Double { gemmGFLOPPerSecond.value * 1e9 }
    /// Bytes per second a GEMV streams weights at.
    public var gemvBytesPerSecond: Double { (gemvBandwidthGBPerSecond ?? memoryBandwidthGBPerSecond).value * 1e9 }
    /// Fixed seconds per layer.
    public var layerOverheadSeconds: Double { (layerOverheadMicroseconds?.value ?? 0) * 1e-6 }

    /// The calibration measured for `shape`, if any.
    public func calibration(for shape: ModelShape) -> LayerCalibration? {
        calibrations?.last { $0.modelShape == shape.signature && $0.layerPrefillSeconds.count == shape.layerCount }
    }

    /// Checks every figure; `path` names the file in the error.
    /// - Throws: `ProfileError.invalidField` for an empty name, a non-positive or non-finite
    ///   figure, a figure without a source, or a calibration of the wrong length.
    public func validate(path: String) throws(ProfileError) {
        guard !name.isEmpty else { throw .invalidField(path: path, field: "name", reason: "is empty") }
        let required: [(String, ProfileFigure)] = [
            ("cores", cores), ("memory_gib", memoryGiB), ("gemm_gflop_per_second", gemmGFLOPPerSecond),
            ("memory_bandwidth_gb_per_second", memoryBandwidthGBPerSecond),
        ]
        for (field, figure) in required { try figure.check(path: path, field: field, positive: true) }
        try gemvBandwidthGBPerSecond?.check(path: path, field: "gemv_bandwidth_gb_per_second", positive: true)
        try layerOverheadMicroseconds?.check(path: path, field: "layer_overhead_us", positive: false)
        for (index, calibration) in (calibrations ?? []).enumerated() {
            try calibration.validate(path: path, field: "calibrations[\(index)]")
        }
    }
}

extension ProfileFigure {
    /// Checks that the value is finite (and positive, or non-negative) and the source is given.
    func check(path: String, field: String, positive: Bool, maximum: Double? = nil) throws(ProfileError) {
        guard value.isFinite, positive ? value > 0 : value >= 0 else {
            throw .invalidField(path: path, field: "\(field).value", reason: "must be \(positive ? "positive" : "zero or more"), is \(value)")
        }
        if let maximum, value > maximum {
            throw .invalidField(path: path, field: "\(field).value", reason: "must be at most \(maximum), is \(value)")
        }
        guard !source.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .invalidField(path: path, field: "\(field).source", reason: "is empty: say where the figure comes from")
        }
    }
}
