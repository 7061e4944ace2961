import Foundation
import Logging
import Split

/// Replays an editor session against a real edge daemon: the edge's HTTP server on loopback,
/// its workers running the model split at layer k against a cloud server (real sockets, CURVE)
/// behind the link emulator. Every request of the session is sent as a streamed `/infill`
/// twice, with prompt reuse (its slot's kept session continued) and without
/// (`cache_prompt: false`), in alternating order, for each strategy; requests go one after
/// another, each after the previous answer (a typist's pause is longer than a suggestion).
public struct EditorReplayBenchmark {
    public var modelPath: String
    public var session: EditorSession
    public var strategies: [String]
    public var splitLayer: Int
    /// The link between edge and cloud (40 ms round trip: 20 ms each way).
    public var link: LinkEmulatorConfiguration
    /// llama.vim's `n_predict` is 128; a line rarely needs more than this.
    public var maxTokens: Int
    public var workers: Int
    /// The edge's infill prompt layout (PSM, or SPM: suffix first).
    public var layout: FIMLayout

    public init(modelPath: String, session: EditorSession, strategies: [String], splitLayer: Int,
                link: LinkEmulatorConfiguration, maxTokens: Int = 32, workers: Int = 2, layout: FIMLayout = .prefixSuffixMiddle) {
        self.layout = layout
        self.modelPath = modelPath
        self.session = session
        self.strategies = strategies
        self.splitLayer = splitLayer
        self.link = link
        self.maxTokens = maxTokens
        self.workers = workers
    }

    /// One request of the replay.
    public struct Sample: Sendable, Codable {
        public var strategy: String
        public var reuse: Bool
        public var request: Int
        public var atLineEnd: Bool
        public var exchange: InfillExchange
    }

    /// Everything measured, and what the run was made of.
    public struct Result: Sendable, Codable {
        public var samples: [Sample]
        /// Heartbeat round trip over the emulated link (median, seconds).
        public var roundTripSeconds: Double
        /// Requests whose text differed with and without reuse (must be 0).
        public var textMismatches: Int
    }

    /// Runs the replay.
    /// - Throws: model, socket and daemon errors; `BenchmarkError` when a request fails.
    public func run(log: (String) -> Void = { _ in }) throws -> Result {
        let file = try ModelFile(path: modelPath)
        // The edge refuses /infill for a model without FIM tokens; say so before starting anything.
        guard let tokenizer = file.tokenizer else { throw ModelError.missingMetadata("tokenizer") }
        _ = try FIMTokens(tokenizer: tokenizer)
        let cloud = try LoopbackCloud(model: try file.load(), modelIdentity: try file.identity(), relay: EmulatedLink(link))
        defer { cloud.stop() }
        let roundTrip = try Self.heartbeatRoundTrip(cloud.link)
        log(String(format: "heartbeat round trip over the emulated link: %.1f ms", roundTrip * 1e3))

        let port = try Self.freePort()
        var quiet = Logger(label: "split.bench.editor")
        quiet.logLevel = .critical
        var service = EdgeService.Configuration(modelPath: modelPath, splitLayer: splitLayer, encoding: .f32, link: cloud.link,
                                                workers: workers)
        service.infillLayout = layout
        let daemon = try EdgeDaemon.build(
            EdgeDaemonConfiguration(service: service, listen: ["tcp://127.0.0.1:*"],
                                    http: OpenAIServerConfiguration(host: "127.0.0.1", port: Int(port))),
            logger: quiet, shutdownSignals: [])
        let running = Task { try await daemon.group.run() }
        defer {
            let stopped = DispatchSemaphore(value: 0)
            Task {
                await daemon.group.triggerGracefulShutdown()
                _ = try? await running.value
                stopped.signal()
            }
            stopped.wait()
        }
        try Self.waitUntilListening(port: port)

        var samples: [Sample] = []
        var mismatches = 0
        for (index, strategy) in strategies.enumerated() {
            // Warm-up: pages in the mapping and opens the cloud connections of both workers.
            for _ in 0..<workers { _ = try send(session.requests[0], strategy: strategy, slot: nil, port: port) }
            for (number, request) in session.requests.enumerated() {
                var pair: [Bool: InfillExchange] = [:]
                for reuse in number % 2 == 0 ? [true, false] : [false, true] {
                    pair[reuse] = try send(request, strategy: strategy, slot: reuse ? index : nil, port: port)
                }
                if pair[true]?.text != pair[false]?.text { mismatches += 1 }
                for (reuse, exchange) in pair {
                    samples.append(Sample(strategy: strategy, reuse: reuse, request: number, atLineEnd: request.atLineEnd,
                                          exchange: exchange))
                }
            }
            log("\(strategy): \(session.requests.count) requests with and without reuse")
        }
        return Result(samples: samples, roundTripSeconds: roundTrip, textMismatches: mismatches)
    }

    /// One streamed `/infill` of `request`: with reuse on `slot`, or without (`slot` nil).
    private func send(_ request: EditorSession.Request, strategy: String, slot: Int?, port: UInt16) throws -> InfillExchange {
        var body: [String: Any] = ["input_prefix": request.prefix, "input_suffix": request.suffix, "n_predict": maxTokens,
                                   "temperature": 0, "strategy": strategy, "cache_prompt": slot != nil]
        if let slot { body["id_slot"] = slot }
        return try InfillClient.infill(port: port, body: body)
    }

    /// The median of 50 heartbeats to the cloud over `link`.
    private static func heartbeatRoundTrip(_ link: EdgeLinkConfiguration) throws -> Double {
        let context = try ZMQContext()
        let probe = try CloudConnection(context: context, endpoint: link.endpoints[0], configuration: link)
        defer { probe.close() }
        _ = try probe.ping()
        return SampleStatistics.median(try (0..<50).map { _ in try probe.ping() })
    }

    /// A loopback port nobody listens on now.
    private static func freePort() throws -> UInt16 {
        let (fd, port) = try TCPSocket.listen(host: "127.0.0.1", port: 0)
        close(fd)
        return port
    }

    /// Waits up to 30 s for the HTTP server to accept connections.
    private static func waitUntilListening(port: UInt16) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let fd = try? TCPSocket.connect(host: "127.0.0.1", port: port) {
                close(fd)
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw BenchmarkError("the edge's HTTP server did not start on port \(port)")
    }
}
