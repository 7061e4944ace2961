/// How hidden states travel on the wire. Listed once here; the wire code is the byte written.
public enum ActivationEncoding: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// 4-byte IEEE floats, exact.
    case f32 = 0
    /// 2-byte IEEE half floats (round to nearest even).
    case f16 = 1
    /// Signed bytes with one f32 absmax scale per block of 32 values of a row.
    case int8Block32 = 2
    /// Signed bytes with one f32 absmax scale per block of 64 values of a row.
    case int8Block64 = 3

    /// Values per scale for the int8 encodings, nil for the float ones.
    public var blockSize: Int? {
        switch self {
        case .f32, .f16: return nil
        case .int8Block32: return 32
        case .int8Block64: return 64
        }
    }

    /// The name used in flags and configuration files.
    public var description: String {
        switch self {
        case .f32: return "f32"
        case .f16: return "f16"
        case .int8Block32: return "int8-32"
        case .int8Block64: return "int8-64"
        }
    }

    /// Parses a name written by `description`; nil for any other text.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = match
    }

    /// Bytes of one encoded row of `hiddenSize` values, nil on overflow. An int8 row is its
    /// blocks in order, each a little-endian f32 scale then the block's bytes; the last block
    /// of a row is shorter when `hiddenSize` is not a multiple of the block size.
    public func rowByteCount(hiddenSize: Int) -> Int? {
        guard hiddenSize >= 0 else { return nil }
        switch self {
        case .f32: return Self.product(hiddenSize, 4)
        case .f16: return Self.product(hiddenSize, 2)
        case .int8Block32, .int8Block64:
            let blockSize = self.blockSize ?? 1
            let blocks = (hiddenSize + blockSize - 1) / blockSize
            return Self.product(blocks, 4).flatMap { scales in
                let (sum, overflow) = scales.addingReportingOverflow(hiddenSize)
                return overflow ? nil : sum
            }
        }
    }

    /// Bytes of a `rows × hiddenSize` tensor, nil on overflow.
    public func payloadByteCount(rows: Int, hiddenSize: Int) -> Int? {
        guard rows >= 0, let row = rowByteCount(hiddenSize: hiddenSize) else { return nil }
        return Self.product(rows, row)
    }

    private static func product(_ a: Int, _ b: Int) -> Int? {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : value
    }
}
