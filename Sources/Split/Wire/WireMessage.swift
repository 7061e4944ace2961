/// Every message edge and cloud nodes exchange. `WireEncoder` turns one into bytes and
/// `WireDecoder` back; docs/PROTOCOL.md gives each layout byte by byte.
public enum WireMessage: Sendable, Equatable {
    /// Edge → cloud, first on a connection: who we are and what we want.
    case hello(Hello)
    /// Cloud → edge: what the cloud accepted and its limits.
    case helloAck(HelloAck)
    /// Edge → cloud: hidden states of a prompt (or of positions to rebuild a session).
    case prefill(ForwardRequest)
    /// Edge → cloud: hidden states of newly generated (or drafted) positions.
    case step(ForwardRequest)
    /// Cloud → edge: the tokens chosen for a prefill or step.
    case result(ForwardResult)
    /// Edge → cloud: roll a session's KV cache back to a length.
    case truncate(Truncate)
    /// Edge → cloud: forget a session.
    case close(sessionID: UInt64)
    /// Either way: liveness and round-trip time.
    case heartbeat(Heartbeat)
    /// Either way: a request failed.
    case error(ErrorReport)
    /// Cloud → edge: the session's cache is gone or short; send its positions again.
    case rebuildNeeded(RebuildNeeded)
    /// Cloud → edge: a robot policy's action chunk for a prefill (instead of `result`).
    case actions(ActionResult)

    /// The type code written in the header.
    public var type: WireMessageType {
        switch self {
        case .hello: return .hello
        case .helloAck: return .helloAck
        case .prefill: return .prefill
        case .step: return .step
        case .result: return .result
        case .truncate: return .truncate
        case .close: return .close
        case .heartbeat: return .heartbeat
        case .error: return .error
        case .rebuildNeeded: return .rebuildNeeded
        case .actions: return .actions
        }
    }
}

extension WireMessage {
    /// The request of a prefill or step; nil for every other message.
    public var forwardRequest: ForwardRequest? {
        switch self {
        case .prefill(let request), .step(let request): return request
        default: return nil
        }
    }
}

extension WireMessage {
    /// The edge's opening: protocol version, model identity, split layer, encoding, name.
    public struct Hello: Sendable, Equatable {
        /// The highest protocol version the edge speaks.
        public var protocolVersion: UInt8
        /// SHA-256 of the weights file; the cloud refuses a different model.
        public var modelIdentity: SHA256Digest
        /// The first layer the cloud runs (the edge runs layers [0, splitLayer)).
        public var splitLayer: UInt32
        /// How the edge will encode hidden states.
        public var activationEncoding: ActivationEncoding
        /// A human-readable name of the edge, for logs.
        public var clientName: String

        /// Makes a hello.
        public init(protocolVersion: UInt8 = WireFormat.version, modelIdentity: SHA256Digest, splitLayer: UInt32,
                    activationEncoding: ActivationEncoding, clientName: String) {
            self.protocolVersion = protocolVersion
            self.modelIdentity = modelIdentity
            self.splitLayer = splitLayer
            self.activationEncoding = activationEncoding
            self.clientName = clientName
        }
    }

    /// The cloud's answer to a hello.
    public struct HelloAck: Sendable, Equatable {
        /// The protocol version both will use.
        public var protocolVersion: UInt8
        /// The split layer accepted.
        public var splitLayer: UInt32
        /// The activation encoding accepted.
        public var activationEncoding: ActivationEncoding
        /// The layers the cloud runs, [lowerBound, upperBound).
        public var cloudLayers: Range<UInt32>
        /// The model's hidden size: every activation row has this many values.
        public var hiddenSize: UInt32
        /// What the cloud accepts in one message.
        public var limits: WireLimits

        /// Makes an acknowledgement.
        public init(protocolVersion: UInt8 = WireFormat.version, splitLayer: UInt32, activationEncoding: ActivationEncoding,
                    cloudLayers: Range<UInt32>, hiddenSize: UInt32, limits: WireLimits) {
            self.protocolVersion = protocolVersion
            self.splitLayer = splitLayer
            self.activationEncoding = activationEncoding
            self.cloudLayers = cloudLayers
            self.hiddenSize = hiddenSize
            self.limits = limits
        }
    }

