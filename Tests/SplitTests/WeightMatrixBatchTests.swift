import Foundation
import Testing
@testable import Split

/// The property batching rests on: a position's result does not depend on which other positions
/// share its matrix multiply, so batches of any size give exactly what decoding one at a time gives.
@Suite("Batched matrix multiply")
struct WeightMatrixBatchTests {
    static func randomValues(_ count: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(state: seed)
        return (0..<count).map { _ in Float(random.next() >> 40) / Float(1 << 24) * 2 - 1 }
    }

    @Test("every row of a batch is bit-identical to the same row multiplied alone, f32 and f16, any batch size",
          arguments: [false, true], [(rows: 37, columns: 64), (rows: 64, columns: 203), (rows: 300, columns: 256)])
    func rowsIndependentOfBatch(f16: Bool, shape: (rows: Int, columns: Int)) {
        let values = Self.randomValues(shape.rows * shape.columns, seed: 7)
        let matrix: WeightMatrix
        if f16 {
            let owner = HalfStorage(values.map { Float16($0).bitPattern })
            matrix = WeightMatrix(rows: shape.rows, columns: shape.columns, storage: .f16(owner.pointer), owner: owner)
        } else {
            matrix = WeightMatrix(rows: shape.rows, columns: shape.columns, values: values)
        }
        let maxBatch = 20
        let inputs = Self.randomValues(maxBatch * shape.columns, seed: 11)
        var alone = [Float](repeating: 0, count: maxBatch * shape.rows)
        for row in 0..<maxBatch {
            inputs.withUnsafeBufferPointer { input in
                alone.withUnsafeMutableBufferPointer { output in
                    matrix.multiply(input.baseAddress! + row * shape.columns, count: 1, into: output.baseAddress! + row * shape.rows)
                }
            }
        }
        for n in [2, 3, 4, 5, 7, 16, 20] {
            var batched = [Float](repeating: .nan, count: n * shape.rows)
            inputs.withUnsafeBufferPointer { input in
                batched.withUnsafeMutableBufferPointer { matrix.multiply(input.baseAddress!, count: n, into: $0.baseAddress!) }
            }
            #expect(batched.map(\.bitPattern) == alone[..<(n * shape.rows)].map(\.bitPattern), "n = \(n)")
        }
        // And against a double-precision reference, so "identical" is not "identically wrong".
        for row in [0, shape.rows - 1] {
            var reference = 0.0
            for column in 0..<shape.columns {
                let weight = f16 ? Double(Float(Float16(values[row * shape.columns + column]))) : Double(values[row * shape.columns + column])
                reference += weight * Double(inputs[column])
            }
            #expect(abs(Double(alone[row]) - reference) < 1e-4 * Double(shape.columns))
        }
    }
}

/// f16 bits kept alive for a `WeightMatrix` in tests.
final class HalfStorage {
    let pointer: UnsafePointer<UInt16>
    private let buffer: UnsafeMutablePointer<UInt16>
    init(_ halves: [UInt16]) {
        buffer = .allocate(capacity: halves.count)
        buffer.initialize(from: halves, count: halves.count)
        pointer = UnsafePointer(buffer)
    }
    deinit { buffer.deallocate() }
}
