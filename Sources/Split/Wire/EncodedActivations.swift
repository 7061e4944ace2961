import CSplitKernels

/// A `rows × hiddenSize` tensor of hidden states in one `ActivationEncoding`, as it travels.
///
/// Messages carry the encoded bytes; values are converted only at the two ends, with
/// `init(encoding:rows:hiddenSize:values:)` and `decode(into:)`. Values must be finite.
/// The int8 error bound per value is half a quantisation step: absmax(block) / 254.
public struct EncodedActivations: Sendable, Equatable {
    /// How `payload` encodes the values.
    public let encoding: ActivationEncoding
    /// Positions (one row each).
    public let rows: Int
    /// Values per row.
    public let hiddenSize: Int
    /// The encoded bytes, row after row.
    public let payload: [UInt8]

    /// Wraps already-encoded bytes after checking their size against the shape.
    /// - Throws: `WireError.shapeMismatch` when `payload` has the wrong size for the shape.
    public init(encoding: ActivationEncoding, rows: Int, hiddenSize: Int, payload: [UInt8]) throws(WireError) {
        guard let expected = encoding.payloadByteCount(rows: rows, hiddenSize: hiddenSize), expected == payload.count else {
            throw .shapeMismatch("\(rows)×\(hiddenSize) \(encoding) needs a different size than \(payload.count) bytes")
        }
        self.encoding = encoding
        self.rows = rows
        self.hiddenSize = hiddenSize
        self.payload = payload
    }

    /// Encodes `values` (row-major, `rows × hiddenSize`).
    /// - Throws: `WireError.shapeMismatch` when `values.count` is not `rows × hiddenSize`.
    public init(encoding: ActivationEncoding, rows: Int, hiddenSize: Int, values: UnsafeBufferPointer<Float>) throws(WireError) {
        guard rows >= 0, hiddenSize >= 0, let byteCount = encoding.payloadByteCount(rows: rows, hiddenSize: hiddenSize),
              rows * hiddenSize == values.count
        else {
            throw .shapeMismatch("\(values.count) values do not make \(rows) rows of \(hiddenSize)")
        }
        self.encoding = encoding
        self.rows = rows
        self.hiddenSize = hiddenSize
        self.payload = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            switch encoding {
            case .f32:
                raw.copyMemory(from: UnsafeRawBufferPointer(values))
            case .f16:
                if let source = values.baseAddress, let target = raw.baseAddress {
                    // A fresh array's storage is aligned for any scalar type.
                    split_f32_to_f16(source, target.bindMemory(to: UInt16.self, capacity: values.count), values.count)
                }
            case .int8Block32, .int8Block64:
                Self.quantize(values, rows: rows, hiddenSize: hiddenSize, blockSize: encoding.blockSize ?? 32, into: raw)
            }
            initialized = byteCount
        }
    }

    /// Encodes `values` (row-major, `rows × hiddenSize`).
    /// - Throws: `WireError.shapeMismatch` when `values.count` is not `rows × hiddenSize`.
    public init(encoding: ActivationEncoding, rows: Int, hiddenSize: Int, values: [Float]) throws(WireError) {
        let result: Result<EncodedActivations, WireError> = values.withUnsafeBufferPointer { buffer in
            do throws(WireError) {
                return .success(try EncodedActivations(encoding: encoding, rows: rows, hiddenSize: hiddenSize, values: buffer))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Decodes into `output`, which must hold exactly `rows × hiddenSize` floats.
    /// - Throws: `WireError.shapeMismatch` when it does not.
    public func decode(into output: UnsafeMutableBufferPointer<Float>) throws(WireError) {
        guard output.count == rows * hiddenSize else {
            throw .shapeMismatch("output holds \(output.count) floats, tensor has \(rows)×\(hiddenSize)")
        }
        payload.withUnsafeBytes { raw in
            switch encoding {
            case .f32:
                UnsafeMutableRawBufferPointer(output).copyMemory(from: raw)
            case .f16:
                if let source = raw.baseAddress, let target = output.baseAddress {
                    split_f16_to_f32(source.assumingMemoryBound(to: UInt16.self), target, output.count)
                }
            case .int8Block32, .int8Block64:
                Self.dequantize(raw, rows: rows, hiddenSize: hiddenSize, blockSize: encoding.blockSize ?? 32, into: output)
            }
        }
    }

    /// The values, row-major.
    public func decoded() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * hiddenSize) { buffer, initialized in
            // The buffer is sized from the shape, so decode cannot fail.
            try? decode(into: buffer)
            initialized = rows * hiddenSize
        }
    }

    private static func quantize(
        _ values: UnsafeBufferPointer<Float>, rows: Int, hiddenSize: Int, blockSize: Int, into raw: UnsafeMutableRawBufferPointer
    ) {
        var offset = 0
        for row in 0..<rows {
            var start = row * hiddenSize
            let end = start + hiddenSize
            while start < end {
                let blockEnd = min(start + blockSize, end)
                var absmax: Float = 0
                for index in start..<blockEnd { absmax = max(absmax, abs(values[index])) }
                let scale = absmax / 127
                let inverse = scale > 0 ? 1 / scale : 0
                raw.storeBytes(of: scale.bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
                offset += 4
                for index in start..<blockEnd {
                    let scaled = values[index] * inverse
                    // NaN (from non-finite input) becomes 0 rather than trapping in Int8(_:).
                    let clamped = scaled.isNaN ? 0 : max(-127, min(127, scaled))
                    // Adding and subtracting 1.5·2²³ rounds to nearest even for |x| < 2²² without
                    // the libm call `rounded(.toNearestOrEven)` makes on baseline x86-64. Release
                    // build, 576-wide rows: 4.2 µs per row before, 1.9–4.1 µs after (noisy shared
                    // cores); either is tiny beside a layer's forward pass.
                    let rounded = (clamped + 0x1.8p23) - 0x1.8p23
                    raw.storeBytes(of: Int8(rounded), toByteOffset: offset, as: Int8.self)
                    offset += 1
                }
                start = blockEnd
            }
        }
    }

    private static func dequantize(
        _ raw: UnsafeRawBufferPointer, rows: Int, hiddenSize: Int, blockSize: Int, into output: UnsafeMutableBufferPointer<Float>
    ) {
        var offset = 0
        for row in 0..<rows {
            var start = row * hiddenSize
            let end = start + hiddenSize
            while start < end {
                let blockEnd = min(start + blockSize, end)
                let scale = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                offset += 4
                for index in start..<blockEnd {
                    output[index] = Float(raw.load(fromByteOffset: offset, as: Int8.self)) * scale
                    offset += 1
                }
                start = blockEnd
            }
        }
    }
}
