import Foundation
import Logging

/// The edge node's completion service: runs each request locally or through the split, on a
/// fixed pool of worker threads (each owns its generators, workspaces and sockets).
public final class EdgeService: CompletionService, @unchecked Sendable {
    // Safe to send: the job queue and counters are behind locks; generators are confined to
    // their worker thread.
    public struct Configuration: Sendable {
        public var modelPath: String
        /// Layers [0, k) run here; nil runs everything locally.
        public var splitLayer: Int?
        public var encoding: ActivationEncoding
        public var link: EdgeLinkConfiguration?
        /// Worker threads, i.e. generations in flight at once.
        public var workers: Int
        /// Requests waiting beyond this are refused as overloaded (back-pressure).
        public var maxQueuedRequests: Int

        public init(modelPath: String, splitLayer: Int?, encoding: ActivationEncoding = .f16,
                    link: EdgeLinkConfiguration?, workers: Int = 2, maxQueuedRequests: Int = 64) {
            self.modelPath = modelPath
            self.splitLayer = splitLayer
            self.encoding = encoding
            self.link = link
            self.workers = workers
            self.maxQueuedRequests = maxQueuedRequests
        }
    }

    /// Counters for status and metrics.
    public struct Statistics: Sendable, Equatable {
        public var completed = 0
        public var failed = 0
        public var degraded = 0
        public var failovers = 0
        public var active = 0
        public var lastCloudEndpoint: String?
    }

    private struct Job: Sendable {
        let request: CompletionRequest
        let onEvent: @Sendable (CompletionEvent) -> Void
        let continuation: CheckedContinuation<CompletionSummary, any Error>
    }

    public let configuration: Configuration
    /// Prometheus metrics, served at `GET /metrics` on the HTTP port.
    public let metrics: EdgeMetrics
    public let modelName: String
    public let file: ModelFile
    private let model: TransformerModel
    private let tokenizer: BPETokenizer
    private let identity: SHA256Digest
    private let context: ZMQContext
    private let logger: Logger
    private let jobs = Locked<[Job]>([])
    private let jobSignal = DispatchSemaphore(value: 0)
    private let counters = Locked(Statistics())
    private let started = Date()

