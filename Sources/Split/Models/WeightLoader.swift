import CSplitKernels

/// Turns a store's raw tensors into the runtime's weight objects, checking every shape.
///
/// Matrices stay in the mapped file in their own encoding (f32, f16, bf16, or GGML's quantized
/// blocks; no copy) when suitably aligned; transposed weights (GPT-2 Conv1D) and misaligned
/// f32/f16/bf16 ones are converted once into f32 heap buffers; on the AVX2 and AVX-512 kernel
/// paths, Q4_0 matrices of whole 8-row groups are repacked for the kernels
/// (`WeightMatrix.repackedQ4_0`) in place of the file's pages.
struct WeightLoader {
    let store: WeightStore
    let transposeLinear: Bool
    /// Whether this load repacks Q4_0 matrices, releasing their file pages (see `vector`).
    private let repacksQ4_0: Bool

    init(store: WeightStore, transposeLinear: Bool) {
        self.store = store
        self.transposeLinear = transposeLinear
        repacksQ4_0 = WeightMatrix.repacksQ4_0 && store.tensorNames.contains { (try? store.weight($0))?.type == .q4_0 }
    }

    /// The vector called `name` as f32, checked to have `count` elements.
    func vector(_ name: String, count: Int) throws -> FloatBuffer {
        let view = try fetch(name)
        guard view.elementCount == count else {
            throw ModelError.shapeMismatch(tensor: name, expected: [count], found: view.shape)
        }
        let buffer = FloatBuffer(count: count)
        try convert(view, into: buffer.pointer)
        // Copied: where Q4_0 neighbours are repacked, its file pages go too, with the 2 MB page
        // around it, which may hold the tail of a repacked matrix that reading this mapped again
        // (36 MB of a 1B-shaped Q4_0 file). Elsewhere that page holds weights still read from the
        // file in place, which would only be mapped again.
        if repacksQ4_0 { (view.owner as? MappedFile)?.releasePages(around: view.bytes) }
        return buffer
    }

    /// The optional vector `name` (nil when `name` is nil).
    func optionalVector(_ name: String?, count: Int) throws -> FloatBuffer? {
        guard let name else { return nil }
        return try vector(name, count: count)
    }

