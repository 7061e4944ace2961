import CZMQ

/// The ZeroMQ socket types Split uses.
public enum ZMQSocketType: Sendable, CaseIterable {
    /// `ZMQ_PAIR`, `ZMQ_PUB`, `ZMQ_SUB`, `ZMQ_REQ`, `ZMQ_REP`, `ZMQ_DEALER`, `ZMQ_ROUTER`,
    /// `ZMQ_PULL`, `ZMQ_PUSH`.
    case pair, publish, subscribe, request, reply, dealer, router, pull, push

    /// The libzmq constant (`ZMQ_ROUTER`, …).
    var rawValue: Int32 {
        switch self {
        case .pair: return ZMQ_PAIR
        case .publish: return ZMQ_PUB
        case .subscribe: return ZMQ_SUB
        case .request: return ZMQ_REQ
        case .reply: return ZMQ_REP
        case .dealer: return ZMQ_DEALER
        case .router: return ZMQ_ROUTER
        case .pull: return ZMQ_PULL
        case .push: return ZMQ_PUSH
        }
    }
}

/// Flags for one send or receive.
public struct ZMQFlags: OptionSet, Sendable {
    /// libzmq's flag bits.
    public let rawValue: Int32
    /// Makes flags from libzmq's bits.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// Return at once instead of blocking (`ZMQ_DONTWAIT`).
    public static let dontWait = ZMQFlags(rawValue: ZMQ_DONTWAIT)
    /// More frames of the same message follow (`ZMQ_SNDMORE`); set by the multipart calls.
    public static let sendMore = ZMQFlags(rawValue: ZMQ_SNDMORE)
}

/// Every socket option Split sets, in one place. Times are milliseconds; `-1` means "forever"
/// where libzmq allows it.
public enum ZMQSocketOption: Sendable, Equatable {
    /// How long unsent messages are kept after `close()` (`ZMQ_LINGER`). Sockets start at 0.
    case linger(milliseconds: Int32)
    /// Receive timeout (`ZMQ_RCVTIMEO`); a receive that times out returns nil.
    case receiveTimeout(milliseconds: Int32)
    /// Send timeout (`ZMQ_SNDTIMEO`); a send that times out returns false.
    case sendTimeout(milliseconds: Int32)
    /// The identity a ROUTER peer sees for this socket (`ZMQ_ROUTING_ID`, 1–255 bytes).
    case routingID([UInt8])
    /// Queue limit in messages for receiving (`ZMQ_RCVHWM`).
    case receiveHighWaterMark(Int32)
    /// Queue limit in messages for sending (`ZMQ_SNDHWM`).
    case sendHighWaterMark(Int32)
    /// Largest inbound message in bytes; libzmq drops the peer that sends a larger one
    /// (`ZMQ_MAXMSGSIZE`, -1 for no limit).
    case maxMessageSize(bytes: Int64)
    /// Interval between ZMTP heartbeat PINGs (`ZMQ_HEARTBEAT_IVL`).
    case heartbeatInterval(milliseconds: Int32)
    /// How long to wait for a PONG before closing the connection (`ZMQ_HEARTBEAT_TIMEOUT`).
    case heartbeatTimeout(milliseconds: Int32)
    /// How long the peer should wait for traffic before it gives up on us (`ZMQ_HEARTBEAT_TTL`).
    case heartbeatTTL(milliseconds: Int32)
    /// Make this socket a CURVE server (`ZMQ_CURVE_SERVER`).
    case curveServer(Bool)
    /// This socket's long-term CURVE public key (`ZMQ_CURVE_PUBLICKEY`).
    case curvePublicKey(CurveKey)
    /// This socket's long-term CURVE secret key (`ZMQ_CURVE_SECRETKEY`).
    case curveSecretKey(CurveKey)
    /// The server's public key, which makes this socket a CURVE client (`ZMQ_CURVE_SERVERKEY`).
    case curveServerKey(CurveKey)
    /// The ZAP domain passed to the authenticator (`ZMQ_ZAP_DOMAIN`).
    case zapDomain(String)
    /// Make a ROUTER fail with `EHOSTUNREACH` for unknown peers instead of dropping
    /// (`ZMQ_ROUTER_MANDATORY`).
    case routerMandatory(Bool)
    /// Queue messages only to completed connections (`ZMQ_IMMEDIATE`).
    case immediate(Bool)
    /// First delay before reconnecting (`ZMQ_RECONNECT_IVL`).
    case reconnectInterval(milliseconds: Int32)
    /// Upper bound of the exponential reconnect back-off (`ZMQ_RECONNECT_IVL_MAX`).
    case reconnectIntervalMax(milliseconds: Int32)
    /// Subscribe a SUB socket to messages starting with these bytes (`ZMQ_SUBSCRIBE`).
    case subscribe([UInt8])

