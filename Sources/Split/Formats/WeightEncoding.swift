import CSplitKernels

/// Encodes float values into the byte layout of a `WeightType`, for the format writers.
public enum WeightEncoding {
    /// The bytes of `values` stored as `type` (little-endian; Q8_0 in ggml's block layout).
    /// Returns nil for Q8_0 when the count is not a whole number of 32-value blocks, and for the
    /// other quantized types, which Split reads but does not write (llama-quantize makes them).
    public static func encode(_ values: [Float], as type: WeightType) -> [UInt8]? {
        switch type {
        case .f32:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(values.count * 4)
            for value in values { bytes.appendLittleEndian(value.bitPattern) }
            return bytes
        case .f16:
            var halves = [UInt16](repeating: 0, count: values.count)
            values.withUnsafeBufferPointer { source in
                halves.withUnsafeMutableBufferPointer { split_f32_to_f16(source.baseAddress, $0.baseAddress, values.count) }
            }
            return littleEndianBytes(halves)
        case .bf16:
            return littleEndianBytes(values.map(bfloat16Bits))
        case .q8_0:
            return quantizeQ8_0(values)
        case .q4_0, .q4_1, .q5_0, .q5_1, .q2_k, .q3_k, .q4_k, .q5_k, .q6_k, .iq4_nl, .iq4_xs:
            return nil
        }
    }

    /// bfloat16 bits of `value`, rounded to nearest even (NaN stays a quiet NaN).
    static func bfloat16Bits(_ value: Float) -> UInt16 {
        if value.isNaN { return 0x7FC0 }
        let bits = value.bitPattern
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// ggml Q8_0: per block of 32 values, an f16 scale d = max|x|/127 then 32 int8 round(x/d).
    static func quantizeQ8_0(_ values: [Float]) -> [UInt8]? {
        guard values.count % 32 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count / 32 * 34)
        for blockStart in stride(from: 0, to: values.count, by: 32) {
            let block = values[blockStart..<(blockStart + 32)]
            let maxMagnitude = block.reduce(Float(0)) { max($0, abs($1)) }
            let scale = maxMagnitude / 127
            var half: UInt16 = 0
            var scaleCopy = scale
            split_f32_to_f16(&scaleCopy, &half, 1)
            bytes.appendLittleEndian(half)
            let inverse = scale == 0 ? 0 : 1 / scale
            for value in block {
                let quantized = (value * inverse).rounded(.toNearestOrAwayFromZero)
                bytes.append(UInt8(bitPattern: Int8(max(-127, min(127, quantized)))))
            }
        }
        return bytes
    }

    private static func littleEndianBytes(_ values: [UInt16]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 2)
        for value in values { bytes.appendLittleEndian(value) }
        return bytes
    }
}
