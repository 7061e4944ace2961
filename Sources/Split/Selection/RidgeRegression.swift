/// Ridge regression, y ≈ w·x, solved in closed form, (XᵀX + λI) w = Xᵀy, by Gaussian
/// elimination: the selector's regressions have at most about a hundred features. The normal
/// equations are kept (`Moments`) so several penalties and folds cost one pass over the data.
public struct RidgeRegression: Sendable, Equatable, Codable {
    public var weights: [Double]

    /// XᵀX and Xᵀy of a set of samples; moments of disjoint sets add.
    public struct Moments: Sendable {
        public var gram: [Double]
        public var moment: [Double]
        public let size: Int
        public var count = 0

        public init(size: Int) {
            self.size = size
            gram = [Double](repeating: 0, count: size * size)
            moment = [Double](repeating: 0, count: size)
        }

        /// Adds one sample (ignored when its length is not `size`).
        public mutating func add(_ x: [Double], _ y: Double) {
            guard x.count == size else { return }
            count += 1
            for i in 0..<size where x[i] != 0 {
                let xi = x[i]
                moment[i] += xi * y
                for j in 0..<size { gram[i * size + j] += xi * x[j] }
            }
        }

        /// These moments without `other`'s (a training fold from the whole and a held-out fold).
        public func subtracting(_ other: Moments) -> Moments {
            var result = self
            for i in gram.indices { result.gram[i] -= other.gram[i] }
            for i in moment.indices { result.moment[i] -= other.moment[i] }
            result.count -= other.count
            return result
        }
    }

    /// The regression of `moments` with penalty `lambda` on every weight; with no samples, an
    /// infinite penalty or a singular system, every weight is 0 (the prediction is 0).
    public init(moments: Moments, lambda: Double) {
        let n = moments.size
        guard n > 0, moments.count > 0, lambda.isFinite else { weights = [Double](repeating: 0, count: n); return }
        var a = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        for i in 0..<n {
            for j in 0..<n { a[i][j] = moments.gram[i * n + j] }
            a[i][i] += lambda
            a[i][n] = moments.moment[i]
        }
        weights = Self.solve(a, size: n) ?? [Double](repeating: 0, count: n)
    }

    /// Fits `samples` (each x of the same length) with penalty `lambda` on every weight.
    public init(samples: [(x: [Double], y: Double)], lambda: Double) {
        var moments = Moments(size: samples.first?.x.count ?? 0)
        for (x, y) in samples { moments.add(x, y) }
        self.init(moments: moments, lambda: lambda)
    }

    /// w·x (0 when untrained or the lengths differ).
    public func predict(_ x: [Double]) -> Double {
        guard weights.count == x.count else { return 0 }
        return zip(weights, x).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Solves the augmented system `a` (n rows of n + 1) with partial pivoting.
    private static func solve(_ matrix: [[Double]], size n: Int) -> [Double]? {
        var a = matrix
        for column in 0..<n {
            guard let pivot = (column..<n).max(by: { abs(a[$0][column]) < abs(a[$1][column]) }),
                  abs(a[pivot][column]) > 1e-12 else { return nil }
            a.swapAt(column, pivot)
            for row in (column + 1)..<n {
                let factor = a[row][column] / a[column][column]
                guard factor != 0 else { continue }
                for j in column...n { a[row][j] -= factor * a[column][j] }
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = a[row][n]
            for j in (row + 1)..<n { sum -= a[row][j] * x[j] }
            x[row] = sum / a[row][row]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
