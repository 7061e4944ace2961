/// Where one tensor lies in a GGUF file and how it is stored, as read from the tensor table.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name ("blk.0.attn_q.weight").
    public let name: String
    /// Dimensions as GGUF stores them: innermost first (`dimensions[0]` is the row length).
    public let dimensions: [Int]
    /// The ggml type code.
    public let typeCode: UInt32
    /// Offset of the data from the start of the file.
    public let fileOffset: Int
    /// Size of the data in bytes; nil when the type is unknown to ggml's table.
    public let byteCount: Int?

    /// Dimensions outermost first (PyTorch order): a linear weight is `[out, in]`.
    public var shape: [Int] { dimensions.reversed() }
    /// ggml's name for the type ("F16", "Q4_K", ...).
    public var typeName: String { GGMLType.name(code: typeCode) }
    /// The `WeightType` Split computes with, or nil when the type is unsupported.
    public var weightType: WeightType? { GGMLType.weightType(code: typeCode) }
    /// Number of values.
    public var elementCount: Int { dimensions.reduce(1, *) }
}
