import ArgumentParser
import Foundation
import Logging
import Split

/// `cloud-node serve`: loads the model's tail and serves edge nodes over ZeroMQ.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve edge nodes.")

    @Option(name: .long, help: "Model file (.gguf) or Hugging Face directory; must be the edge's model.")
    var model: String = "models/split-code-7m.gguf"

    @Option(name: .long, help: "ZeroMQ endpoint to bind (repeatable).")
    var bind: [String] = ["tcp://127.0.0.1:5555"]

    @Option(name: .long, help: "This node's CURVE secret key file (make one with `cloud-node keygen`).")
    var key: String?

    @Option(name: .long, help: "File of edge public keys allowed to connect (repeatable).")
    var allow: [String] = []

    @Flag(name: .long, help: "Serve without CURVE encryption or authentication (tests only).")
    var insecure = false

    @Option(name: .long, help: "Lowest split layer edges may use; layers below it are not loaded.")
    var minSplitLayer: Int = 0

    @Option(name: .long, help: "KV-cache budget over all sessions, in MiB (least recently used sessions are evicted past it).")
    var memoryBudgetMb: Int = 1024

    @Option(name: .long, help: "Threads for the model's kernels (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Sessions whose requests share one forward pass (continuous batching; 1 = one request at a time).")
    var maxBatchSessions: Int = 64

    @Option(name: .long, help: "Prompts longer than this run in chunks of this many positions, so they do not stall others' decode steps.")
    var prefillChunkRows: Int = 64

    @Option(name: .long, help: "How long a pass may wait for the next requests of the sessions it just answered, while they keep arriving (µs; 0 = never; at most a quarter of a pass).")
    var gatherUs: Int = 1000

    @Option(name: .long, help: "Port for GET /metrics (Prometheus), /health and /ready (0 = off).")
    var httpPort: Int = 0

    @Option(name: .long, help: "Address the HTTP port listens on (0.0.0.0 in a container, so probes and scrapers reach it).")
    var httpHost: String = "127.0.0.1"

    func validate() throws {
        if !insecure && key == nil { throw ValidationError("give --key (CURVE secret key file) or --insecure") }
        if !insecure && allow.isEmpty { throw ValidationError("give --allow with the edges' public keys") }
        guard memoryBudgetMb > 0 else { throw ValidationError("--memory-budget-mb must be positive") }
        guard maxBatchSessions > 0, prefillChunkRows > 0 else {
            throw ValidationError("--max-batch-sessions and --prefill-chunk-rows must be positive")
        }
        guard (0...CloudServerConfiguration.maxGatherQuietMicroseconds).contains(gatherUs) else {
            throw ValidationError("--gather-us must be in 0…\(CloudServerConfiguration.maxGatherQuietMicroseconds)")
        }
        guard (0...65_535).contains(httpPort) else { throw ValidationError("--http-port must be within 0…65535") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "split.cloud")
        if let threads { Parallel.setThreads(threads) }
        ProcessMemory.returnLargeFreesToSystem()
        let keys = try key.map { try CurveKeyPair.read(secretFile: $0) }
        var allowed: Set<CurveKey> = []
        for path in allow { allowed.formUnion(try AllowList.read(path)) }
        let daemon = try CloudDaemon.build(
            CloudDaemonConfiguration(
                modelPath: model, minSplitLayer: minSplitLayer, memoryBudgetBytes: memoryBudgetMb << 20,
                server: .init(endpoints: bind, serverKeys: insecure ? nil : keys, allowedClients: allowed,
                              maxBatchSessions: maxBatchSessions, prefillChunkRows: prefillChunkRows,
                              gatherQuietMicroseconds: gatherUs),
                metricsHost: httpHost, metricsPort: httpPort > 0 ? httpPort : nil),
            logger: logger)
        let server = daemon.server
        // Key rotation and revocation without a restart: SIGHUP re-reads the allow-list files.
        let allowFiles = allow
        let reload = ReloadSignal.onHangUp {
            do {
                var keys: Set<CurveKey> = []
                for path in allowFiles { keys.formUnion(try AllowList.read(path)) }
                server.setAllowedClients(keys)
                logger.info("allow-list reloaded", metadata: ["allowed-edges": "\(keys.count)"])
            } catch {
                logger.error("allow-list not reloaded; the previous one stays", metadata: ["error": "\(error)"])
            }
        }
        defer { reload.cancel() }
        logger.info("serving", metadata: [
            "model": "\(model)", "identity": "\(daemon.identity.hex.prefix(16))", "layers": "\(daemon.layers)",
            "endpoints": "\(server.boundEndpoints)", "allowed-edges": "\(allowed.count)"])
        try await daemon.group.run()  // returns after SIGINT/SIGTERM, the server stopped
        logger.info("stopped")
    }
}
