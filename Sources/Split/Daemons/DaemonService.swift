import ServiceLifecycle

/// A daemon part that runs on its own threads (a ZeroMQ server, a worker pool) as a
/// `Service`: started when it was built, it waits for the group's graceful shutdown (SIGTERM,
/// SIGINT, or `ServiceGroup.triggerGracefulShutdown()`) and then stops its threads.
struct ThreadedService: Service {
    let stop: @Sendable () -> Void

    func run() async throws {
        // Cancellation (another service failed) ends it the same way as a graceful shutdown.
        try? await gracefulShutdown()
        stop()
    }
}
