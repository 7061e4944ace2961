/// Small summaries of measured samples, shared by the profilers and the benchmarks.
public enum SampleStatistics {
    /// The middle value once sorted (the upper of the two middles for an even count); NaN when
    /// there are no values.
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    /// The nearest-rank `fraction` quantile (0.99: the value 99% of samples are at or below);
    /// NaN when there are no values.
    public static func quantile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}