    /// The linear weight `name` as `[rows × columns]`. With `transposed`, the file holds it as
    /// `[columns × rows]` (GPT-2 Conv1D).
    func matrix(_ name: String, rows: Int, columns: Int, transposed: Bool? = nil) throws -> WeightMatrix {
        let view = try fetch(name)
        let flip = transposed ?? transposeLinear
        let expected = flip ? [columns, rows] : [rows, columns]
        guard view.shape == expected else {
            throw ModelError.shapeMismatch(tensor: name, expected: expected, found: view.shape)
        }
        if !flip {
            switch view.type {
            case .f32 where Int(bitPattern: view.bytes.baseAddress) % MemoryLayout<Float>.alignment == 0:
                let pointer = view.bytes.baseAddress!.assumingMemoryBound(to: Float.self)
                return WeightMatrix(rows: rows, columns: columns, storage: .f32(pointer), owner: view.owner)
            case .f16 where Int(bitPattern: view.bytes.baseAddress) % MemoryLayout<UInt16>.alignment == 0:
                let pointer = view.bytes.baseAddress!.assumingMemoryBound(to: UInt16.self)
                return WeightMatrix(rows: rows, columns: columns, storage: .f16(pointer), owner: view.owner)
            case .bf16 where Int(bitPattern: view.bytes.baseAddress) % MemoryLayout<UInt16>.alignment == 0:
                let pointer = view.bytes.baseAddress!.assumingMemoryBound(to: UInt16.self)
                return WeightMatrix(rows: rows, columns: columns, storage: .bf16(pointer), owner: view.owner)
            case let type where type.isBlockQuantized:
                // Blocks are 18 to 210 bytes, so no alignment holds or is needed; rows must be
                // whole blocks (a row slice then starts at a block) and the data all there.
                guard columns % type.blockSize == 0 else {
                    throw ModelError.partialBlocks(tensor: name, type: type.rawValue, columns: columns, blockSize: type.blockSize)
                }
                guard let needed = type.byteCount(elements: rows * columns), view.bytes.count >= needed,
                      let base = view.bytes.baseAddress else {
                    throw ModelError.truncatedTensor(tensor: name, type: type.rawValue,
                                                     needed: type.byteCount(elements: rows * columns) ?? Int.max,
                                                     found: view.bytes.count)
                }
                if type == .q4_0, WeightMatrix.repacksQ4_0,
                   let repacked = WeightMatrix.repackedQ4_0(rows: rows, columns: columns, source: base) {
                    // The file's copy is not read again: its pages leave the resident set, so
                    // peak RSS stays near the file's size (BENCHMARKS.md, issue 18).
                    (view.owner as? MappedFile)?.releasePages(around: view.bytes)
                    return repacked
                }
                return WeightMatrix(rows: rows, columns: columns, storage: .blocks(type, base), owner: view.owner)
            default:
                break
            }
        }
        let buffer = FloatBuffer(count: rows * columns)
        if flip {
            let staging = FloatBuffer(count: rows * columns)
            try convert(view, into: staging.pointer)
            // File holds [columns × rows]; write [rows × columns].
            for c in 0..<columns {
                for r in 0..<rows { buffer.pointer[r * columns + c] = staging.pointer[c * rows + r] }
            }
        } else {
            try convert(view, into: buffer.pointer)
        }
        return WeightMatrix(rows: rows, columns: columns, storage: .f32(UnsafePointer(buffer.pointer)), owner: buffer)
    }

    /// Splits a fused `[(q + 2·kv) × d]` QKV weight (or its transpose) into Q, K and V rows.
    func fusedQKV(_ name: String, queryWidth: Int, kvWidth: Int, columns: Int) throws -> (WeightMatrix, WeightMatrix, WeightMatrix) {
        let whole = try matrix(name, rows: queryWidth + 2 * kvWidth, columns: columns)
        return (try whole.rows(0, count: queryWidth), try whole.rows(queryWidth, count: kvWidth),
                try whole.rows(queryWidth + kvWidth, count: kvWidth))
    }

    private func fetch(_ name: String) throws -> WeightView {
        guard store.contains(name) else { throw ModelError.missingTensor(name) }
        return try store.weight(name)
    }

    /// Converts any supported stored type into f32.
    private func convert(_ view: WeightView, into destination: UnsafeMutablePointer<Float>) throws {
        let count = view.elementCount
        guard let needed = view.type.byteCount(elements: count), view.bytes.count >= needed,
              let base = view.bytes.baseAddress else {
            throw ModelError.shapeMismatch(tensor: view.name, expected: view.shape, found: [view.bytes.count])
        }
        switch view.type {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: base, byteCount: count * 4)
        case .f16:
            withUnalignedCopy(base, bytes: count * 2) { split_f16_to_f32($0, destination, count) }
        case .bf16:
            withUnalignedCopy(base, bytes: count * 2) { split_bf16_to_f32($0, destination, count) }
        case let type:  // GGML blocks; byteCount above checked the count is whole blocks
            split_dequantize_blocks(WeightMatrix.kernelType(type), base, destination, count)
        }
    }

    private func withUnalignedCopy(_ base: UnsafeRawPointer, bytes: Int, _ body: (UnsafePointer<UInt16>) -> Void) {
        if Int(bitPattern: base) % 2 == 0 {
            body(base.assumingMemoryBound(to: UInt16.self))
        } else {
            let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
            defer { copy.deallocate() }
            copy.copyMemory(from: base, byteCount: bytes)
            body(UnsafePointer(copy.assumingMemoryBound(to: UInt16.self)))
        }
    }
}
