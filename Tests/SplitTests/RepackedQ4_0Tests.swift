import Foundation
import Testing
@testable import Split

/// Q4_0 repacked at load into 8-row groups computes exactly what Q4_0 in the file's layout does.
@Suite("Repacked Q4_0 weights")
struct RepackedQ4_0Tests {
    /// The llama.cpp fixture's Q4_0 rows repeated to `rows`, in the file's layout and repacked.
    static func matrices(rows: Int) throws -> (plain: WeightMatrix, repacked: WeightMatrix, fixture: QuantizedWeightTests.Fixture) {
        let fixture = try QuantizedWeightTests.Fixture(.q4_0)
        let plain = fixture.matrix(rowCount: rows)
        guard case .blocks(_, let base) = plain.storage,
              let repacked = WeightMatrix.repackedQ4_0(rows: rows, columns: plain.columns, source: base) else {
            throw RepackError.notRepacked
        }
        return (plain, repacked, fixture)
    }
    enum RepackError: Error { case notRepacked }

    func bits(_ matrix: WeightMatrix, _ inputs: [Float], count n: Int, threads: Int = Parallel.threadCount) -> [UInt32] {
        var output = [Float](repeating: .nan, count: n * matrix.rows)
        inputs.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { matrix.multiply(x.baseAddress!, count: n, into: $0.baseAddress!, threads: threads) }
        }
        return output.map(\.bitPattern)
    }

    @Test("a repacked Q4_0 matrix gives the file layout's bits for 1 to 9 vectors on one or more threads, and reads back the same rows")
    func repackedMatchesFileLayout() throws {
        let (plain, repacked, fixture) = try Self.matrices(rows: 40)
        #expect(repacked.type == .q4_0 && repacked.byteCount == plain.byteCount)
        if case .q4_0x8 = repacked.storage {} else { Issue.record("not repacked: \(repacked.storage)") }
        let columns = plain.columns
        let inputs = (0..<(9 * columns)).map { fixture.inputs[$0 % fixture.inputs.count] * (1 + Float($0 / columns) * 0.1) }
        for n in 1...9 {
            for threads in [1, Parallel.threadCount] {
                #expect(bits(repacked, inputs, count: n, threads: threads) == bits(plain, inputs, count: n, threads: threads),
                        "n = \(n), threads = \(threads)")
            }
        }
        var row = [Float](repeating: .nan, count: columns), expected = row
        for r in [0, 7, 8, 21, 39] {
            row.withUnsafeMutableBufferPointer { repacked.copyRow(r, into: $0.baseAddress!) }
            expected.withUnsafeMutableBufferPointer { plain.copyRow(r, into: $0.baseAddress!) }
            #expect(row.map(\.bitPattern) == expected.map(\.bitPattern), "row \(r)")
        }
    }

    @Test("slices of a repacked Q4_0 matrix (whole 8-row groups, or any rows) multiply as the file layout's slices",
          arguments: [(8, 16), (0, 40), (5, 4), (13, 19)])
    func slicesMatch(first: Int, count: Int) throws {
        let (plain, repacked, fixture) = try Self.matrices(rows: 40)
        let inputs = Array(fixture.inputs[0..<(3 * plain.columns)])
        #expect(try bits(repacked.rows(first, count: count), inputs, count: 3) == bits(plain.rows(first, count: count), inputs, count: 3))
    }

    @Test("loading a llama-quantize Q4_0 file repacks its Q4_0 matrices on the AVX2 and AVX-512 kernel paths, and keeps the file's layout on the others")
    func loaderRepacksWhereTheKernelPathUsesIt() throws {
        let model = try ModelFile(path: Fixtures.path("models/llama-quant/model-q4_0.gguf")).load()
        let weights = try #require(model.blocks.first?.weights)
        let repacks = [KernelPath.avx2, .avx512].contains(KernelPath.current)
        for matrix in [weights.query, weights.key, weights.value, weights.output, weights.up, weights.down] {
            switch matrix.storage {
            case .q4_0x8 where repacks, .blocks(.q4_0, _) where !repacks: break
            default: Issue.record("\(KernelPath.current.name): \(matrix.rows) × \(matrix.columns): \(matrix.storage)")
            }
        }
    }

    @Test("a fused job of repacked and file-layout Q4_0 matrices gives each matrix's own bits")
    func mixedFusedJob() throws {
        let (plain, repacked, fixture) = try Self.matrices(rows: 16)
        let odd = fixture.matrix(rowCount: 12)  // not whole groups: stays in the file's layout
        let inputs = Array(fixture.inputs[0..<(2 * plain.columns)])
        var a = [Float](repeating: .nan, count: 2 * 16), b = [Float](repeating: .nan, count: 2 * 12)
        inputs.withUnsafeBufferPointer { x in
            a.withUnsafeMutableBufferPointer { a in
                b.withUnsafeMutableBufferPointer { b in
                    WeightMatrix.multiply(x.baseAddress!, count: 2, repacked, into: a.baseAddress!, odd, into: b.baseAddress!)
                }
            }
        }
        #expect(a.map(\.bitPattern) == bits(plain, inputs, count: 2))
        #expect(b.map(\.bitPattern) == bits(odd, inputs, count: 2))
    }
}
