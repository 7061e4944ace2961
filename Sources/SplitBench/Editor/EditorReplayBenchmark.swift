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
    /// `n_predict` of each request (llama.vim's is 128).
    public var maxTokens: Int
    public var workers: Int
    /// The edge's infill prompt layout (PSM, or SPM: suffix first).
    public var layout: FIMLayout
    /// What the requests carry besides the local context: llama.vim's fields (`input_extra`,
    /// `n_indent`, its sampling and time limits) or only the prefix and suffix.
    public var shape: EditorSession.RequestShape
    /// llama.vim's ring buffer of chunks from other files (`input_extra`), sent with
    /// `llamaVim` requests.
    public var extraFiles: [InfillFile]

    public init(modelPath: String, session: EditorSession, strategies: [String], splitLayer: Int,
                link: LinkEmulatorConfiguration, maxTokens: Int = 32, workers: Int = 2, layout: FIMLayout = .prefixSuffixMiddle,
                shape: EditorSession.RequestShape = .wholeDocument, extraFiles: [InfillFile] = []) {
        self.layout = layout
        self.shape = shape
        self.extraFiles = extraFiles
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
        /// Requests whose text differed with and without reuse (must be 0; a time limit may end
        /// one earlier: `InfillExchange.agrees(with:)`).
        public var textMismatches: Int
        /// How the requests were cut (`llama-vim`, `whole-document`) and the edge's prompt layout.
        public var requestShape: String
        public var layout: String
        /// The model file's name and its context (`llama.context_length`), which sizes the
        /// infill window (batch = context / 2, extra chunks what the batch and twice n_predict leave).
        public var model: String
        public var contextTokens: Int
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
                if let with = pair[true], let without = pair[false], !with.agrees(with: without) { mismatches += 1 }
                for (reuse, exchange) in pair {
                    samples.append(Sample(strategy: strategy, reuse: reuse, request: number, atLineEnd: request.atLineEnd,
                                          exchange: exchange))
                }
            }
            log("\(strategy): \(session.requests.count) requests with and without reuse")
        }
        return Result(samples: samples, roundTripSeconds: roundTrip, textMismatches: mismatches, requestShape: shape.rawValue,
                      layout: layout.rawValue, model: (modelPath as NSString).lastPathComponent,
                      contextTokens: file.configuration.maxPositions)
    }

    /// One streamed `/infill` of `request`: with reuse on `slot`, or without (`slot` nil).
    /// Greedy (`temperature` 0) in both shapes, so that the texts with and without reuse can be
    /// compared; llama.vim sends no temperature and samples top-k 40 / top-p 0.9, which does not
    /// change the prompt's work. Streamed, to time the first token (llama.vim waits for the whole
    /// answer: the total time).
    private func send(_ request: EditorSession.Request, strategy: String, slot: Int?, port: UInt16) throws -> InfillExchange {
        var body: [String: Any] = ["input_prefix": request.prefix, "input_suffix": request.suffix, "n_predict": maxTokens,
                                   "temperature": 0, "strategy": strategy, "cache_prompt": slot != nil]
        if let slot { body["id_slot"] = slot }
        if shape == .llamaVim {
            // llama#fim's request (llama.vim autoload/llama.vim): the first request of a pause has
            // t_max_predict_ms 250 (a longer speculative one follows once it is shown).
            body["prompt"] = request.prompt
            body["input_extra"] = extraFiles.map { ["filename": $0.filename, "text": $0.text] }
            body["n_indent"] = request.indent
            body["top_k"] = 40
            body["top_p"] = 0.9
            body["samplers"] = ["top_k", "top_p", "infill"]
            body["t_max_prompt_ms"] = 500
            body["t_max_predict_ms"] = 250
        }
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
