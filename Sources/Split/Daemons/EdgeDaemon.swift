import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// What `edge-node serve` runs, as values: the completion service, the robot policy service,
/// the client sockets and the HTTP endpoint.
public struct EdgeDaemonConfiguration: Sendable {
    /// The completion service (model, split, cloud link, selection, re-planning).
    public var service: EdgeService.Configuration
    /// The robot policy service (`act` requests), when the edge serves one.
    public var policy: PolicyService.Configuration?
    /// ZeroMQ endpoints of the client socket API (`ipc://…`, `tcp://127.0.0.1:…`).
    public var listen: [String]
    /// The OpenAI-compatible HTTP endpoint; nil serves none.
    public var http: OpenAIServerConfiguration?

    public init(service: EdgeService.Configuration, policy: PolicyService.Configuration? = nil, listen: [String],
                http: OpenAIServerConfiguration? = nil) {
        self.service = service
        self.policy = policy
        self.listen = listen
        self.http = http
    }
}

/// The edge daemon built from its configuration: its parts, started, and the service group
/// that runs them until a graceful shutdown (SIGTERM/SIGINT), then stops them in reverse order.
public struct EdgeDaemon: Sendable {
    public let service: EdgeService
    public let policy: PolicyService?
    public let sockets: ClientSocketServer<EdgeService>
    public let group: ServiceGroup

    /// Loads the models, starts the workers and binds the client sockets.
    /// - Throws: model, key and socket errors naming the problem (nothing is left running).
    public static func build(_ configuration: EdgeDaemonConfiguration, logger: Logger,
                             shutdownSignals: [UnixSignal] = [.sigterm, .sigint]) throws -> EdgeDaemon {
        let policy = try configuration.policy.map { try PolicyService(configuration: $0, logger: logger) }
        let service: EdgeService
        do {
            service = try EdgeService(configuration: configuration.service, logger: logger)
        } catch {
            policy?.stop()
            throw error
        }
        let handler = ClientRequestHandler(service: service, status: { service.status() }, policy: policy)
        let sockets: ClientSocketServer<EdgeService>
        do {
            sockets = ClientSocketServer(context: try ZMQContext(), endpoints: configuration.listen, handler: handler)
            try sockets.start()
        } catch {
            service.stop()
            policy?.stop()
            throw error
        }
        // Stopped last (services stop in reverse order): the sockets first, then the workers.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ThreadedService {
                service.stop()
                policy?.stop()
            }),
            .init(service: ThreadedService { sockets.stop() }),
        ]
        if let http = configuration.http {
            services.append(.init(service: OpenAIServer.buildApplication(
                configuration: http, service: service, status: { service.status() },
                metrics: service.metrics.registry, logger: logger)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: shutdownSignals,
                                                      logger: logger))
        return EdgeDaemon(service: service, policy: policy, sockets: sockets, group: group)
    }
}
