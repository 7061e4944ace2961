import Hummingbird
import Logging
import Prometheus

/// The HTTP side of a daemon that has no other: `GET /metrics` (Prometheus text format),
/// `GET /health` (the process answers) and `GET /ready` (it can take work). The cloud node runs
/// it on `--http-port`; the edge node adds the same `/metrics` route to its OpenAI endpoint.
public enum MetricsServer {
    /// Builds the application; the daemon runs it with `runService()`, tests inside a task.
    /// - Parameters:
    ///   - ready: whether the daemon takes work now (a readiness probe's answer).
    ///   - onServerRunning: called with the bound port once listening (useful with port 0).
    public static func buildApplication(
        host: String, port: Int, registry: PrometheusCollectorRegistry,
        ready: @escaping @Sendable () -> Bool = { true }, logger: Logger? = nil,
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        addMetricsRoute(to: router, registry: registry)
        router.get("/health") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("/ready") { _, _ in
            let isReady = ready()
            return Response(status: isReady ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: isReady ? "ready\n" : "not ready\n")))
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "split"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger ?? Logger(label: "split.metrics"))
    }

    /// Adds `GET /metrics` serving `registry` in the Prometheus text exposition format.
    public static func addMetricsRoute<Context: RequestContext>(to router: Router<Context>, registry: PrometheusCollectorRegistry) {
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }
}
