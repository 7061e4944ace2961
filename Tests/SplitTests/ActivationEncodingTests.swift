import Testing
@testable import Split

private func sampleValues(count: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 20_000) / 1000  // in (-20, 20)
    }
}

@Test("f32 activations come back bit for bit")
func f32IsExact() throws {
    let values = sampleValues(count: 3 * 96, seed: 1)
    let tensor = try EncodedActivations(encoding: .f32, rows: 3, hiddenSize: 96, values: values)
    #expect(tensor.payload.count == values.count * 4)
    #expect(tensor.decoded() == values)
}

@Test("f16 activations come back within half-precision rounding (relative error ≤ 2^-11)")
func f16IsWithinRounding() throws {
    let values = sampleValues(count: 4 * 96, seed: 2)
    let tensor = try EncodedActivations(encoding: .f16, rows: 4, hiddenSize: 96, values: values)
    #expect(tensor.payload.count == values.count * 2)
    for (original, decoded) in zip(values, tensor.decoded()) {
        #expect(abs(original - decoded) <= abs(original) * 0x1p-11 + 1e-7)
    }
}

@Test("int8 activations are within half a step of their block's absmax scale",
      arguments: [ActivationEncoding.int8Block32, .int8Block64], [64, 100])
func int8IsWithinHalfAStep(encoding: ActivationEncoding, hiddenSize: Int) throws {
    let rows = 3
    let values = sampleValues(count: rows * hiddenSize, seed: 3)
    let tensor = try EncodedActivations(encoding: encoding, rows: rows, hiddenSize: hiddenSize, values: values)
    let blockSize = try #require(encoding.blockSize)
    let blocksPerRow = (hiddenSize + blockSize - 1) / blockSize
    #expect(tensor.payload.count == rows * (hiddenSize + 4 * blocksPerRow))
    let decoded = tensor.decoded()
    for row in 0..<rows {
        for blockStart in stride(from: 0, to: hiddenSize, by: blockSize) {
            let range = (row * hiddenSize + blockStart)..<(row * hiddenSize + min(blockStart + blockSize, hiddenSize))
            let absmax = values[range].map(abs).max() ?? 0
            for index in range {
                #expect(abs(values[index] - decoded[index]) <= absmax / 254 * 1.0001)
            }
        }
    }
}

@Test("int8 keeps an all-zero block exactly zero")
func int8ZeroBlock() throws {
    let tensor = try EncodedActivations(encoding: .int8Block32, rows: 1, hiddenSize: 32, values: [Float](repeating: 0, count: 32))
    #expect(tensor.decoded() == [Float](repeating: 0, count: 32))
}

@Test("Encoding refuses values that do not fill the stated shape")
func encodingChecksShape() {
    #expect(throws: WireError.self) {
        try EncodedActivations(encoding: .f16, rows: 2, hiddenSize: 8, values: [Float](repeating: 1, count: 15))
    }
    #expect(throws: WireError.self) {
        try EncodedActivations(encoding: .f32, rows: 2, hiddenSize: 8, payload: [UInt8](repeating: 0, count: 63))
    }
}

@Test("Encoding names parse back to the same encoding", arguments: ActivationEncoding.allCases)
func encodingNamesRoundTrip(encoding: ActivationEncoding) {
    #expect(ActivationEncoding(name: encoding.description) == encoding)
}
