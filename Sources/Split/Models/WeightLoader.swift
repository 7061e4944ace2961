import CSplitKernels

/// Turns a store's raw tensors into the runtime's weight objects, checking every shape.
///
/// f32 and f16 matrices stay in the mapped file (no copy) when suitably aligned; bf16, Q8_0
/// and transposed weights are converted once into f32 heap buffers.
struct WeightLoader {
    let store: WeightStore
    let transposeLinear: Bool

    /// The vector called `name` as f32, checked to have `count` elements.
    func vector(_ name: String, count: Int) throws -> FloatBuffer {
        let view = try fetch(name)
        guard view.elementCount == count else {
            throw ModelError.shapeMismatch(tensor: name, expected: [count], found: view.shape)
        }
        let buffer = FloatBuffer(count: count)
        try convert(view, into: buffer.pointer)
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

    /// Splits a fused `[3·d × d]` QKV weight (or `[d × 3·d]` when transposed) into three.
    func fusedQKV(_ name: String, width: Int, columns: Int) throws -> (WeightMatrix, WeightMatrix, WeightMatrix) {
        let whole = try matrix(name, rows: 3 * width, columns: columns)
        func part(_ index: Int) -> WeightMatrix {
            switch whole.storage {
            case .f32(let p):
                return WeightMatrix(rows: width, columns: columns, storage: .f32(p + index * width * columns), owner: whole)
            case .f16(let p):
                return WeightMatrix(rows: width, columns: columns, storage: .f16(p + index * width * columns), owner: whole)
            }
        }
        return (part(0), part(1), part(2))
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
        case .q8_0:
            Q8Block.dequantize(base, count: count, into: destination)
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

/// GGML's Q8_0 block: an f16 scale then 32 signed bytes; value = scale · q.
enum Q8Block {
    static let values = 32
    static let bytes = 34

    static func dequantize(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        for block in 0..<(count / values) {
            let b = source + block * bytes
            var scaleBits: UInt16 = 0
            withUnsafeMutableBytes(of: &scaleBits) { $0.copyMemory(from: UnsafeRawBufferPointer(start: b, count: 2)) }
            var scale: Float = 0
            split_f16_to_f32(&scaleBits, &scale, 1)
            let quants = (b + 2).assumingMemoryBound(to: Int8.self)
            for i in 0..<values { destination[block * values + i] = scale * Float(quants[i]) }
        }
    }
}
