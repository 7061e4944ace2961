/// Small summaries of measured samples, shared by the profilers and the benchmarks.
public enum SampleStatistics {
    /// The middle value once sorted (the upper of the two middles for an even count); NaN when
    /// there are no values.
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }
}
