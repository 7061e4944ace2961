import Foundation
import Testing
@testable import Split

/// GGML's legacy and k-quant weight types, computed on in their blocks: against gguf-py's
/// dequantization and llama.cpp's own dot products (fixtures from
/// tools/fixtures/make_quant_fixtures.py), and batched rows against rows alone.
@Suite("Quantized weight types")
struct QuantizedWeightTests {
    static let types: [WeightType] = [.q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl, .q2_k, .q3_k, .q4_k, .q5_k, .q6_k, .iq4_xs]

    /// One fixture: a rows × columns matrix as llama.cpp quantized it, n input vectors, the
    /// values gguf-py dequantizes it to, and llama.cpp's products.
    struct Fixture {
        let type: WeightType
        let rows: Int, columns: Int, vectors: Int
        let weights: [UInt8]
        let inputs: [Float]
        let dequantized: [Float]
        let llamaProducts: [Float]

        init(_ type: WeightType) throws {
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("quant/\(type.rawValue).bin"))))
            func u32(_ at: Int) -> Int { Int(data[at..<(at + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }) }
            func floats(_ at: Int, _ count: Int) -> [Float] {
                (0..<count).map { Float(bitPattern: UInt32(u32(at + 4 * $0))) }
            }
            #expect(data.starts(with: Array("SPQF".utf8)) && u32(4) == 1)
            #expect(UInt32(u32(8)) == GGMLType.code(for: type))
            self.type = type
            (rows, columns, vectors) = (u32(12), u32(16), u32(20))
            let weightBytes = u32(24)
            var at = 28
            weights = Array(data[at..<(at + weightBytes)])
            at += weightBytes
            inputs = floats(at, vectors * columns)
            at += 4 * vectors * columns
            dequantized = floats(at, rows * columns)
            at += 4 * rows * columns
            llamaProducts = floats(at, vectors * rows)
        }

        /// The matrix over `rowCount` rows: the fixture's rows repeated.
        func matrix(rowCount: Int? = nil) -> WeightMatrix {
            let count = rowCount ?? rows, rowBytes = weights.count / rows
            let bytes = (0..<count).flatMap { weights[($0 % rows) * rowBytes..<(($0 % rows) + 1) * rowBytes] }
            let owner = ByteStorage(bytes)
            return WeightMatrix(rows: count, columns: columns, storage: .blocks(type, owner.pointer), owner: owner)
        }
    }

    @Test("every quantized type's rows read back as gguf-py dequantizes them", arguments: types)
    func rowsMatchGGUFPy(type: WeightType) throws {
        let fixture = try Fixture(type)
        let matrix = fixture.matrix()
        var row = [Float](repeating: .nan, count: fixture.columns)
        for r in 0..<fixture.rows {
            row.withUnsafeMutableBufferPointer { matrix.copyRow(r, into: $0.baseAddress!) }
            let expected = fixture.dequantized[(r * fixture.columns)..<((r + 1) * fixture.columns)]
            let worst = zip(row, expected).map { abs($0 - $1) / max(1e-6, abs($1)) }.max() ?? .infinity
            #expect(worst <= 1e-6, "row \(r): max relative difference \(worst)")
        }
    }

    @Test("every quantized type's products agree with llama.cpp's to 1e-5 of the largest (measured ≤ 7e-7; 0 for the legacy types and IQ4_XS), far closer than exact products of the dequantized weights",
          arguments: types)
    func productsMatchLlamaCpp(type: WeightType) throws {
        let fixture = try Fixture(type)
        let matrix = fixture.matrix()
        var output = [Float](repeating: .nan, count: fixture.vectors * fixture.rows)
        fixture.inputs.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { matrix.multiply(x.baseAddress!, count: fixture.vectors, into: $0.baseAddress!) }
        }
        let largest = fixture.llamaProducts.map(abs).max() ?? 0
        #expect(largest > 1)
        let toLlama = maxAbsDifference(output, fixture.llamaProducts)
        #expect(toLlama <= 1e-5 * largest, "max |Split − llama.cpp| = \(toLlama) of \(largest)")
        // What llama.cpp computes differs from the exact product by quantizing the input to 8
        // bits; a kernel that skipped that (or quantized differently) would land near `exact`.
        var exact = [Float](repeating: 0, count: fixture.vectors * fixture.rows)
        for j in 0..<fixture.vectors {
            for r in 0..<fixture.rows {
                var sum = 0.0
                for c in 0..<fixture.columns {
                    sum += Double(fixture.dequantized[r * fixture.columns + c]) * Double(fixture.inputs[j * fixture.columns + c])
                }
                exact[j * fixture.rows + r] = Float(sum)
            }
        }
        let llamaToExact = maxAbsDifference(fixture.llamaProducts, exact)
        #expect(toLlama * 100 < llamaToExact, "Split−llama.cpp \(toLlama), llama.cpp−exact \(llamaToExact)")
    }

    @Test("a batch of 1 to 9 vectors gives every row bit-identical to the vector alone, odd row counts, one or more threads",
          arguments: types, [5, 37])
    func batchedRowsBitIdentical(type: WeightType, rowCount: Int) throws {
        let fixture = try Fixture(type)
        let matrix = fixture.matrix(rowCount: rowCount)
        let columns = fixture.columns
        // Nine vectors: the fixture's, scaled differently each time round.
        var inputs: [Float] = []
        for j in 0..<9 {
            let source = (j % fixture.vectors) * columns, scale: Float = 1 + 0.1 * Float(j)
            inputs += fixture.inputs[source..<(source + columns)].map { $0 * scale }
        }
        var alone = [Float](repeating: .nan, count: 9 * rowCount)
        inputs.withUnsafeBufferPointer { x in
            alone.withUnsafeMutableBufferPointer { y in
                for j in 0..<9 { matrix.multiply(x.baseAddress! + j * columns, count: 1, into: y.baseAddress! + j * rowCount) }
            }
        }
        let finite = alone.allSatisfy { $0.isFinite }
        #expect(finite)
        for n in 1...9 {
            for threads in [1, Parallel.threadCount] {
                var batched = [Float](repeating: .nan, count: n * rowCount)
                inputs.withUnsafeBufferPointer { x in
                    batched.withUnsafeMutableBufferPointer { matrix.multiply(x.baseAddress!, count: n, into: $0.baseAddress!, threads: threads) }
                }
                #expect(batched.map(\.bitPattern) == alone[..<(n * rowCount)].map(\.bitPattern), "n = \(n), threads = \(threads)")
            }
        }
    }

    @Test("row slices of a quantized matrix (a fused QKV's parts) multiply as those rows of the whole", arguments: types)
    func rowSlicesStartAtTheirBlocks(type: WeightType) throws {
        let fixture = try Fixture(type)
        let whole = fixture.matrix(rowCount: 12)
        let parts = [try whole.rows(0, count: 5), try whole.rows(5, count: 4), try whole.rows(9, count: 3)]
        for n in [1, fixture.vectors] {
            var all = [Float](repeating: .nan, count: n * 12)
            var a = [Float](repeating: .nan, count: n * 5), b = [Float](repeating: .nan, count: n * 4)
            var c = [Float](repeating: .nan, count: n * 3)
            fixture.inputs.withUnsafeBufferPointer { x in
                all.withUnsafeMutableBufferPointer { whole.multiply(x.baseAddress!, count: n, into: $0.baseAddress!) }
                a.withUnsafeMutableBufferPointer { a in
                    b.withUnsafeMutableBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            WeightMatrix.multiply(x.baseAddress!, count: n, parts[0], into: a.baseAddress!,
                                                  parts[1], into: b.baseAddress!, parts[2], into: c.baseAddress!)
                        }
                    }
                }
            }
            for j in 0..<n {
                let joined = Array(a[(j * 5)..<(j * 5 + 5)]) + Array(b[(j * 4)..<(j * 4 + 4)]) + Array(c[(j * 3)..<(j * 3 + 3)])
                #expect(joined.map(\.bitPattern) == all[(j * 12)..<(j * 12 + 12)].map(\.bitPattern), "n = \(n), vector \(j)")
            }
        }
    }
}

