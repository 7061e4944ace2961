import Foundation

/// Weights held in memory as f32, by name. Used to build models in tests and for weights that
/// are produced rather than read (e.g. a freshly initialised policy).
public final class MemoryWeightStore: WeightStore, @unchecked Sendable {
    // Safe to send: tensors are added only before the store is shared (during set-up), and
    // every access after that is a read, serialised by `lock` anyway.
    private var tensors: [String: (shape: [Int], data: FloatBuffer)] = [:]
    private let lock = NSLock()

    public init() {}

    /// Adds or replaces a tensor. `values.count` must equal the product of `shape`.
    public func set(_ name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
        lock.withLock { tensors[name] = (shape, FloatBuffer(values)) }
    }

    public var tensorNames: [String] { lock.withLock { Array(tensors.keys).sorted() } }

    public func weight(_ name: String) throws -> WeightView {
        guard let entry = lock.withLock({ tensors[name] }) else { throw ModelError.missingTensor(name) }
        let bytes = UnsafeRawBufferPointer(start: entry.data.pointer, count: entry.data.count * 4)
        return WeightView(name: name, shape: entry.shape, type: .f32, bytes: bytes, owner: entry.data)
    }
}
