/// What a client learns from asking an edge node how it is: the `status` reply on the socket
/// API and the body of `GET /ready` on HTTP.
public struct ClientStatus: Sendable, Codable, Equatable {
    /// The model served (as in `GET /v1/models`).
    public var model: String
    /// Whether the node accepts completions now.
    public var ready: Bool
    /// Whether a cloud node is connected (false for an edge running alone).
    public var cloudConnected: Bool
    /// The cloud endpoint in use, when connected.
    public var cloudEndpoint: String?
    /// The strategy used when a request names none.
    public var defaultStrategy: String?
    /// Completions running now.
    public var activeRequests: Int
    /// Seconds since the node started.
    public var uptimeSeconds: Double
    /// Why the node is not ready, or any other note for an operator.
    public var message: String?
    /// Split counters since start: edge-answered tokens, drafts accepted, round trips.
    public var splitCounters: ProvenanceCounts?

    /// A status; only `model` and `ready` are required.
    public init(model: String, ready: Bool, cloudConnected: Bool = false, cloudEndpoint: String? = nil,
                defaultStrategy: String? = nil, activeRequests: Int = 0, uptimeSeconds: Double = 0, message: String? = nil) {
        self.model = model
        self.ready = ready
        self.cloudConnected = cloudConnected
        self.cloudEndpoint = cloudEndpoint
        self.defaultStrategy = defaultStrategy
        self.activeRequests = activeRequests
        self.uptimeSeconds = uptimeSeconds
        self.message = message
        splitCounters = nil
    }

    enum CodingKeys: String, CodingKey {
        case model, ready, message
        case cloudConnected = "cloud_connected"
        case cloudEndpoint = "cloud_endpoint"
        case defaultStrategy = "default_strategy"
        case activeRequests = "active_requests"
        case uptimeSeconds = "uptime_seconds"
        case splitCounters = "split_counters"
    }
}

extension FinishReason {
    /// The name the socket API sends: `length`, `stop`, `end_of_text` or `controller_stop`.
    public var wireName: String {
        switch self {
        case .length: return "length"
        case .stop: return "stop"
        case .endOfText: return "end_of_text"
        case .controllerStop: return "controller_stop"
        }
    }

    /// The name OpenAI clients expect: `length`, or `stop` for a stop string or end of text.
    public var openAIName: String { self == .length ? "length" : "stop" }

    /// The reason named `wireName`, or nil.
    public init?(wireName: String) {
        switch wireName {
        case "length": self = .length
        case "stop": self = .stop
        case "end_of_text": self = .endOfText
        case "controller_stop": self = .controllerStop
        default: return nil
        }
    }
}
