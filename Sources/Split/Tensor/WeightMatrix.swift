import CSplitKernels

/// A linear layer's weight, `[rows = out features, columns = in features]`, row-major, kept in
/// the type the model file stores it in (f32 or f16), usually pointing straight into the mapped
/// file so the weights are never copied.
public final class WeightMatrix: @unchecked Sendable {
    // Safe to send: the storage is immutable after init and kept alive by `owner`.
    public enum Storage {
        case f32(UnsafePointer<Float>)
        case f16(UnsafePointer<UInt16>)
    }

    public let rows: Int
    public let columns: Int
    public let storage: Storage
    private let owner: AnyObject

    /// Wraps storage owned by `owner` (a mapped file or a `FloatBuffer`).
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

    /// Bytes of weight data read by one pass over the matrix.
    public var byteCount: Int {
        switch storage {
        case .f32: return rows * columns * 4
        case .f16: return rows * columns * 2
        }
    }

    /// `output[n × rows] = input[n × columns] · Wᵀ`.
    ///
    /// Every input row goes through the same kernel, one GEMV or a batch of them sharing each
    /// load of the weights, and each output row is bit-identical to the GEMV of its own input:
    /// a position's result never depends on how many others share its batch. So a prefill, a
    /// speculative verify batch, a chunked prompt and the cloud's batch over many sessions give
    /// exactly what token-by-token decoding gives. Measured on this machine the batched kernel
    /// also ran faster than OpenBLAS sgemm at every n from 1 to 128 for these shapes (the model's
    /// matrices are small; see BENCHMARKS.md, "Batched GEMV kernel").
    public func multiply(
        _ input: UnsafePointer<Float>, count n: Int, into output: UnsafeMutablePointer<Float>
    ) {
        let columnCount = columns, rowCount = rows
        let inputBox = UncheckedBox(input), outputBox = UncheckedBox(output), storageBox = UncheckedBox(storage)
        // A chunk of rows is worth a thread once it reads ~256 rows' worth of work.
        Parallel.forEachChunk(total: rows, minimumPerChunk: max(16, 256 / max(n, 1))) { _, begin, end in
            switch storageBox.value {
            case .f32(let weights):
                if n == 1 {
                    split_gemv_f32(weights, inputBox.value, outputBox.value, begin, end, columnCount)
                } else {
                    split_gemm_f32(weights, inputBox.value, n, outputBox.value, rowCount, begin, end, columnCount)
                }
            case .f16(let weights):
                if n == 1 {
                    split_gemv_f16(weights, inputBox.value, outputBox.value, begin, end, columnCount)
                } else {
                    split_gemm_f16(weights, inputBox.value, n, outputBox.value, rowCount, begin, end, columnCount)
                }
            }
        }
    }

    /// Copies row `index` into `destination` as f32 (used for embedding look-ups).
    public func copyRow(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        switch storage {
        case .f32(let weights):
            destination.update(from: weights + index * columns, count: columns)
        case .f16(let weights):
            split_f16_to_f32(weights + index * columns, destination, columns)
        }
    }
}
