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

    /// `values` (rows × columns) in `type`, and the weights that encoding actually holds.
    /// The types these tests encode from floats themselves (the other quantized types come from
    /// llama.cpp fixtures in QuantizedWeightTests).
    static let encodedTypes: [WeightType] = [.f32, .f16, .bf16, .q8_0]

    static func matrix(_ values: [Float], rows: Int, columns: Int, type: WeightType) -> (WeightMatrix, [Double]) {
        switch type {
        case .f32:
            return (WeightMatrix(rows: rows, columns: columns, values: values), values.map(Double.init))
        case .f16:
            let owner = HalfStorage(values.map { Float16($0).bitPattern })
            return (WeightMatrix(rows: rows, columns: columns, storage: .f16(owner.pointer), owner: owner),
                    values.map { Double(Float(Float16($0))) })
        case .bf16:
            let bits = values.map { UInt16($0.bitPattern >> 16) }
            let owner = HalfStorage(bits)
            return (WeightMatrix(rows: rows, columns: columns, storage: .bf16(owner.pointer), owner: owner),
                    bits.map { Double(Float(bitPattern: UInt32($0) << 16)) })
        case .q8_0:
            let (bytes, dequantized) = Q8Reference.quantize(values)
            let owner = ByteStorage(bytes)
            return (WeightMatrix(rows: rows, columns: columns, storage: .blocks(.q8_0, owner.pointer), owner: owner),
                    dequantized.map(Double.init))
        default:
            preconditionFailure("\(type): QuantizedWeightTests covers it with llama.cpp's blocks")
        }
    }

    @Test("every row of a batch is bit-identical to the same row multiplied alone, every weight type, any batch size",
          arguments: encodedTypes, [(rows: 37, columns: 64), (rows: 64, columns: 203), (rows: 300, columns: 256), (rows: 45, columns: 96),
                     (rows: 13, columns: 48), (rows: 9, columns: 216), (rows: 7, columns: 15),
                     // 16 and 20 vectors of 1030 columns outgrow L1: the kernel's panel order
                     (rows: 150, columns: 1030)])
    func rowsIndependentOfBatch(type: WeightType, shape: (rows: Int, columns: Int)) {
        // Q8_0 rows are whole 32-value blocks.
        guard type != .q8_0 || shape.columns % 32 == 0 else { return }
        let values = Self.randomValues(shape.rows * shape.columns, seed: 7)
        let (matrix, weights) = Self.matrix(values, rows: shape.rows, columns: shape.columns, type: type)
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
            // One thread: the whole matrix in one kernel call, so a matrix larger than one panel
            // of the n ≥ 2 driver (150 × 1030) really goes through several panels.
            var single = [Float](repeating: .nan, count: n * shape.rows)
            inputs.withUnsafeBufferPointer { input in
                single.withUnsafeMutableBufferPointer { matrix.multiply(input.baseAddress!, count: n, into: $0.baseAddress!, threads: 1) }
            }
            #expect(single.map(\.bitPattern) == alone[..<(n * shape.rows)].map(\.bitPattern), "n = \(n), one thread")
        }
        // And against a double-precision reference, so "identical" is not "identically wrong".
        // Q8_0 also quantizes the input to 8 bits per block (error ≤ half a step of max|x| / 127).
        for row in [0, shape.rows - 1] {
            var reference = 0.0, magnitude = 0.0
            for column in 0..<shape.columns {
                reference += weights[row * shape.columns + column] * Double(inputs[column])
                magnitude += abs(weights[row * shape.columns + column])
            }
            let tolerance = type == .q8_0 ? magnitude / 127 : 1e-4 * Double(shape.columns)
            #expect(abs(Double(alone[row]) - reference) < tolerance)
        }
    }
}

extension WeightMatrixBatchTests {
    @Test("query, key and value (or gate and up) as one job give each matrix's own outputs, bit for bit",
          arguments: encodedTypes)
    func fusedMatricesEqualSeparate(type: WeightType) {
        let columns = 96, shapes = [72, 24, 37]
        let matrices = shapes.enumerated().map { index, rows in
            Self.matrix(Self.randomValues(rows * columns, seed: UInt64(20 + index)), rows: rows, columns: columns, type: type).0
        }
        for n in [1, 3, 8] {
            let input = Self.randomValues(n * columns, seed: 5)
            var separate = shapes.map { [Float](repeating: 0, count: n * $0) }
            var a = [Float](repeating: .nan, count: n * shapes[0]), b = [Float](repeating: .nan, count: n * shapes[1])
            var c = [Float](repeating: .nan, count: n * shapes[2])
            input.withUnsafeBufferPointer { x in
                for i in matrices.indices {
                    separate[i].withUnsafeMutableBufferPointer { matrices[i].multiply(x.baseAddress!, count: n, into: $0.baseAddress!) }
                }
                a.withUnsafeMutableBufferPointer { a in
                    b.withUnsafeMutableBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            WeightMatrix.multiply(x.baseAddress!, count: n, matrices[0], into: a.baseAddress!,
                                                  matrices[1], into: b.baseAddress!, matrices[2], into: c.baseAddress!)
                        }
                    }
                }
            }
            for (i, output) in [a, b, c].enumerated() {
                #expect(output.map(\.bitPattern) == separate[i].map(\.bitPattern), "n = \(n), matrix \(i)")
            }
            // Two matrices (gate and up).
            var gate = [Float](repeating: .nan, count: n * shapes[0]), up = [Float](repeating: .nan, count: n * shapes[2])
            input.withUnsafeBufferPointer { x in
                gate.withUnsafeMutableBufferPointer { g in
                    up.withUnsafeMutableBufferPointer { u in
                        WeightMatrix.multiply(x.baseAddress!, count: n, matrices[0], into: g.baseAddress!, matrices[2], into: u.baseAddress!)
                    }
                }
            }
            #expect(gate.map(\.bitPattern) == separate[0].map(\.bitPattern) && up.map(\.bitPattern) == separate[2].map(\.bitPattern))
        }
    }
}

/// GGML Q8_0 written the way llama.cpp and gguf-py write it (scale max|x| / 127 as f16, values
/// rounded to nearest), for tests.
enum Q8Reference {
    static func quantize(_ values: [Float]) -> (bytes: [UInt8], dequantized: [Float]) {
        var bytes: [UInt8] = []
        var dequantized: [Float] = []
        for block in stride(from: 0, to: values.count, by: 32) {
            let chunk = values[block..<(block + 32)]
            let amax = chunk.map(abs).max() ?? 0
            let scale = Float16(amax / 127)
            let inverse: Float = amax == 0 ? 0 : 127 / amax
            bytes += withUnsafeBytes(of: scale.bitPattern.littleEndian, Array.init)
            for value in chunk {
                let q = Int8((value * inverse).rounded(.toNearestOrEven))
                bytes.append(UInt8(bitPattern: q))
                dequantized.append(Float(scale) * Float(q))
            }
        }
        return (bytes, dequantized)
    }
}

/// Raw bytes kept alive for a `WeightMatrix` in tests.
final class ByteStorage {
    let pointer: UnsafeRawPointer
    private let buffer: UnsafeMutableRawPointer
    init(_ bytes: [UInt8]) {
        buffer = .allocate(byteCount: max(bytes.count, 1), alignment: 16)
        buffer.copyMemory(from: bytes, byteCount: bytes.count)
        pointer = UnsafeRawPointer(buffer)
    }
    deinit { buffer.deallocate() }
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
