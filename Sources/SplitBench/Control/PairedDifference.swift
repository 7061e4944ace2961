import Foundation

/// The seed-by-seed difference `a − b` of one figure of two modes run on the same seeds (the same
/// scenarios, disturbances and delays, so the pairs share their noise): its mean, the standard
/// error of that mean, and in how many seeds `a` was the larger. A difference is told from noise
/// when the mean is several standard errors from zero.
public struct PairedDifference: Sendable, Equatable {
    /// Mean of `a[i] − b[i]`.
    public var mean: Double
    /// Sample standard deviation of the differences over √n (0 for one pair).
    public var standardError: Double
    /// Seeds where `a[i] > b[i]`.
    public var larger: Int
    /// Pairs.
    public var count: Int

    /// The difference of `a` and `b`, nil when they are empty or of different lengths (not paired).
    public init?(_ a: [Double], _ b: [Double]) {
        guard !a.isEmpty, a.count == b.count else { return nil }
        let differences = zip(a, b).map { $0 - $1 }
        let n = Double(differences.count)
        mean = differences.reduce(0, +) / n
        let mean = mean
        let variance = differences.count > 1 ? differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1) : 0
        standardError = (variance / n).squareRoot()
        larger = differences.filter { $0 > 0 }.count
        count = differences.count
    }

    /// How many standard errors the mean is from zero (infinite when every pair differs alike).
    public var standardErrors: Double { standardError > 0 ? mean / standardError : mean == 0 ? 0 : mean.sign == .minus ? -.infinity : .infinity }
}
