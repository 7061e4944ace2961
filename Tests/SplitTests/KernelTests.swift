import Foundation
import Testing
@testable import Split

@Suite("Element-wise kernels")
struct KernelTests {
    static let inputs: [Float] = (0..<203).map { Float($0) * 0.37 - 40 }  // odd length: vector and tail paths

    @Test("softmax matches a double-precision reference to 1e-6")
    func softmax() {
        var x = Self.inputs
        let maxValue = x.withUnsafeMutableBufferPointer { Activations.softmax($0.baseAddress!, count: $0.count) }
        let m = Double(Self.inputs.max()!)
        let total = Self.inputs.reduce(0.0) { $0 + exp(Double($1) - m) }
        #expect(Double(maxValue) == m)
        for (value, input) in zip(x, Self.inputs) {
            #expect(abs(Double(value) - exp(Double(input) - m) / total) < 1e-6)
        }
    }

    @Test("SiLU gate and tanh GELU match double-precision references")
    func activations() {
        var gate = Self.inputs
        let up = Self.inputs.map { $0 * 0.5 + 1 }
        gate.withUnsafeMutableBufferPointer { g in up.withUnsafeBufferPointer { Activations.siluGate(g.baseAddress!, up: $0.baseAddress!, count: g.count) } }
        var gelu = Self.inputs
        gelu.withUnsafeMutableBufferPointer { Activations.gelu($0.baseAddress!, count: $0.count) }
        for i in Self.inputs.indices {
            let v = Double(Self.inputs[i])
            let silu = v / (1 + exp(-v)) * Double(up[i])
            #expect(abs(Double(gate[i]) - silu) <= 1e-5 * max(1, abs(silu)))
            let g = 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
            #expect(abs(Double(gelu[i]) - g) <= 1e-5 * max(1, abs(g)))
        }
    }
}
