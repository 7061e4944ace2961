/// Ridge regression, y ≈ w·x, solved in closed form, (XᵀX + λI) w = Xᵀy, by Gaussian
/// elimination: the per-strategy regressors of the selector have a handful of features.
public struct RidgeRegression: Sendable, Equatable, Codable {
    public var weights: [Double]

    /// Fits `samples` (each x of the same length) with penalty `lambda` on every weight; with no
    /// samples, or a singular system, every weight is 0.
    public init(samples: [(x: [Double], y: Double)], lambda: Double) {
        let n = samples.first?.x.count ?? 0
        guard n > 0 else { weights = []; return }
        var a = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        for (x, y) in samples where x.count == n {
            for i in 0..<n {
                for j in 0..<n { a[i][j] += x[i] * x[j] }
                a[i][n] += x[i] * y
            }
        }
        for i in 0..<n { a[i][i] += lambda }
        weights = Self.solve(a, size: n) ?? [Double](repeating: 0, count: n)
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
