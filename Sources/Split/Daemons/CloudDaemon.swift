import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// What `cloud-node serve` runs, as values: the tail of the model, the server and its metrics
/// endpoint.
public struct CloudDaemonConfiguration: Sendable {
    /// The model file (GGUF or a safetensors directory).
    public var modelPath: String
    /// The lowest split layer edges may use: layers [this, L) and the head are loaded.
    public var minSplitLayer: Int
    /// KV cache budget over all sessions, bytes.
    public var memoryBudgetBytes: Int
    /// Sockets, keys, allow-list, batching.
    public var server: CloudServerConfiguration
    /// Where `/metrics`, `/health` and `/ready` are served; nil serves none.
    public var metricsHost: String
    public var metricsPort: Int?

    public init(modelPath: String, minSplitLayer: Int = 0, memoryBudgetBytes: Int, server: CloudServerConfiguration,
                metricsHost: String = "0.0.0.0", metricsPort: Int? = nil) {
        self.modelPath = modelPath
        self.minSplitLayer = minSplitLayer
        self.memoryBudgetBytes = memoryBudgetBytes
        self.server = server
        self.metricsHost = metricsHost
        self.metricsPort = metricsPort
    }
}

/// The cloud daemon built from its configuration: the server, started, and the service group
/// that runs it until a graceful shutdown (SIGTERM/SIGINT), then stops it.
public struct CloudDaemon: Sendable {
    public let server: CloudServer
    /// The file's SHA-256, which edges must name in their hello.
    public let identity: SHA256Digest
    /// The layers this node computes.
    public let layers: Range<Int>
    public let group: ServiceGroup

    /// Loads layers [minSplitLayer, L) and the head, binds the server's endpoints and starts it.
    /// - Throws: `ModelError` for a bad file or split layer, socket and key errors.
    public static func build(_ configuration: CloudDaemonConfiguration, logger: Logger,
                             shutdownSignals: [UnixSignal] = [.sigterm, .sigint]) throws -> CloudDaemon {
        let file = try ModelFile(path: configuration.modelPath)
        let layerCount = file.configuration.layerCount
        guard (0...layerCount).contains(configuration.minSplitLayer) else {
            throw ModelError.invalidConfiguration("the lowest split layer \(configuration.minSplitLayer) is outside 0…\(layerCount)")
        }
        let tail = try file.load(.init(layers: configuration.minSplitLayer..<layerCount, embedding: false, head: true))
        let identity = try file.identity()
        let store = CloudSessionStore(model: tail, modelIdentity: identity, memoryBudgetBytes: configuration.memoryBudgetBytes)
        let server = try CloudServer(configuration: configuration.server, store: store, logger: logger)
        try server.start()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: ThreadedService { server.stop() })]
        if let port = configuration.metricsPort {
            services.append(.init(service: MetricsServer.buildApplication(
                host: configuration.metricsHost, port: port, registry: server.metrics.registry,
                ready: { server.isRunning }, logger: logger)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: shutdownSignals,
                                                      logger: logger))
        return CloudDaemon(server: server, identity: identity, layers: tail.layers, group: group)
    }
}
