import Foundation
import ServiceLifecycle

/// A daemon part that runs on its own threads (a ZeroMQ server, a worker pool) as a
/// `Service`: started when it was built, it waits for the group's graceful shutdown (SIGTERM,
/// SIGINT, or `ServiceGroup.triggerGracefulShutdown()`) and then stops its threads.
struct ThreadedService: Service {
    let stop: @Sendable () -> Void

    func run() async throws {
        // Cancellation (another service failed) ends it the same way as a graceful shutdown.
        try? await gracefulShutdown()
        // `stop` blocks until threads end (a worker finishing its token, a socket loop): on a
        // thread of its own, not one of the few the concurrency pool has.
        let stop = self.stop
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                stop()
                done.resume()
            }
        }
    }
}
