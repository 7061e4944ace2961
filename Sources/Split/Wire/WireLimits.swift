/// The largest sizes a peer accepts. The decoder checks every size and count against these
/// before it allocates anything; the encoder checks them too, so we never send what the peer
/// would refuse. A cloud node announces its limits in `helloAck`.
public struct WireLimits: Sendable, Equatable {
    /// Largest whole message, header included.
    public var maxMessageBytes: Int
    /// Most positions (activation rows or result rows) in one message.
    public var maxRowsPerMessage: Int
    /// Largest hidden size of an activation tensor.
    public var maxHiddenSize: Int
    /// Most top-k entries per result row.
    public var maxTopK: Int
    /// Longest string field, in UTF-8 bytes (at most 65,535: strings have a 16-bit length).
    public var maxStringLength: Int
    /// Widest per-row distribution a result may carry (a vocabulary of 2^20 tokens).
    public static let maxDistributionWidth = 1 << 20

    /// Makes limits; the defaults fit a 4,096-position prefill of a 16k-wide model in f32.
    public init(
        maxMessageBytes: Int = 256 << 20, maxRowsPerMessage: Int = 4096, maxHiddenSize: Int = 16384,
        maxTopK: Int = 64, maxStringLength: Int = 4096
    ) {
        // Sizes travel as 32-bit fields, so no limit can usefully exceed UInt32.max.
        self.maxMessageBytes = min(maxMessageBytes, Int(UInt32.max))
        self.maxRowsPerMessage = maxRowsPerMessage
        self.maxHiddenSize = maxHiddenSize
        self.maxTopK = maxTopK
        self.maxStringLength = min(maxStringLength, Int(UInt16.max))
    }

    /// The largest frame the transport takes in (ZMQ_MAXMSGSIZE): the message limit plus 1 MiB,
    /// so a frame a little too large is read, refused with `limitExceeded` and counted, while
    /// a larger one makes libzmq drop the connection before it allocates for the frame.
    public var transportFrameCap: Int { maxMessageBytes + (1 << 20) }

    /// Throws `WireError.limitExceeded` when `value` is past `limit` (or negative).
    func check(_ field: String, _ value: Int, limit: Int) throws(WireError) {
        guard value >= 0, value <= limit else { throw .limitExceeded(field: field, value: value, limit: limit) }
    }
}
