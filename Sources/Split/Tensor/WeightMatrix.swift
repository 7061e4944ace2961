import CSplitKernels

/// A linear layer's weight, `[rows = out features, columns = in features]`, row-major, kept in
/// the encoding the model file stores it in (f32, f16, bf16 or GGML Q8_0), usually pointing
/// straight into the mapped file so the weights are never copied.
public final class WeightMatrix: @unchecked Sendable {
    // Safe to send: the storage is immutable after init and kept alive by `owner`.
    public enum Storage {
        case f32(UnsafePointer<Float>)
        case f16(UnsafePointer<UInt16>)
        case bf16(UnsafePointer<UInt16>)
        /// GGML Q8_0 rows: per 32 values an f16 scale and 32 signed bytes (34 bytes, unaligned).
        case q8_0(UnsafeRawPointer)
    }

    public let rows: Int
    public let columns: Int
    public let storage: Storage
    private let owner: AnyObject

    /// Wraps storage owned by `owner` (a mapped file or a `FloatBuffer`). Q8_0 needs `columns`
    /// to be a multiple of 32 (the loader checks it).
    public init(rows: Int, columns: Int, storage: Storage, owner: AnyObject) {
        self.rows = rows
        self.columns = columns
        self.storage = storage
        self.owner = owner
    }

    /// A matrix that owns a copy of `values` (row-major, rows × columns).
    public convenience init(rows: Int, columns: Int, values: [Float]) {
        let buffer = FloatBuffer(values)
        self.init(rows: rows, columns: columns, storage: .f32(UnsafePointer(buffer.pointer)), owner: buffer)
    }

    /// The encoding of the weights.
    public var type: WeightType {
        switch storage {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q8_0: return .q8_0
        }
    }

    /// Bytes of weight data read by one pass over the matrix.
    public var byteCount: Int { type.byteCount(elements: rows * columns) ?? 0 }

    /// Rows `first ..< first + count` as a matrix sharing this one's storage (the parts of a
    /// fused weight such as GPT-2's QKV).
    public func rows(_ first: Int, count: Int) -> WeightMatrix {
        let offset = first * columns
        let part: Storage
        switch storage {
        case .f32(let p): part = .f32(p + offset)
        case .f16(let p): part = .f16(p + offset)
        case .bf16(let p): part = .bf16(p + offset)
        case .q8_0(let p): part = .q8_0(p + offset / 32 * 34)
        }
        return WeightMatrix(rows: count, columns: columns, storage: part, owner: self)
    }

    /// `output[n × rows] = input[n × columns] · Wᵀ`, on the worker pool (`Parallel.threadCount`
    /// threads).
    ///
    /// Every input row goes through the same kernel sequence whatever `n` is, so each output
    /// row is bit-identical to multiplying its input alone: a position's result never depends on
    /// how many others share its batch. So a prefill, a speculative verify batch, a chunked
    /// prompt and the cloud's batch over many sessions give exactly what token-by-token decoding
    /// gives. Q8_0 quantizes each input row to 8-bit blocks first, as llama.cpp does.
    public func multiply(
        _ input: UnsafePointer<Float>, count n: Int, into output: UnsafeMutablePointer<Float>
    ) {
        let threads = Parallel.threadCount
        let done: Int32
        switch storage {
        case .f32(let w): done = split_matmul(Int32(SPLIT_WEIGHT_F32), w, rows, columns, input, n, output, threads)
        case .f16(let w): done = split_matmul(Int32(SPLIT_WEIGHT_F16), w, rows, columns, input, n, output, threads)
        case .bf16(let w): done = split_matmul(Int32(SPLIT_WEIGHT_BF16), w, rows, columns, input, n, output, threads)
        case .q8_0(let w): done = split_matmul(Int32(SPLIT_WEIGHT_Q8_0), w, rows, columns, input, n, output, threads)
        }
        // Only the Q8_0 activation scratch can fail to allocate: out of memory is not recoverable.
        precondition(done != 0, "out of memory for a \(n) × \(columns) quantized activation")
    }

    /// Copies row `index` into `destination` as f32 (used for embedding look-ups).
    public func copyRow(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        switch storage {
        case .f32(let weights):
            destination.update(from: weights + index * columns, count: columns)
        case .f16(let weights):
            split_f16_to_f32(weights + index * columns, destination, columns)
        case .bf16(let weights):
            split_bf16_to_f32(weights + index * columns, destination, columns)
        case .q8_0(let weights):
            split_dequantize_q8_0(weights + index * columns / 32 * 34, destination, columns)
        }
    }
}