/// Quantized tensors that are cut short or whose rows are not whole blocks are refused with a
/// message naming the tensor and its type, never read out of bounds.
@Suite("Malformed quantized tensors")
struct MalformedQuantizedTensorTests {
    /// A store holding one tensor as given, whatever its size.
    final class RawStore: WeightStore, @unchecked Sendable {
        // Safe to send: immutable after init.
        let view: WeightView
        init(_ view: WeightView) { self.view = view }
        var tensorNames: [String] { [view.name] }
        func weight(_ name: String) throws -> WeightView { view }
    }

    @Test("a GGUF whose quantized rows are not whole blocks is refused when opened, naming the tensor and type",
          arguments: [(WeightType.q4_k, 320), (.q6_k, 576), (.q4_0, 48), (.q5_1, 100), (.iq4_xs, 384)])
    func partialBlockRowsRefused(type: WeightType, rowLength: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var writer = GGUFWriter()
        writer.setMetadata("general.architecture", .string("llama"))
        let bytes = [UInt8](repeating: 0, count: 4 * rowLength * type.blockBytes / type.blockSize + type.blockBytes)
        writer.addTensor(name: "blk.0.ffn_up.weight", shape: [4, rowLength], typeCode: GGMLType.code(for: type), data: bytes)
        let path = directory.write(writer.serialized(), to: "partial.gguf")
        #expect {
            _ = try GGUFFile(path: path)
        } throws: { error in
            let message = String(describing: error)
            return message.contains("blk.0.ffn_up.weight") && message.contains(type.rawValue.uppercased())
        }
    }

    @Test("a GGUF whose quantized tensor is cut short is refused when opened", arguments: [WeightType.q4_k, .q6_k, .q4_0, .q3_k, .iq4_xs])
    func truncatedTensorRefused(type: WeightType) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var writer = GGUFWriter()
        writer.setMetadata("general.architecture", .string("llama"))
        let full = 3 * 512 / type.blockSize * type.blockBytes
        writer.addTensor(name: "output.weight", shape: [3, 512], typeCode: GGMLType.code(for: type), data: [UInt8](repeating: 0, count: full))
        var bytes = writer.serialized()
        bytes.removeLast(type.blockBytes + 1)
        let path = directory.write(bytes, to: "short.gguf")
        #expect {
            _ = try GGUFFile(path: path)
        } throws: { error in String(describing: error).contains("output.weight") }
    }

    @Test("the loader refuses a quantized matrix whose rows are not whole blocks or whose bytes fall short")
    func loaderRefusesPartialBlocks() throws {
        let storage = ByteStorage([UInt8](repeating: 0, count: 4 * 144))
        let bytes = UnsafeRawBufferPointer(start: storage.pointer, count: 4 * 144)
        let partial = WeightLoader(store: RawStore(WeightView(name: "w", shape: [2, 320], type: .q4_k, bytes: bytes, owner: storage)),
                                   transposeLinear: false)
        #expect(throws: ModelError.partialBlocks(tensor: "w", type: "q4_k", columns: 320, blockSize: 256)) {
            _ = try partial.matrix("w", rows: 2, columns: 320)
        }
        let short = WeightLoader(store: RawStore(WeightView(name: "w", shape: [3, 512], type: .q4_k, bytes: bytes, owner: storage)),
                                 transposeLinear: false)
        #expect(throws: ModelError.truncatedTensor(tensor: "w", type: "q4_k", needed: 6 * 144, found: 4 * 144)) {
            _ = try short.matrix("w", rows: 3, columns: 512)
        }
        let whole = WeightLoader(store: RawStore(WeightView(name: "w", shape: [2, 512], type: .q4_k, bytes: bytes, owner: storage)),
                                 transposeLinear: false)
        #expect(try whole.matrix("w", rows: 2, columns: 512).type == .q4_k)
    }
}