    /// What a prefill or step asks the cloud for, beyond the chosen token of the last row.
    public struct ForwardFlags: OptionSet, Sendable, Hashable {
        /// The flag bits as sent.
        public let rawValue: UInt8
        /// Makes flags from their wire bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// A result row for every position, not only the last (speculative verification).
        public static let allRows = ForwardFlags(rawValue: 1 << 0)
        /// Each result row also carries the cloud's whole sampling distribution (after
        /// temperature, top-k and top-p), for the speculative-sampling acceptance rule.
        public static let distributions = ForwardFlags(rawValue: 1 << 1)
        /// Every bit this version defines; others are refused.
        public static let known: ForwardFlags = [.allRows, .distributions]
    }

    /// Hidden states at the split layer for `positionCount` consecutive positions of a session.
    public struct ForwardRequest: Sendable, Equatable {
        /// The session (one KV cache on the cloud).
        public var sessionID: UInt64
        /// Echoed in the result, so replies can be matched to requests.
        public var requestID: UInt64
        /// Position of the first row; the cloud's cache must hold exactly this many positions.
        public var startPosition: UInt32
        /// What to return.
        public var flags: ForwardFlags
        /// How many top-k alternatives to return per row (0 for none).
        public var topK: UInt16
        /// How the cloud picks each row's token.
        public var sampling: Sampling
        /// The hidden states, one row per position.
        public var activations: EncodedActivations

        /// Number of positions carried (the activation rows).
        public var positionCount: Int { activations.rows }

        /// Makes a request.
        public init(sessionID: UInt64, requestID: UInt64, startPosition: UInt32, flags: ForwardFlags = [],
                    topK: UInt16 = 0, sampling: Sampling = .greedy, activations: EncodedActivations) {
            self.sessionID = sessionID
            self.requestID = requestID
            self.startPosition = startPosition
            self.flags = flags
            self.topK = topK
            self.sampling = sampling
            self.activations = activations
        }
    }

    /// Sampling settings for the token the cloud picks for the last row (every row with
    /// `allRows`). The edge draws `uniform` from its seeded generator and sends it, so the cloud
    /// keeps no random state and a retried or failed-over step picks the same token.
    public struct Sampling: Sendable, Equatable {
        /// 0 means greedy.
        public var temperature: Float
        /// 0 means no top-k truncation.
        public var topK: UInt32
        /// 1 means no nucleus truncation.
        public var topP: Float
        /// The draw in [0, 1) used to pick the token.
        public var uniform: Float

        /// Greedy: the most likely token.
        public static let greedy = Sampling(temperature: 0, topK: 0, topP: 1, uniform: 0)

        /// Makes sampling settings.
        public init(temperature: Float, topK: UInt32, topP: Float, uniform: Float) {
            self.temperature = temperature
            self.topK = topK
            self.topP = topP
            self.uniform = uniform
        }
    }

    /// A token id with its log-probability.
    public struct TokenLogprob: Sendable, Equatable {
        /// Vocabulary index.
        public var tokenID: UInt32
        /// Natural-log probability under the cloud's distribution.
        public var logprob: Float

        /// Makes an entry.
        public init(tokenID: UInt32, logprob: Float) {
            self.tokenID = tokenID
            self.logprob = logprob
        }
    }

    /// The cloud's choice at one position.
    public struct ResultRow: Sendable, Equatable {
        /// The chosen token and its log-probability.
        public var token: TokenLogprob
        /// The most likely tokens, best first (empty unless asked for).
        public var topK: [TokenLogprob]
        /// The sampling distribution over the whole vocabulary (only with `distributions`).
        public var probabilities: [Float]?

        /// Makes a row.
        public init(token: TokenLogprob, topK: [TokenLogprob] = [], probabilities: [Float]? = nil) {
            self.token = token
            self.topK = topK
            self.probabilities = probabilities
        }
    }

    /// The answer to a prefill or step.
    public struct ForwardResult: Sendable, Equatable {
        /// The session.
        public var sessionID: UInt64
        /// The request answered.
        public var requestID: UInt64
        /// The position of the first row.
        public var startPosition: UInt32
        /// One row per position asked for (the last only, unless `allRows` was set).
        public var rows: [ResultRow]

        /// Makes a result.
        public init(sessionID: UInt64, requestID: UInt64, startPosition: UInt32, rows: [ResultRow]) {
            self.sessionID = sessionID
            self.requestID = requestID
            self.startPosition = startPosition
            self.rows = rows
        }
    }

