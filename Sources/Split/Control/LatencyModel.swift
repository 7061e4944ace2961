/// The inference delay of the simulated clock, in whole control steps: a fixed delay or a
/// seeded random one, so that every simulated table is exactly reproducible.
public struct LatencyModel: Sendable {
    /// The distribution delays are drawn from.
    public enum Distribution: Sendable, Equatable {
        /// Always `steps`.
        case constant(steps: Int)
        /// Uniform over `min...max` steps.
        case uniform(min: Int, max: Int)
        /// `base` steps, plus one more step with probability `spikeProbability` times `spikeSteps`
        /// (a congested link now and then).
        case spiky(base: Int, spikeSteps: Int, spikeProbability: Double)
    }

    /// The distribution.
    public let distribution: Distribution
    private var random: SplitMix64

    /// A latency source drawing from `distribution` with `seed`.
    public init(_ distribution: Distribution, seed: UInt64 = 1) {
        self.distribution = distribution
        random = SplitMix64(state: seed ^ 0xD1B5_4A32_D192_ED03)
    }

    /// The next delay, in steps (never negative).
    public mutating func next() -> Int {
        switch distribution {
        case .constant(let steps): return max(0, steps)
        case .uniform(let low, let high): return max(0, Int.random(in: min(low, high)...max(low, high), using: &random))
        case .spiky(let base, let spike, let probability):
            return max(0, base + (Double.random(in: 0..<1, using: &random) < probability ? spike : 0))
        }
    }
}
