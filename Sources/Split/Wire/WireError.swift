/// Why bytes could not be decoded as a `WireMessage`, or a message could not be encoded.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The whole message is larger than the limit.
    case tooLarge(bytes: Int, limit: Int)
    /// The message ended inside `field`.
    case truncated(field: String)
    /// The first four bytes are not "SPLT".
    case badMagic
    /// The header names a protocol version this build does not speak.
    case unsupportedVersion(UInt8)
    /// The header names a message type that does not exist.
    case unknownType(UInt8)
    /// A count or size field is past its limit.
    case limitExceeded(field: String, value: Int, limit: Int)
    /// Sizes that must agree do not (rows vs. positions, payload bytes vs. shape, value count).
    case shapeMismatch(String)
    /// A field holds a value with no meaning (unknown encoding, error code or flag bits).
    case invalidValue(field: String, value: UInt64)
    /// A string field is not valid UTF-8.
    case invalidUTF8(field: String)
    /// Bytes are left over after the last field.
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .tooLarge(let bytes, let limit): return "message of \(bytes) bytes is larger than the limit of \(limit) bytes"
        case .truncated(let field): return "message ends inside field \(field)"
        case .badMagic: return "not a Split message (magic is not \"SPLT\")"
        case .unsupportedVersion(let version): return "protocol version \(version) is not supported (this build speaks \(WireFormat.version))"
        case .unknownType(let type): return "unknown message type \(type)"
        case .limitExceeded(let field, let value, let limit): return "\(field) is \(value), past the limit of \(limit)"
        case .shapeMismatch(let detail): return "shape mismatch: \(detail)"
        case .invalidValue(let field, let value): return "field \(field) has invalid value \(value)"
        case .invalidUTF8(let field): return "field \(field) is not valid UTF-8"
        case .trailingBytes(let count): return "\(count) unexpected bytes after the last field"
        }
    }

    /// The error code to answer a peer with when its message failed to decode this way.
    public var replyCode: WireMessage.ErrorCode {
        switch self {
        case .unsupportedVersion: return .unsupportedVersion
        case .tooLarge, .limitExceeded: return .limitExceeded
        default: return .malformedMessage
        }
    }
}