    /// The libzmq option name and value as bytes, as `zmq_setsockopt` wants them.
    var encoded: (name: Int32, label: String, value: [UInt8]) {
        switch self {
        case .linger(let ms): return (ZMQ_LINGER, "ZMQ_LINGER", Self.bytes(of: ms))
        case .receiveTimeout(let ms): return (ZMQ_RCVTIMEO, "ZMQ_RCVTIMEO", Self.bytes(of: ms))
        case .sendTimeout(let ms): return (ZMQ_SNDTIMEO, "ZMQ_SNDTIMEO", Self.bytes(of: ms))
        case .routingID(let id): return (ZMQ_ROUTING_ID, "ZMQ_ROUTING_ID", id)
        case .receiveHighWaterMark(let n): return (ZMQ_RCVHWM, "ZMQ_RCVHWM", Self.bytes(of: n))
        case .sendHighWaterMark(let n): return (ZMQ_SNDHWM, "ZMQ_SNDHWM", Self.bytes(of: n))
        case .maxMessageSize(let n): return (ZMQ_MAXMSGSIZE, "ZMQ_MAXMSGSIZE", Self.bytes(of: n))
        case .heartbeatInterval(let ms): return (ZMQ_HEARTBEAT_IVL, "ZMQ_HEARTBEAT_IVL", Self.bytes(of: ms))
        case .heartbeatTimeout(let ms): return (ZMQ_HEARTBEAT_TIMEOUT, "ZMQ_HEARTBEAT_TIMEOUT", Self.bytes(of: ms))
        case .heartbeatTTL(let ms): return (ZMQ_HEARTBEAT_TTL, "ZMQ_HEARTBEAT_TTL", Self.bytes(of: ms))
        case .curveServer(let on): return (ZMQ_CURVE_SERVER, "ZMQ_CURVE_SERVER", Self.bytes(of: Int32(on ? 1 : 0)))
        case .curvePublicKey(let key): return (ZMQ_CURVE_PUBLICKEY, "ZMQ_CURVE_PUBLICKEY", key.bytes)
        case .curveSecretKey(let key): return (ZMQ_CURVE_SECRETKEY, "ZMQ_CURVE_SECRETKEY", key.bytes)
        case .curveServerKey(let key): return (ZMQ_CURVE_SERVERKEY, "ZMQ_CURVE_SERVERKEY", key.bytes)
        case .zapDomain(let domain): return (ZMQ_ZAP_DOMAIN, "ZMQ_ZAP_DOMAIN", Array(domain.utf8))
        case .routerMandatory(let on): return (ZMQ_ROUTER_MANDATORY, "ZMQ_ROUTER_MANDATORY", Self.bytes(of: Int32(on ? 1 : 0)))
        case .immediate(let on): return (ZMQ_IMMEDIATE, "ZMQ_IMMEDIATE", Self.bytes(of: Int32(on ? 1 : 0)))
        case .reconnectInterval(let ms): return (ZMQ_RECONNECT_IVL, "ZMQ_RECONNECT_IVL", Self.bytes(of: ms))
        case .reconnectIntervalMax(let ms): return (ZMQ_RECONNECT_IVL_MAX, "ZMQ_RECONNECT_IVL_MAX", Self.bytes(of: ms))
        case .subscribe(let prefix): return (ZMQ_SUBSCRIBE, "ZMQ_SUBSCRIBE", prefix)
        }
    }

    /// The native-endian bytes of an integer option value.
    private static func bytes<T: FixedWidthInteger>(of value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }
}
