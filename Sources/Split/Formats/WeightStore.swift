/// The element types a weight tensor can be stored in. Readers map their own type codes onto
/// these and refuse everything else with an error naming the type.
public enum WeightType: String, Sendable, Equatable, CaseIterable {
    case f32, f16, bf16, q8_0

    /// Bytes needed for `count` elements; nil when `count` is not a whole number of blocks.
    public func byteCount(elements count: Int) -> Int? {
        switch self {
        case .f32: return count.multipliedReportingOverflow(by: 4).overflow ? nil : count * 4
        case .f16, .bf16: return count.multipliedReportingOverflow(by: 2).overflow ? nil : count * 2
        case .q8_0:
            // GGML Q8_0: blocks of 32 values, each an f16 scale followed by 32 int8.
            guard count % 32 == 0 else { return nil }
            return (count / 32) * 34
        }
    }
}

/// A read-only view of one weight tensor inside a mapped model file.
///
/// `shape` is outermost-first (PyTorch order): a linear layer's weight is `[out, in]`, whatever
/// order the file stores its dimensions in. `bytes` points into memory owned by `owner`, which
/// must be kept alive as long as the view is used.
public struct WeightView: @unchecked Sendable {
    // Safe to send: the bytes are an immutable read-only mapping kept alive by `owner`.
    public let name: String
    public let shape: [Int]
    public let type: WeightType
    public let bytes: UnsafeRawBufferPointer
    public let owner: AnyObject

    public init(name: String, shape: [Int], type: WeightType, bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.name = name
        self.shape = shape
        self.type = type
        self.bytes = bytes
        self.owner = owner
    }

    /// Runs `body` on the bytes while keeping `owner` (and so the mapping) alive. Prefer this to
    /// `bytes` when the view is a temporary: Swift may release a temporary right after its last use.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(owner) { try body(bytes) }
    }

    /// Number of elements (product of the shape).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// Anything that can hand out named weight tensors: a GGUF file, a safetensors file or a set of
/// safetensors shards.
public protocol WeightStore: AnyObject, Sendable {
    /// Names of every tensor in the store.
    var tensorNames: [String] { get }
    /// The tensor called `name`.
    /// - Throws: an error naming the tensor when it is missing or its data is out of bounds.
    func weight(_ name: String) throws -> WeightView
}

extension WeightStore {
    /// Whether a tensor called `name` exists.
    public func contains(_ name: String) -> Bool { tensorNames.contains(name) }
}
