/// A heap block of `Float`s with a stable address, freed when the last reference goes.
///
/// Used for weights that had to be converted or copied at load time (bf16, transposed GPT-2
/// weights, misaligned f32 data) and for preallocated scratch space in the decode path.
public final class FloatBuffer: @unchecked Sendable {
    // Safe to send: weights are written once during load, before the buffer is shared, and
    // scratch buffers are owned by a single workspace that is never shared across threads.
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Allocates `count` floats set to zero.
    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// Allocates a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    /// The contents as an array (copies).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