    /// Loads the model and starts the workers.
    /// - Throws: model and key errors naming the problem.
    public init(configuration: Configuration, metrics: EdgeMetrics = EdgeMetrics(), logger: Logger = Logger(label: "split.edge")) throws {
        var configuration = configuration
        configuration.link?.onRoundTrip = { [metrics] seconds in
            metrics.roundTripSeconds.record(.nanoseconds(Int64(seconds * 1e9)))
        }
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        file = try ModelFile(path: configuration.modelPath)
        guard let tokenizer = file.tokenizer else {
            throw ModelError.missingMetadata("tokenizer (the edge needs one to serve text)")
        }
        self.tokenizer = tokenizer
        if let k = configuration.splitLayer, k < 0 || k > file.configuration.layerCount {
            throw ModelError.invalidConfiguration("split layer \(k) outside 0…\(file.configuration.layerCount)")
        }
        // The whole model is mapped; only the layers a strategy runs are ever read.
        model = try file.load()
        identity = try file.identity()
        context = try ZMQContext()
        modelName = (configuration.modelPath as NSString).lastPathComponent
        for index in 0..<max(1, configuration.workers) {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "split-edge-worker-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    public var statistics: Statistics { counters.current }

    /// What the client APIs report as status and readiness.
    public func status() -> ClientStatus {
        let current = counters.current
        return ClientStatus(model: modelName, ready: true, cloudConnected: current.lastCloudEndpoint != nil,
                            cloudEndpoint: current.lastCloudEndpoint, defaultStrategy: defaultStrategy,
                            activeRequests: current.active, uptimeSeconds: uptimeSeconds)
    }
    public var uptimeSeconds: Double { Date().timeIntervalSince(started) }
    /// The strategy used when a request names none.
    public var defaultStrategy: String {
        if let k = configuration.splitLayer, configuration.link != nil { return "split(k=\(k),\(configuration.encoding))" }
        return "local"
    }

    public func complete(_ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) -> Void) async throws -> CompletionSummary {
        try await withCheckedThrowingContinuation { continuation in
            let queued = jobs.withLock { queue -> Int? in
                guard queue.count < configuration.maxQueuedRequests else { return nil }
                queue.append(Job(request: request, onEvent: onEvent, continuation: continuation))
                return queue.count
            }
            if let queued {
                metrics.queued.set(to: Double(queued))
                jobSignal.signal()
            } else {
                metrics.overloaded.increment()
                continuation.resume(throwing: CompletionError.overloaded("\(configuration.maxQueuedRequests) requests already waiting"))
            }
        }
    }

    private func workerLoop() {
        var local: LocalGenerator?
        var split: SplitGenerator?
        while true {
            jobSignal.wait()
            guard let (job, queued) = jobs.withLock({ $0.isEmpty ? nil : ($0.removeFirst(), $0.count) }) else { continue }
            counters.withLock { $0.active += 1 }
            metrics.queued.set(to: Double(queued))
            metrics.active.increment()
            defer { metrics.active.decrement() }
            let start = DispatchTime.now()
            var firstToken: Double?
            let emit: (String) -> Void = { text in
                guard !text.isEmpty else { return }
                if firstToken == nil { firstToken = LocalGenerator.seconds(since: start) }
                job.onEvent(.text(text, tokens: []))
            }
            do {
                let strategy = try Strategy.parse(job.request.strategy, default: defaultStrategy)
                let summary: CompletionSummary
                switch strategy {
                case .local:
                    if local == nil { local = try LocalGenerator(model: model, tokenizer: tokenizer) }
                    let result = try local!.generate(job.request, onText: emit)
                    summary = CompletionSummary(
                        text: result.text, promptTokenCount: result.promptTokens.count, completionTokenCount: result.tokens.count,
                        finishReason: result.finishReason, strategy: "local",
                        timeToFirstTokenSeconds: firstToken ?? result.prefillSeconds, totalSeconds: LocalGenerator.seconds(since: start))
                case .split(let k, let encoding):
                    guard let link = configuration.link else {
                        throw CompletionError.invalidRequest("this edge has no cloud configured; use strategy local")
                    }
                    // From a client: out of range it would trap in the KV cache's layer range.
                    guard (0...model.configuration.layerCount).contains(k) else {
                        throw CompletionError.invalidRequest(
                            "split layer \(k) is outside 0…\(model.configuration.layerCount) for this model")
                    }
                    if split == nil || split!.splitLayer != k || split!.encoding != encoding {
                        split = try SplitGenerator(model: model, tokenizer: tokenizer, splitLayer: k, encoding: encoding,
                                                   modelIdentity: identity, link: link, context: context, logger: logger)
                    }
                    let report = try split!.generate(job.request, allowDegraded: job.request.allowDegraded, onText: emit)
                    metrics.failovers.increment(by: Int64(report.failovers))
                    if report.degraded { metrics.degraded.increment() }
                    counters.withLock {
                        $0.failovers += report.failovers
                        $0.degraded += report.degraded ? 1 : 0
                        // nil when degraded: no cloud answered, so status must not name one.
                        $0.lastCloudEndpoint = report.endpoint
                    }
                    summary = CompletionSummary(
                        text: report.result.text, promptTokenCount: report.result.promptTokens.count,
                        completionTokenCount: report.result.tokens.count, finishReason: report.result.finishReason,
                        strategy: report.degraded ? "edge-only(k=\(k))" : "split(k=\(k),\(encoding))", degraded: report.degraded,
                        timeToFirstTokenSeconds: firstToken ?? report.result.prefillSeconds,
                        totalSeconds: LocalGenerator.seconds(since: start))
                }
                counters.withLock { $0.completed += 1; $0.active -= 1 }
                metrics.completed.increment()
                metrics.promptTokens.increment(by: Int64(summary.promptTokenCount))
                metrics.generatedTokens.increment(by: Int64(summary.completionTokenCount))
                metrics.requestSeconds.record(.nanoseconds(Int64(summary.totalSeconds * 1e9)))
                job.continuation.resume(returning: summary)
            } catch {
                counters.withLock {
                    $0.failed += 1
                    $0.active -= 1
                    if case CompletionError.cloudUnavailable = error { $0.lastCloudEndpoint = nil }
                }
                metrics.failed.increment()
                logger.warning("request failed", metadata: ["error": "\(error)"])
                job.continuation.resume(throwing: error)
            }
        }
    }
}

/// The strategies an edge can serve a request with, by name.
public enum Strategy: Sendable, Equatable, CustomStringConvertible {
    case local
    case split(layer: Int, encoding: ActivationEncoding)

    public var description: String {
        switch self {
        case .local: return "local"
        case .split(let k, let encoding): return "split(k=\(k),\(encoding))"
        }
    }

    /// Parses "local", "split", "split(k=4)", "split(k=4,int8-32)"; nil or "" gives `fallback`.
    /// - Throws: `CompletionError.invalidRequest` for an unknown name.
    public static func parse(_ name: String?, default fallback: String) throws -> Strategy {
        let text = (name?.isEmpty == false ? name! : fallback).lowercased().replacingOccurrences(of: " ", with: "")
        if text == "local" { return .local }
        let defaults = fallback.lowercased() == text ? nil : try? parse(fallback, default: "local")
        guard text.hasPrefix("split") else {
            throw CompletionError.invalidRequest("unknown strategy '\(text)' (known: local, split(k=N[,f32|f16|int8-32|int8-64]))")
        }
        var layer: Int?
        var encoding: ActivationEncoding?
        if case .split(let k, let e)? = defaults { layer = k; encoding = e }
        let inner = text.dropFirst("split".count).trimmingCharacters(in: CharacterSet(charactersIn: "()"))
        for part in inner.split(separator: ",") where !part.isEmpty {
            if part.hasPrefix("k="), let k = Int(part.dropFirst(2)) {
                guard k >= 0 else { throw CompletionError.invalidRequest("split layer \(k) in strategy '\(text)' is negative") }
                layer = k
            } else if let e = ActivationEncoding(name: String(part)) {
                encoding = e
            } else {
                throw CompletionError.invalidRequest("cannot read '\(part)' in strategy '\(text)'")
            }
        }
        guard let layer else { throw CompletionError.invalidRequest("strategy '\(text)' needs a split layer, e.g. split(k=4)") }
        return .split(layer: layer, encoding: encoding ?? .f16)
    }
}
