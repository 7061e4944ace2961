/// Constants of the Split wire format (see docs/PROTOCOL.md).
public enum WireFormat {
    /// The first four bytes of every message: ASCII "SPLT".
    public static let magic: [UInt8] = [0x53, 0x50, 0x4C, 0x54]
    /// The protocol version this build writes and reads.
    public static let version: UInt8 = 1
    /// Bytes before the body: magic (4), version (1), type (1), reserved (2, zero).
    public static let headerSize = 8
}

#if _endian(big)
#error("The wire format is little-endian and the activation codecs copy host floats directly.")
#endif

/// The one-byte type code of each message, in the order of `WireMessage`'s cases (each case
/// is the type of the `WireMessage` case of the same name).
public enum WireMessageType: UInt8, Sendable, CaseIterable {
    case hello = 1
    case helloAck = 2
    case prefill = 3
    case step = 4
    case result = 5
    case truncate = 6
    case close = 7
    case heartbeat = 8
    case error = 9
    case rebuildNeeded = 10
    case actions = 11
}
