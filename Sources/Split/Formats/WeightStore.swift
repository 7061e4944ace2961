/// The element types a weight tensor can be stored in. Readers map their own type codes onto
/// these and refuse everything else with an error naming the type.
///
/// Besides the plain float types, GGML's quantized blocks: Q8_0 and the legacy Q4_0, Q4_1, Q5_0,
/// Q5_1 and IQ4_NL (32 values a block), and the k-quants Q2_K … Q6_K and IQ4_XS (256 values a
/// super-block).
public enum WeightType: String, Sendable, Equatable, CaseIterable {
    case f32, f16, bf16, q8_0
    case q4_0, q4_1, q5_0, q5_1
    case q2_k, q3_k, q4_k, q5_k, q6_k
    case iq4_nl, iq4_xs

    /// Values per block (1 for the plain types): a row must be a whole number of them.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .iq4_nl: return 32
        case .q2_k, .q3_k, .q4_k, .q5_k, .q6_k, .iq4_xs: return 256
        }
    }

    /// Bytes per block (ggml-common.h's block_* structs).
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return 34   // f16 d, 32 × int8
        case .q4_0: return 18   // f16 d, 16 bytes of nibbles
        case .q4_1: return 20   // f16 d, f16 m, 16 bytes of nibbles
        case .q5_0: return 22   // f16 d, 32 fifth bits, nibbles
        case .q5_1: return 24   // f16 d, f16 m, 32 fifth bits, nibbles
        case .iq4_nl: return 18 // f16 d, 16 bytes of nibbles indexing a fixed table
        case .q2_k: return 84
        case .q3_k: return 110
        case .q4_k: return 144
        case .q5_k: return 176
        case .q6_k: return 210
        case .iq4_xs: return 136 // f16 d, 8 six-bit scales, 128 bytes of IQ4_NL-table nibbles
        }
    }

    /// Whether the values are stored in GGML blocks (computed on in place by the quantized kernels).
    public var isBlockQuantized: Bool { blockSize > 1 }

    /// Bytes needed for `count` elements; nil when `count` is not a whole number of blocks or the
    /// size overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (size, overflow) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : size
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
