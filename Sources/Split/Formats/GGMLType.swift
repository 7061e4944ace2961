/// The ggml tensor type codes a GGUF file can name, with their names and block layouts, so a
/// file holding types Split cannot run can still be inspected and the error can name the type.
public struct GGMLType: Sendable, Equatable {
    /// The code stored in the file.
    public let code: UInt32
    /// ggml's name for it ("F32", "Q4_K", ...).
    public let name: String
    /// Values per block (1 for plain types).
    public let blockSize: Int
    /// Bytes per block.
    public let blockBytes: Int

    /// The type with `code`, or nil when ggml has (or had) no such type.
    public static func named(code: UInt32) -> GGMLType? {
        guard let entry = table[code] else { return nil }
        return GGMLType(code: code, name: entry.name, blockSize: entry.blockSize, blockBytes: entry.blockBytes)
    }

    /// ggml's name for `code`, or "unknown type <code>".
    public static func name(code: UInt32) -> String {
        table[code]?.name ?? "unknown type \(code)"
    }

    /// The `WeightType` this code maps onto, or nil when Split cannot use it.
    public static func weightType(code: UInt32) -> WeightType? {
        switch code {
        case 0: return .f32
        case 1: return .f16
        case 2: return .q4_0
        case 3: return .q4_1
        case 6: return .q5_0
        case 7: return .q5_1
        case 8: return .q8_0
        case 10: return .q2_k
        case 11: return .q3_k
        case 12: return .q4_k
        case 13: return .q5_k
        case 14: return .q6_k
        case 20: return .iq4_nl
        case 23: return .iq4_xs
        case 30: return .bf16
        default: return nil
        }
    }

    /// The ggml code for a `WeightType`.
    public static func code(for type: WeightType) -> UInt32 {
        switch type {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q5_0: return 6
        case .q5_1: return 7
        case .q8_0: return 8
        case .q2_k: return 10
        case .q3_k: return 11
        case .q4_k: return 12
        case .q5_k: return 13
        case .q6_k: return 14
        case .iq4_nl: return 20
        case .iq4_xs: return 23
        case .bf16: return 30
        }
    }

    /// Bytes taken by a tensor whose innermost dimension is `rowLength` and which has
    /// `elementCount` values; nil when rows are not whole blocks or the size overflows.
    public func byteCount(rowLength: Int, elementCount: Int) -> Int? {
        guard rowLength % blockSize == 0 else { return nil }
        let (size, overflow) = (elementCount / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : size
    }

    // From ggml.c's type_traits; codes 4, 5, 31–33 and 36–38 were removed upstream. Checked against
    // gguf-py's GGML_QUANT_SIZES in tests, except Q8_1, where gguf-py still has the old 40-byte block.
    private static let table: [UInt32: (name: String, blockSize: Int, blockBytes: Int)] = [
        0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
        6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
        10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
        14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74),
        18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
        22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
        26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
        30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
        40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
    ]
}
