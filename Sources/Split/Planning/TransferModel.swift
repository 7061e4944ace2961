import Foundation

/// Predicted time to move hidden states over a link: the real wire sizes of the step/prefill
/// and result messages for an activation encoding, the round trip, the bandwidth each way, and
/// the expected cost of a lost packet.
public struct TransferModel: Sendable {
    public let network: NetworkProfile
    public let hiddenSize: Int
    public let limits: WireLimits
    /// Bytes a forward request spends beyond its rows, per encoding (by wire code).
    private let headerBytes: [Int]

    /// ZMTP framing plus the CURVE box of one message (nonce, MAC, command name), bytes.
    public static let transportOverheadBytes = 40
    /// TCP payload per packet on a 1500-byte MTU.
    static let packetPayloadBytes = 1448
    /// Linux's minimum retransmission timeout, seconds.
    static let minimumRetransmitSeconds = 0.2

    /// A model for hidden states of `hiddenSize` over `network` with the wire's limits.
    public init(network: NetworkProfile, hiddenSize: Int, limits: WireLimits = WireLimits()) {
        self.network = network
        self.hiddenSize = hiddenSize
        self.limits = limits
        headerBytes = ActivationEncoding.allCases.map(Self.requestHeaderBytes)
    }

    /// Bytes of a forward request carrying `rows` rows in `encoding`, as the wire encodes it.
    public func requestBytes(rows: Int, encoding: ActivationEncoding) -> Int {
        let rowBytes = encoding.rowByteCount(hiddenSize: hiddenSize) ?? hiddenSize * 4
        return headerBytes[Int(encoding.rawValue)] + rows * rowBytes + Self.transportOverheadBytes
    }

    /// Bytes of a result message with one row, as the wire encodes it.
    public var resultBytes: Int {
        let result = WireMessage.result(.init(sessionID: 1, requestID: 1, startPosition: 0,
                                              rows: [.init(token: .init(tokenID: 0, logprob: 0))]))
        return ((try? WireEncoder(limits: limits).encode(result))?.count ?? 64) + Self.transportOverheadBytes
    }

    /// Bytes a forward request spends beyond its activation rows (measured by encoding one).
    static func requestHeaderBytes(_ encoding: ActivationEncoding) -> Int {
        let hidden = 32
        let rowBytes = encoding.rowByteCount(hiddenSize: hidden) ?? hidden * 4
        guard let activations = try? EncodedActivations(encoding: encoding, rows: 1, hiddenSize: hidden,
                                                        payload: [UInt8](repeating: 0, count: rowBytes)),
              let bytes = try? WireEncoder().encode(.step(.init(sessionID: 1, requestID: 1, startPosition: 0, activations: activations)))
        else { return 64 }
        return bytes.count - rowBytes
    }

    // No term for opening a connection: ZeroMQ's greeting, CURVE's HELLO/WELCOME and
    // INITIATE/READY and the split's hello cost four round trips (measured over an emulated
    // 600 ms link when every generation opened one: 4.4 round trips above the prediction), but
    // `SplitGenerator` keeps its connections open, so a running edge pays them once per cloud
    // node and worker, not per request.

    /// One decode step: a request with one row up, a result down, one round trip.
    public func decodeSeconds(encoding: ActivationEncoding) -> Double {
        exchangeSeconds(upBytes: requestBytes(rows: 1, encoding: encoding), downBytes: resultBytes)
    }

    /// The prompt's rows, in as many messages as the limits require, each waiting for its reply
    /// (as `SplitGenerator` sends them).
    public func prefillSeconds(rows: Int, encoding: ActivationEncoding) -> Double {
        guard rows > 0 else { return 0 }
        let rowBytes = encoding.rowByteCount(hiddenSize: hiddenSize) ?? hiddenSize * 4
        let perMessage = max(1, min(limits.maxRowsPerMessage, (limits.maxMessageBytes - 256) / max(1, rowBytes)))
        var remaining = rows
        var seconds = 0.0
        while remaining > 0 {
            let chunk = min(perMessage, remaining)
            seconds += exchangeSeconds(upBytes: requestBytes(rows: chunk, encoding: encoding), downBytes: resultBytes)
            remaining -= chunk
        }
        return seconds
    }

    /// A request/reply: the round trip, both serialisation delays, and the expected stall of a
    /// retransmission when a packet is lost.
    public func exchangeSeconds(upBytes: Int, downBytes: Int) -> Double {
        let serialisation = Double(upBytes) * 8 / network.uplinkBitsPerSecond + Double(downBytes) * 8 / network.downlinkBitsPerSecond
        let packets = Double((upBytes + Self.packetPayloadBytes - 1) / Self.packetPayloadBytes
            + (downBytes + Self.packetPayloadBytes - 1) / Self.packetPayloadBytes)
        let anyLost = 1 - Foundation.pow(1 - network.lossRate, packets)
        let stall = anyLost * max(Self.minimumRetransmitSeconds, 2 * network.roundTripSeconds)
        return network.roundTripSeconds + serialisation + stall
    }
}
