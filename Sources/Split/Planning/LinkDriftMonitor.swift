/// Watches measured round trips and bandwidth and says when they have drifted far enough from
/// what the current plan assumed that the edge should plan again.
///
/// Each measure keeps its last `window` samples and is judged by their median, so a single slow
/// ping (a retransmission, a scheduler hiccup) does not trigger a re-plan but a sustained change
/// does, within half a window.
public struct LinkDriftMonitor: Sendable {
    /// Relative change that asks for a re-plan (0.5: 50 % above or below the baseline).
    public let threshold: Double
    /// Samples kept per measure.
    public let window: Int
    /// Samples of a measure needed before it can ask for a re-plan.
    public let minimumSamples: Int
    public private(set) var baselineRoundTripSeconds: Double
    public private(set) var baselineBitsPerSecond: Double
    private var roundTrips: [Double] = []
    private var bandwidths: [Double] = []

    /// A monitor against the figures a plan was made with.
    public init(roundTripSeconds: Double, bitsPerSecond: Double, threshold: Double = 0.5, window: Int = 9,
                minimumSamples: Int = 5) {
        baselineRoundTripSeconds = roundTripSeconds
        baselineBitsPerSecond = bitsPerSecond
        self.threshold = threshold
        self.window = max(1, window)
        self.minimumSamples = min(max(1, minimumSamples), max(1, window))
    }

    /// A monitor against a network profile's round trip and uplink.
    public init(network: NetworkProfile, threshold: Double = 0.5) {
        self.init(roundTripSeconds: network.roundTripSeconds, bitsPerSecond: network.uplinkBitsPerSecond, threshold: threshold)
    }

    /// The median of the recent round trips, nil before any.
    public var roundTripSeconds: Double? { Self.median(roundTrips) }
    /// The median of the recent throughputs, nil before any.
    public var bitsPerSecond: Double? { Self.median(bandwidths) }

    /// Records a measured round trip; returns whether a re-plan is due.
    public mutating func record(roundTripSeconds sample: Double) -> Bool {
        if sample.isFinite, sample >= 0 { Self.append(sample, to: &roundTrips, window: window) }
        return needsReplan
    }

    /// Records a measured throughput; returns whether a re-plan is due.
    public mutating func record(bitsPerSecond sample: Double) -> Bool {
        if sample.isFinite, sample > 0 { Self.append(sample, to: &bandwidths, window: window) }
        return needsReplan
    }

    /// Whether either measure's recent median is past the threshold from its baseline.
    public var needsReplan: Bool {
        func drifted(_ samples: [Double], _ baseline: Double) -> Bool {
            guard samples.count >= minimumSamples, let value = Self.median(samples) else { return false }
            // A zero baseline (loopback) is measured against a 0.1 ms floor.
            return abs(value - baseline) / max(baseline, 1e-4) > threshold
        }
        return drifted(roundTrips, baselineRoundTripSeconds) || drifted(bandwidths, baselineBitsPerSecond)
    }

    /// After re-planning: the current medians become the baseline and the windows start over.
    public mutating func rebaseline() {
        if let roundTripSeconds { baselineRoundTripSeconds = roundTripSeconds }
        if let bitsPerSecond { baselineBitsPerSecond = bitsPerSecond }
        roundTrips = []
        bandwidths = []
    }

    private static func append(_ sample: Double, to samples: inout [Double], window: Int) {
        samples.append(sample)
        if samples.count > window { samples.removeFirst(samples.count - window) }
    }

    private static func median(_ samples: [Double]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
