import COpenBLAS
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
    /// One row uses a GEMV (decode is bound by reading the weights once); several rows use a
    /// GEMM (prefill and verify batches are bound by arithmetic).
    public func multiply(
        _ input: UnsafePointer<Float>, count n: Int, into output: UnsafeMutablePointer<Float>
    ) {
        if n == 1 {
            multiplyRow(input, into: output)
            return
        }
        switch storage {
        case .f32(let weights):
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(rows), Int32(columns),
                1, input, Int32(columns), weights, Int32(columns), 0, output, Int32(rows))
        case .f16(let weights):
            multiplyF16Tiled(weights, input, n, output)
        }
    }

    /// GEMV for one row, its output rows split across the kernel threads.
    private func multiplyRow(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let columnCount = columns
        let inputBox = UncheckedBox(input), outputBox = UncheckedBox(output), storageBox = UncheckedBox(storage)
        Parallel.forEachChunk(total: rows, minimumPerChunk: 256) { _, begin, end in
            switch storageBox.value {
            case .f32(let weights): split_gemv_f32(weights, inputBox.value, outputBox.value, begin, end, columnCount)
            case .f16(let weights): split_gemv_f16(weights, inputBox.value, outputBox.value, begin, end, columnCount)
            }
        }
    }

    /// GEMM over f16 weights: converts a tile of rows to f32 at a time and runs sgemm on it, so
    /// no full f32 copy of the matrix ever exists.
    private func multiplyF16Tiled(
        _ weights: UnsafePointer<UInt16>, _ input: UnsafePointer<Float>, _ n: Int,
        _ output: UnsafeMutablePointer<Float>
    ) {
        let tileRows = max(16, min(rows, (1 << 18) / max(columns, 1)))
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * columns)
        defer { tile.deallocate() }
        var begin = 0
        while begin < rows {
            let count = min(tileRows, rows - begin)
            split_f16_to_f32(weights + begin * columns, tile, count * columns)
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(count), Int32(columns),
                1, input, Int32(columns), tile, Int32(columns), 0, output + begin, Int32(rows))
            begin += count
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
