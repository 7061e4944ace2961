import CSplitKernels

/// A linear layer's weight, `[rows = out features, columns = in features]`, row-major, kept in
/// the encoding the model file stores it in (f32, f16, bf16 or GGML's quantized blocks: Q8_0,
/// Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K … Q6_K, IQ4_XS), usually pointing straight into the mapped
/// file so the weights are never copied.
public final class WeightMatrix: @unchecked Sendable {
    // Safe to send: the storage is immutable after init and kept alive by `owner`.
    public enum Storage {
        case f32(UnsafePointer<Float>)
        case f16(UnsafePointer<UInt16>)
        case bf16(UnsafePointer<UInt16>)
        /// Rows of GGML blocks of a quantized `WeightType` (Q8_0, legacy or k-quant; blocks are
        /// unaligned and every row is a whole number of them).
        case blocks(WeightType, UnsafeRawPointer)
        /// Q4_0 rows repacked in groups of 8, interleaved block by block (`repackedQ4_0`): the
        /// same bytes and the same results as `.blocks(.q4_0, …)`, computed faster.
        case q4_0x8(UnsafeRawPointer)
    }

    public let rows: Int
    public let columns: Int
    public let storage: Storage
    private let owner: AnyObject

    /// Wraps storage owned by `owner` (a mapped file or a `FloatBuffer`). Quantized blocks need
    /// `columns` to be a multiple of the type's block size (the loader checks it).
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
        case .blocks(let type, _): return type
        case .q4_0x8: return .q4_0
        }
    }

    /// Whether the loader repacks Q4_0 matrices (`repackedQ4_0`): only on the kernel paths with a
    /// kernel that loads a repacked block's 8 rows at once (AVX2, AVX-512). The scalar and NEON
    /// kernels read the file's layout directly and would have to gather each repacked block back
    /// first; the bits are the same either way.
    static var repacksQ4_0: Bool { KernelPath.current == .avx2 || KernelPath.current == .avx512 }

    /// Q4_0 blocks at `source` (`rows` a multiple of 8) repacked into 8-row groups in memory of
    /// their own: llama.cpp's layout idea (block_q4_0x8), so that one input block serves 8 rows and
    /// their 8 sums come out one per vector lane (Llama-3.2-1B-shaped Q4_0 decode 0.66x llama.cpp
    /// in the file's layout, compute-bound; BENCHMARKS.md, issue 18). Every kernel path computes
    /// it, with the file layout's bits. Nil when `rows` is not a multiple of 8 or the memory
    /// cannot be mapped.
    static func repackedQ4_0(rows: Int, columns: Int, source: UnsafeRawPointer) -> WeightMatrix? {
        guard rows % 8 == 0, rows > 0, let bytes = WeightType.q4_0.byteCount(elements: rows * columns),
              let buffer = PageBuffer(byteCount: bytes) else { return nil }
        // In row ranges on the pool (a 1B-shaped file's 547 MB of Q4_0: 1.0 s on one thread).
        let chunks = min(rows / 8, 4 * Parallel.threadCount), groupBytes = bytes / (rows / 8)
        Parallel.forEach(chunks) { chunk in  // each chunk writes only its own groups
            let first = rows / 8 * chunk / chunks, end = rows / 8 * (chunk + 1) / chunks
            split_repack_q4_0x8(source + first * groupBytes, buffer.pointer + first * groupBytes, 8 * (end - first), columns)
        }
        return WeightMatrix(rows: rows, columns: columns, storage: .q4_0x8(UnsafeRawPointer(buffer.pointer)), owner: buffer)
    }

    /// Bytes of weight data read by one pass over the matrix.
    public var byteCount: Int { type.byteCount(elements: rows * columns) ?? 0 }

    /// Rows `first ..< first + count` as a matrix sharing this one's storage (the parts of a
    /// fused weight such as GPT-2's QKV). Rows of quantized blocks start at whole blocks, since
    /// every row is a whole number of them. Repacked Q4_0 rows share it in whole 8-row groups;
    /// other slices of them are copied back into the file's layout.
    /// - Throws: `ModelError.outOfMemory` when such a copy cannot be allocated.
    public func rows(_ first: Int, count: Int) throws -> WeightMatrix {
        let offset = first * columns
        let part: Storage
        switch storage {
        case .f32(let p): part = .f32(p + offset)
        case .f16(let p): part = .f16(p + offset)
        case .bf16(let p): part = .bf16(p + offset)
        case .blocks(let type, let p): part = .blocks(type, p + offset / type.blockSize * type.blockBytes)
        case .q4_0x8(let p) where first % 8 == 0 && count % 8 == 0:
            part = .q4_0x8(p + offset / WeightType.q4_0.blockSize * WeightType.q4_0.blockBytes)
        case .q4_0x8(let p):
            return try Self.unpackedQ4_0(p, rows: first..<(first + count), columns: columns)
        }
        return WeightMatrix(rows: count, columns: columns, storage: part, owner: self)
    }

    /// Rows `range` of Q4_0x8 weights at `packed` in the file's Q4_0 layout (a copy).
    /// - Throws: `ModelError.outOfMemory` when the copy cannot be allocated.
    private static func unpackedQ4_0(_ packed: UnsafeRawPointer, rows range: Range<Int>, columns: Int) throws -> WeightMatrix {
        let bytes = WeightType.q4_0.byteCount(elements: range.count * columns) ?? Int.max
        guard let copy = PageBuffer(byteCount: bytes) else {
            throw ModelError.outOfMemory(what: "a copy of \(range.count) × \(columns) Q4_0 weights", bytes: bytes)
        }
        split_unpack_q4_0x8_rows(packed, copy.pointer, range.lowerBound, range.count, columns)
        return WeightMatrix(rows: range.count, columns: columns, storage: .blocks(.q4_0, UnsafeRawPointer(copy.pointer)), owner: copy)
    }

    /// `output[n × rows] = input[n × columns] · Wᵀ`, on the worker pool (`threads`: by default
    /// `Parallel.threadCount`; 1 runs the whole matrix as one kernel call on this thread).
    ///
    /// Every input row goes through the same kernel sequence whatever `n` is, so each output
    /// row is bit-identical to multiplying its input alone: a position's result never depends on
    /// how many others share its batch. So a prefill, a speculative verify batch, a chunked
    /// prompt and the cloud's batch over many sessions give exactly what token-by-token decoding
    /// gives. Quantized weights quantize each input row to 8-bit blocks first, as llama.cpp does
    /// (Q8_0 for Q8_0, Q4_0, Q5_0; Q8_1 for Q4_1, Q5_1; Q8_K for the k-quants).
    public func multiply(
        _ input: UnsafePointer<Float>, count n: Int, into output: UnsafeMutablePointer<Float>,
        threads: Int = Parallel.threadCount
    ) {
        let done = split_matmul(kernelType, kernelWeights, rows, columns, input, n, output, max(1, threads))
        // Only the quantized activation scratch can fail to allocate: out of memory is not recoverable.
        precondition(done != 0, "out of memory for a \(n) × \(columns) quantized activation")
    }

    /// `multiply` of two or three matrices that read the same input (a layer's query, key and
    /// value; its gate and up) as one job on the worker pool: a decode step then pays one
    /// hand-off to the pool instead of one per matrix. Each output is bit-identical to the
    /// matrix's own `multiply`. Matrices of different encodings or widths run one by one.
    /// Allocates nothing.
    static func multiply(
        _ input: UnsafePointer<Float>, count n: Int,
        _ a: WeightMatrix, into outputA: UnsafeMutablePointer<Float>,
        _ b: WeightMatrix, into outputB: UnsafeMutablePointer<Float>,
        _ c: WeightMatrix? = nil, into outputC: UnsafeMutablePointer<Float>? = nil
    ) {
        let third = c.flatMap { matrix in outputC.map { (matrix, $0) } }
        guard a.kernelType == b.kernelType, a.columns == b.columns,
              third.map({ $0.0.kernelType == a.kernelType && $0.0.columns == a.columns }) ?? true else {
            a.multiply(input, count: n, into: outputA)
            b.multiply(input, count: n, into: outputB)
            if let third { third.0.multiply(input, count: n, into: third.1) }
            return
        }
        let done = withUnsafeTemporaryAllocation(of: split_matmul_part.self, capacity: 3) { parts -> Int32 in
            parts[0] = split_matmul_part(w: a.kernelWeights, rows: a.rows, y: outputA)
            parts[1] = split_matmul_part(w: b.kernelWeights, rows: b.rows, y: outputB)
            if let third { parts[2] = split_matmul_part(w: third.0.kernelWeights, rows: third.0.rows, y: third.1) }
            return split_matmul_parts(a.kernelType, parts.baseAddress, third == nil ? 2 : 3, a.columns, input, n,
                                      Parallel.threadCount)
        }
        precondition(done != 0, "out of memory for a \(n) × \(a.columns) quantized activation")
    }

    /// The encoding as the C kernels name it.
    private var kernelType: Int32 {
        switch storage {
        case .f32: return Int32(SPLIT_WEIGHT_F32)
        case .f16: return Int32(SPLIT_WEIGHT_F16)
        case .bf16: return Int32(SPLIT_WEIGHT_BF16)
        case .blocks(let type, _): return Self.kernelType(type)
        case .q4_0x8: return Int32(SPLIT_WEIGHT_Q4_0_X8)
        }
    }

    /// The C kernels' code for a quantized type.
    static func kernelType(_ type: WeightType) -> Int32 {
        switch type {
        case .f32: return Int32(SPLIT_WEIGHT_F32)
        case .f16: return Int32(SPLIT_WEIGHT_F16)
        case .bf16: return Int32(SPLIT_WEIGHT_BF16)
        case .q8_0: return Int32(SPLIT_WEIGHT_Q8_0)
        case .q4_0: return Int32(SPLIT_WEIGHT_Q4_0)
        case .q4_1: return Int32(SPLIT_WEIGHT_Q4_1)
        case .q5_0: return Int32(SPLIT_WEIGHT_Q5_0)
        case .q5_1: return Int32(SPLIT_WEIGHT_Q5_1)
        case .q2_k: return Int32(SPLIT_WEIGHT_Q2_K)
        case .q3_k: return Int32(SPLIT_WEIGHT_Q3_K)
        case .q4_k: return Int32(SPLIT_WEIGHT_Q4_K)
        case .q5_k: return Int32(SPLIT_WEIGHT_Q5_K)
        case .q6_k: return Int32(SPLIT_WEIGHT_Q6_K)
        case .iq4_nl: return Int32(SPLIT_WEIGHT_IQ4_NL)
        case .iq4_xs: return Int32(SPLIT_WEIGHT_IQ4_XS)
        }
    }

    /// The weights' first byte, for the C kernels.
    private var kernelWeights: UnsafeRawPointer {
        switch storage {
        case .f32(let w): return UnsafeRawPointer(w)
        case .f16(let w), .bf16(let w): return UnsafeRawPointer(w)
        case .blocks(_, let w), .q4_0x8(let w): return w
        }
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
        case .blocks(let type, let weights):
            split_dequantize_blocks(Self.kernelType(type), weights + index * (columns / type.blockSize * type.blockBytes),
                                    destination, columns)
        case .q4_0x8(let weights):
            split_dequantize_q4_0x8_row(weights, index, columns, destination)
        }
    }
}
