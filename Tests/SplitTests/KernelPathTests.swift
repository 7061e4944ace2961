import CSplitKernels
import Foundation
import Testing
@testable import Split

@Suite("Kernel paths chosen at run time")
struct KernelPathTests {
    /// f16 and Q8_0 rows, 3 × 2 blocks wide, for `rows` rows: values and their encodings.
    struct Weights {
        let rows: Int, cols: Int
        var f16: [UInt16] = []
        var q8: [UInt8] = []
        var x: [Float] = []

        init(rows: Int, cols: Int, vectors: Int) {
            self.rows = rows
            self.cols = cols
            var generator = SystemRandomNumberGenerator()
            let values = (0..<rows * cols).map { _ in Float.random(in: -1...1, using: &generator) }
            f16 = values.map { Float16($0).bitPattern }
            for block in stride(from: 0, to: values.count, by: 32) {
                q8 += withUnsafeBytes(of: Float16(0.01 + 0.001 * Float(block % 7)).bitPattern.littleEndian, Array.init)
                q8 += values[block..<block + 32].map { UInt8(bitPattern: Int8(($0 * 127).rounded())) }
            }
            x = (0..<vectors * cols).map { _ in Float.random(in: -1...1, using: &generator) }
        }
    }

    /// y[n × rows] of the f16 and the Q8_0 weights by one path's kernels.
    static func products(_ path: KernelPath, _ w: Weights, vectors n: Int, from first: Int = 0) -> (f16: [Float], q8: [Float]) {
        let table = split_kernels_for_path(path.rawValue)!.pointee
        var f16 = [Float](repeating: 0, count: n * w.rows), q8 = f16
        w.x.withUnsafeBufferPointer { all in
            let x = all.baseAddress! + first * w.cols
            table.gemm_f16(w.f16, x, n, &f16, w.rows, 0, w.rows, w.cols)
            var xq = [UInt8](repeating: 0, count: n * table.q8_activation_stride(w.cols))
            table.quantize_q8_activation(x, n, w.cols, &xq)
            table.gemm_q8_0(w.q8, xq, n, &q8, w.rows, 0, w.rows, w.cols)
        }
        return (f16, q8)
    }

    @Test("every path this CPU runs multiplies f16 and Q8_0 weights as the scalar path does, each batched row with the bits of the row alone",
          arguments: KernelPath.available)
    func pathMatchesScalar(path: KernelPath) {
        let vectors = 7
        let w = Weights(rows: 13, cols: 96, vectors: vectors)
        let batched = Self.products(path, w, vectors: vectors)
        let reference = Self.products(.scalar, w, vectors: vectors)
        let scale = reference.f16.map(abs).max()!
        for (got, want) in zip(batched.f16 + batched.q8, reference.f16 + reference.q8) {
            #expect(abs(got - want) <= 1e-5 * max(1, scale))
        }
        for j in 0..<vectors {
            let alone = Self.products(path, w, vectors: 1, from: j)
            #expect(Array(batched.f16[j * w.rows..<(j + 1) * w.rows]) == alone.f16)
            #expect(Array(batched.q8[j * w.rows..<(j + 1) * w.rows]) == alone.q8)
        }
    }

    @Test("the process runs the fastest path its CPU has, or the one SPLIT_KERNELS names")
    func chosenPath() throws {
        if let requested = ProcessInfo.processInfo.environment["SPLIT_KERNELS"], !requested.isEmpty {
            #expect(KernelPath.current == (try KernelPath.requested(requested)))
        } else {
            #expect(KernelPath.current == KernelPath.available.last)
        }
        #expect(KernelPath.available.first == .scalar)
        #if arch(x86_64)
        #expect(!KernelPath.neon.isAvailable)
        #elseif arch(arm64)
        #expect(KernelPath.neon.isAvailable && !KernelPath.avx2.isAvailable)
        #endif
    }

    @Test("a SPLIT_KERNELS value the CPU cannot run is refused, naming the paths it has")
    func refusedRequests() throws {
        let runs = KernelPath.available.map(\.name).joined(separator: ", ")
        #expect(throws: KernelPathError.self) { try KernelPath.requested("sse9") }
        do {
            _ = try KernelPath.requested("sse9")
        } catch {
            #expect("\(error)" == "SPLIT_KERNELS=sse9: no such kernel path; this CPU runs: \(runs)")
        }
        for path in KernelPath.allCases {
            if path.isAvailable {
                #expect(try KernelPath.requested(path.name) == path)
            } else {
                #expect(throws: KernelPathError.self) { try KernelPath.requested(path.name) }
            }
        }
    }

    @Test("/metrics says which kernel path runs")
    func metricsNamePath() {
        let edge = EdgeMetrics().registry.emitToString()
        #expect(MetricsExposition.value(of: "split_edge_kernel_path{path=\"\(KernelPath.current.name)\"}", in: edge) == 1)
        let cloud = CloudMetrics().registry.emitToString()
        #expect(MetricsExposition.value(of: "split_cloud_kernel_path{path=\"\(KernelPath.current.name)\"}", in: cloud) == 1)
    }
}
