/// Where and how the edge node's OpenAI-compatible HTTP endpoint listens.
public struct OpenAIServerConfiguration: Sendable, Equatable {
    /// Address to bind; loopback by default, since clients are local.
    public var host: String
    /// Port to bind; 0 picks a free one (reported through `onServerRunning`).
    public var port: Int
    /// Request bounds; `limits.maxMessageBytes` is the largest body accepted (413 beyond).
    public var limits: ClientAPILimits
    /// Sent in the `Server` header.
    public var serverName: String?
    /// A connection with no complete request head (or no request at all) for this long is
    /// closed: a client that dribbles its headers (slowloris) holds a connection this long at most.
    public var idleTimeoutSeconds: Double
    /// A request whose body has not fully arrived this long after its head is answered 408.
    public var bodyTimeoutSeconds: Double

    /// A configuration listening on `host:port` (default 127.0.0.1:8080).
    public init(host: String = "127.0.0.1", port: Int = 8080, limits: ClientAPILimits = .standard,
                serverName: String? = "split-edge", idleTimeoutSeconds: Double = 30, bodyTimeoutSeconds: Double = 30) {
        self.host = host
        self.port = port
        self.limits = limits
        self.serverName = serverName
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
    }
}