    /// Roll a session's cache back so that it holds positions [0, length).
    public struct Truncate: Sendable, Equatable {
        /// The session.
        public var sessionID: UInt64
        /// Positions kept.
        public var length: UInt32

        /// Makes a truncate.
        public init(sessionID: UInt64, length: UInt32) {
            self.sessionID = sessionID
            self.length = length
        }
    }

    /// A heartbeat: a ping, or the pong that echoes its timestamp.
    public struct Heartbeat: Sendable, Equatable {
        /// Ping or pong.
        public enum Kind: UInt8, Sendable {
            /// Asks for a pong.
            case ping = 0
            /// Answers a ping, echoing its timestamp.
            case pong = 1
        }
        /// Ping or pong.
        public var kind: Kind
        /// The pinger's monotonic clock in nanoseconds; a pong returns the ping's value.
        public var timestampNanoseconds: UInt64

        /// Makes a heartbeat.
        public init(kind: Kind, timestampNanoseconds: UInt64) {
            self.kind = kind
            self.timestampNanoseconds = timestampNanoseconds
        }
    }

    /// Why a request failed.
    public enum ErrorCode: UInt16, Sendable, CaseIterable {
        /// The frame did not decode.
        case malformedMessage = 1
        /// The header's protocol version is not spoken here.
        case unsupportedVersion = 2
        /// No such session on this node.
        case unknownSession = 3
        /// A size or count is past the limits.
        case limitExceeded = 4
        /// The hello's model identity or split layer does not match the cloud's.
        case modelMismatch = 5
        /// The session must be sent again from its stored hidden states.
        case rebuildRequired = 6
        /// Memory budget or queue full; retry later or elsewhere.
        case overloaded = 7
        /// A failure inside the node.
        case `internal` = 8
    }

    /// An error reply. Session and request are 0 when the failure is not about one.
    public struct ErrorReport: Sendable, Equatable {
        /// Longest message kept, in UTF-8 bytes; longer ones are cut at a character boundary.
        public static let maxMessageBytes = 1024
        /// What went wrong.
        public var code: ErrorCode
        /// The session concerned, or 0.
        public var sessionID: UInt64
        /// The request concerned, or 0.
        public var requestID: UInt64
        /// A sentence for a human.
        public var message: String

        /// Makes a report, shortening `message` to `maxMessageBytes`.
        public init(code: ErrorCode, sessionID: UInt64 = 0, requestID: UInt64 = 0, message: String) {
            self.code = code
            self.sessionID = sessionID
            self.requestID = requestID
            let utf8 = Array(message.utf8)
            guard utf8.count > Self.maxMessageBytes else {
                self.message = message
                return
            }
            var cut = Self.maxMessageBytes
            // Back up over UTF-8 continuation bytes so no scalar is split.
            while cut > 0, utf8[cut] & 0xC0 == 0x80 { cut -= 1 }
            self.message = String(decoding: utf8[..<cut], as: UTF8.self)
        }
    }

    /// A robot policy's answer to a prefill: `horizon` actions of `dimensions` values each, read
    /// by the action head from the last position.
    public struct ActionResult: Sendable, Equatable {
        /// The session.
        public var sessionID: UInt64
        /// The request answered.
        public var requestID: UInt64
        /// Actions in the chunk.
        public var horizon: UInt32
        /// Values per action.
        public var dimensions: UInt32
        /// `horizon × dimensions` values, row-major.
        public var values: [Float]

        /// Makes a result; `values.count` must be `horizon × dimensions` (the encoder checks).
        public init(sessionID: UInt64, requestID: UInt64, horizon: UInt32, dimensions: UInt32, values: [Float]) {
            self.sessionID = sessionID
            self.requestID = requestID
            self.horizon = horizon
            self.dimensions = dimensions
            self.values = values
        }
    }

    /// The cloud lost (part of) a session's cache: resend positions from `cachedLength` on.
    public struct RebuildNeeded: Sendable, Equatable {
        /// The session.
        public var sessionID: UInt64
        /// The request that found the cache missing, or 0.
        public var requestID: UInt64
        /// Positions the cloud still holds (usually 0).
        public var cachedLength: UInt32

        /// Makes a notice.
        public init(sessionID: UInt64, requestID: UInt64, cachedLength: UInt32) {
            self.sessionID = sessionID
            self.requestID = requestID
            self.cachedLength = cachedLength
        }
    }
}
