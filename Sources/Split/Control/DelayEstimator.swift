import Foundation

/// Estimates the inference delay in control steps online, from measured request latencies: a
/// high quantile of a sliding window, rounded up, so that jitter rarely makes a chunk arrive
/// after the step it was predicted for.
public struct DelayEstimator: Sendable {
    /// Quantile of the window used (0.9 by default).
    public let quantile: Double
    /// Latencies kept.
    public let window: Int
    /// The estimate before anything was measured.
    public let initialSteps: Int
    private var samples: [Double] = []

    /// An estimator over the last `window` latencies.
    public init(quantile: Double = 0.9, window: Int = 32, initialSteps: Int = 4) {
        self.quantile = min(max(quantile, 0), 1)
        self.window = max(1, window)
        self.initialSteps = max(0, initialSteps)
    }

    /// Records one measured latency, in control steps (fractional on a wall clock).
    public mutating func record(steps: Double) {
        guard steps.isFinite, steps >= 0 else { return }
        samples.append(steps)
        if samples.count > window { samples.removeFirst(samples.count - window) }
    }

    /// Number of latencies in the window.
    public var sampleCount: Int { samples.count }

    /// The delay to plan for, in whole steps.
    public var steps: Int {
        guard !samples.isEmpty else { return initialSteps }
        let sorted = samples.sorted()
        let index = min(sorted.count - 1, Int((quantile * Double(sorted.count - 1)).rounded(.up)))
        // Up to whole steps, but a wall-clock loop that sees answers only at its period measures
        // "2 periods" as 2.0001: 5% of a period is not worth planning a whole step later for.
        return max(0, Int((sorted[index] - 0.05).rounded(.up)))
    }
}
