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
        /// History and strategy selection (nil: every request without a strategy gets the default).
        public var selection: EdgeSelection.Settings?
        /// Wraps the edge model's compute (the evaluation harness plays slower devices with it;
        /// nil in production).
        public var computePacer: (any ComputePacer)?
        /// Plan k and the encoding from profiles and re-plan when the measured link drifts
        /// (`splitLayer` and `encoding` are then ignored); nil keeps the fixed split.
        public var replanning: LinkReplanner.Configuration?
        /// Whether split-exit ends completions its trained stop rule judges wrong (the model's
        /// controller, when it has one). Off by default: on the bundled model it cut edit
        /// similarity by ≈ 3 points for no exact-match gain (BENCHMARKS.md, issue 5).
        public var stopRule: Bool
        /// What each worker's prompt cache may hold (sessions kept for the next prompt that
        /// starts the same way, issue 19).
        var promptCache: PromptCache.Limits = .standard
        /// Entries and edge bytes of each worker's prompt cache.
        public var promptCacheEntries: Int {
            get { promptCache.maxEntries }
            set { promptCache.maxEntries = max(0, newValue) }
        }
        public var promptCacheBytes: Int {
            get { promptCache.maxBytes }
            set { promptCache.maxBytes = max(0, newValue) }
        }
        /// Where an infill prompt puts the suffix: after the prefix (PSM, llama.cpp's default) or
        /// before it (SPM, llama.cpp's `--spm-infill`). With SPM the text after the cursor comes
        /// first, so while a user types on a line a prompt shares all but its last few tokens
        /// with the previous one (prompt reuse); the model must have been trained with SPM.
        public var infillLayout: FIMLayout = .prefixSuffixMiddle
        /// Trained exit heads (`edge-node train-exits`); nil loads the sidecar next to the model
        /// (`<model>.exits.gguf`) when there is one.
        public var exitHeadsPath: String?
        /// A Jinja chat template used instead of the model's `tokenizer.chat_template` (for a
        /// model without one); nil: the model's own.
        public var chatTemplate: String? = nil

        public init(modelPath: String, splitLayer: Int?, encoding: ActivationEncoding = .f16,
                    link: EdgeLinkConfiguration?, workers: Int = 2, maxQueuedRequests: Int = 64,
                    selection: EdgeSelection.Settings? = nil,
                    replanning: LinkReplanner.Configuration? = nil, stopRule: Bool = false, exitHeadsPath: String? = nil) {
            self.exitHeadsPath = exitHeadsPath
            self.selection = selection
            self.modelPath = modelPath
            self.splitLayer = splitLayer
            self.encoding = encoding
            self.link = link
            self.workers = workers
            self.maxQueuedRequests = maxQueuedRequests
            self.replanning = replanning
            self.stopRule = stopRule
        }
    }

    /// Counters for status and metrics.
    public struct Statistics: Sendable, Equatable {
        public var completed = 0
        public var failed = 0
        /// Generations stopped because their client went away, or (also counted in `superseded`)
        /// because a newer request on their slot replaced them.
        public var cancelled = 0
        public var superseded = 0
        /// Prompt tokens continued from kept sessions rather than computed.
        public var cachedPromptTokens = 0
        public var degraded = 0
        public var failovers = 0
        public var active = 0
        public var lastCloudEndpoint: String?
        /// Provenance counters over every split generation (edge-answered, drafts, round trips).
        public var tokens = ProvenanceCounts()
        /// Re-plans made because the measured link drifted, and the latest.
        public var replans = 0
        public var lastReplan: LinkReplanner.Replan?
    }

    private struct Job: Sendable {
        let request: CompletionRequest
        let onEvent: @Sendable (CompletionEvent) -> Void
        /// Set when the client's task is cancelled (it disconnected); the worker stops at the next token.
        let cancellation: CancellationFlag
        let continuation: CheckedContinuation<CompletionSummary, any Error>
    }

    public let configuration: Configuration
    /// Prometheus metrics, served at `GET /metrics` on the HTTP port.
    public let metrics: EdgeMetrics
    public let modelName: String
    /// The model as Ollama's `/api/tags` and `/api/show` describe it.
    public let servedModel: ServedModel
    public let file: ModelFile
    let model: TransformerModel
    private let tokenizer: BPETokenizer
    /// Builds fill-in-the-middle prompts, or why this model cannot (it has no FIM tokens).
    private let fim: Result<FIMPrompt, FIMError>
    /// Builds chat prompts with the model's (or the configured) chat template, or why it cannot.
    private let chat: Result<ChatPrompt, ChatTemplateError>
    /// The model's trained stop/exit controller (the exit heads' when they have one, else the
    /// model file's or its sidecar's), if the stop rule is on.
    private let controller: ExitController?
    /// Exit heads trained for this model file, if any.
    public let exitHeads: ExitHeads?
    /// τ and γ defaults from `edge-node calibrate`, if the model has them.
    private let calibration: ExitCalibration?
    private let identity: SHA256Digest
    /// Strategy selection and the history, when configured.
    public let selection: EdgeSelection?
    /// Chooses the default split from the measured link, when configured with a cloud.
    let replanner: LinkReplanner?
    let context: ZMQContext
    let logger: Logger
    private let jobs: WorkerQueue<Job>
    /// Per slot (`id_slot`): the worker holding its kept session, and the cancellation flag of
    /// its latest request (a newer request cancels it).
    private let slots = Locked<[Int: SlotState]>([:])
    /// The worker that served the last request without a slot: the next one prefers it (its
    /// prompt cache most likely holds that client's session).
    private let lastSlotlessWorker = Locked<Int?>(nil)
    let counters = Locked(Statistics())
    private let started = Date()
    /// Set by `stop()`: workers and the link probe end, new requests are refused.
    let stopping = Locked(false)
    /// Entered by each worker and the link probe; `stop()` waits for all to leave.
    let threads = DispatchGroup()

    /// Loads the model and starts the workers.
    /// - Throws: model and key errors naming the problem.
    public init(configuration: Configuration, metrics: EdgeMetrics = EdgeMetrics(), logger: Logger = Logger(label: "split.edge")) throws {
        var configuration = configuration
        let selectionNotes = Locked<EdgeSelection?>(nil)
        configuration.link?.onRoundTrip = { [metrics] trip in
            metrics.roundTripSeconds.record(.nanoseconds(Int64(trip.seconds * 1e9)))
            selectionNotes.current?.recordRoundTrip(seconds: trip.seconds)
        }
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        jobs = WorkerQueue(capacity: configuration.maxQueuedRequests)
        file = try ModelFile(path: configuration.modelPath)
        guard let tokenizer = file.tokenizer else {
            throw ModelError.missingMetadata("tokenizer (the edge needs one to serve text)")
        }
        self.tokenizer = tokenizer
        do {
            fim = .success(try FIMPrompt(tokenizer: tokenizer, layout: configuration.infillLayout))
        } catch let error as FIMError {
            fim = .failure(error)
        }
        do {
            chat = .success(try ChatPrompt(tokenizer: tokenizer, configuredTemplate: configuration.chatTemplate))
        } catch let error as ChatTemplateError {
            // A template the operator gave must work: refuse to start rather than fail every chat.
            if configuration.chatTemplate != nil { throw error }
            chat = .failure(error)
        }
        if let k = configuration.splitLayer, k < 0 || k > file.configuration.layerCount {
            throw ModelError.invalidConfiguration("split layer \(k) outside 0…\(file.configuration.layerCount)")
        }
        // The whole model is mapped; only the layers a strategy runs are ever read.
        model = try file.load(pacer: configuration.computePacer)
        exitHeads = try ExitHeads.load(for: file, path: configuration.exitHeadsPath)
        controller = configuration.stopRule ? try exitHeads?.controller ?? ExitController.load(from: file) : nil
        calibration = try ExitCalibration.load(forModel: configuration.modelPath)
        identity = try file.identity()
        if let settings = configuration.selection {
            let shape = ModelShape(model: model, name: (configuration.modelPath as NSString).lastPathComponent)
            selection = try EdgeSelection(settings: settings, shape: shape, calibration: calibration,
                                          hasCloud: configuration.link != nil, logger: logger)
        } else {
            selection = nil
        }
        selectionNotes.withLock { [selection] in $0 = selection }
        // Each worker keeps up to `maxSplitGeneratorsPerWorker` generators, each a connection (a
        // DEALER and two monitor PAIRs) per replica it used; libzmq's default of 1,023 sockets
        // would run out with many workers and replicas.
        let replicaCount = max(8, configuration.link?.endpoints.count ?? 0)
        let sockets = max(1, configuration.workers) * Self.maxSplitGeneratorsPerWorker * replicaCount * 3 + 64
        context = try ZMQContext(maxSockets: Int32(min(sockets, 60_000)))
        modelName = (configuration.modelPath as NSString).lastPathComponent
        servedModel = ServedModel(file: file, name: modelName, digest: identity, supportsInfill: (try? fim.get()) != nil)
        if let settings = configuration.replanning, configuration.link != nil {
            let replanner = try LinkReplanner(shape: ModelShape(model: model, name: modelName), configuration: settings)
            metrics.planSplitLayer.set(to: Double(replanner.choice.splitLayer))
            self.replanner = replanner
        } else {
            replanner = nil
        }
        for index in 0..<max(1, configuration.workers) {
            threads.enter()
            let thread = Thread { [self] in
                defer { threads.leave() }
                workerLoop(index: index)
            }
            thread.name = "split-edge-worker-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        startLinkProbe()
    }

    public var statistics: Statistics { counters.current }

    /// Stops serving: requests still queued are refused, each worker finishes the completion it
    /// is running and ends (closing its cloud connections), the link probe ends; returns when
    /// they all have. Later calls return at once.
    public func stop() {
        stopping.withLock { $0 = true }
        // Closing the queue refuses later requests and wakes every idle worker to end; what was
        // waiting is refused here.
        if let refused = jobs.close() {
            metrics.queued.set(to: 0)
            for job in refused { job.continuation.resume(throwing: CompletionError.overloaded("the edge node is stopping")) }
        }
        threads.wait()
    }

    /// What the client APIs report as status and readiness.
    public func status() -> ClientStatus {
        let current = counters.current
        var status = ClientStatus(model: modelName, ready: true, cloudConnected: current.lastCloudEndpoint != nil,
                                  cloudEndpoint: current.lastCloudEndpoint, defaultStrategy: defaultStrategy,
                                  activeRequests: current.active, uptimeSeconds: uptimeSeconds)
        status.splitCounters = current.tokens.tokens > 0 ? current.tokens : nil
        return status
    }
    public var uptimeSeconds: Double { Date().timeIntervalSince(started) }
    /// The strategy used when a request names none.
    public var defaultStrategy: String {
        if let replanner { return replanner.choice.strategy }
        if let k = configuration.splitLayer, configuration.link != nil { return "split(k=\(k),\(configuration.encoding))" }
        return "local"
    }

    /// Queues `request` for a worker. Cancelling the calling task (a client that disconnected)
    /// stops the generation before its next token, and it throws `CancellationError`. A newer
    /// request on the same slot stops it the same way, and it throws `CompletionError.superseded`.
    public func complete(_ request: CompletionRequest, onEvent: @escaping @Sendable (CompletionEvent) -> Void) async throws -> CompletionSummary {
        let cancellation = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await enqueue(request, cancellation: cancellation, onEvent: onEvent)
        } onCancel: {
            cancellation.cancel()
        }
    }

    private func enqueue(_ request: CompletionRequest, cancellation: CancellationFlag,
                         onEvent: @escaping @Sendable (CompletionEvent) -> Void) async throws -> CompletionSummary {
        try await withCheckedThrowingContinuation { continuation in
            let job = Job(request: request, onEvent: onEvent, cancellation: cancellation, continuation: continuation)
            switch jobs.push(job, placement: placement(of: request, cancellation: cancellation)) {
            case .closed:
                continuation.resume(throwing: CompletionError.overloaded("the edge node is stopping"))
            case .full:
                metrics.overloaded.increment()
                continuation.resume(throwing: CompletionError.overloaded("\(configuration.maxQueuedRequests) requests already waiting"))
            case .queued(let length):
                metrics.queued.set(to: Double(length))
            }
        }
    }

    /// Which worker a request should run on: a slot's request on the worker holding the slot's
    /// kept session (it waits for it), a request without a slot preferably on the worker that
    /// served the last such request. A slot's request also cancels the slot's older one.
    private func placement(of request: CompletionRequest, cancellation: CancellationFlag) -> WorkerQueue<Job>.Placement {
        guard let slot = request.slot else {
            guard request.cachePrompt, let worker = lastSlotlessWorker.current else { return .any }
            return .prefers(worker)
        }
        return slots.withLock { table in
            var state = table[slot] ?? SlotState()
            state.latest?.cancel(.superseded)
            state.latest = cancellation
            table[slot] = state
            guard request.cachePrompt, let worker = state.worker else { return .any }
            return .pinned(worker)
        }
    }

    /// Notes that `worker` runs `request`, so the next request of its slot (or without one)
    /// goes there.
    private func place(_ request: CompletionRequest, on worker: Int) {
        guard let slot = request.slot else {
            lastSlotlessWorker.withLock { $0 = worker }
            return
        }
        slots.withLock { $0[slot, default: SlotState()].worker = worker }
    }

    /// Forgets `cancellation` as its slot's latest request once that request ended.
    private func release(_ request: CompletionRequest, cancellation: CancellationFlag) {
        guard let slot = request.slot else { return }
        slots.withLock { table in
            if table[slot]?.latest === cancellation { table[slot]?.latest = nil }
        }
    }

    /// Tokens by which the cut of a long infill prefix moves (`FIMPrompt.Window.prefixStep`):
    /// 32 keeps at least 3/4·batch − 31 tokens of prefix (65 of 96 on the bundled model's
    /// 256-token context) while a user types 32 tokens between moves.
    static let fimPrefixStep = 32

    /// Split generators a worker keeps (each with its open cloud connections); past this, one is
    /// dropped and its connections closed. 16: the standard strategy catalogue of an 8-layer
    /// model has 12 (split layer, encoding) pairs, and a selector moving among them in turn would
    /// otherwise evict the oldest at every request (LRU over a cycle longer than its capacity)
    /// and pay the connection set-up the kept connections were meant to save.
    static let maxSplitGeneratorsPerWorker = 16

    /// What a split generator is fixed to; the worker keeps one per value.
    private struct SplitGeneratorKey: Hashable {
        var splitLayer: Int
        var encoding: ActivationEncoding
    }

    /// A slot's worker and its latest request.
    private struct SlotState {
        var worker: Int?
        var latest: CancellationFlag?
    }

    private func workerLoop(index: Int) {
        var local: LocalGenerator?
        // Sessions kept for the next prompt sharing their prefix, of this worker's generators.
        let promptCache = PromptCache(limits: configuration.promptCache)
        defer {
            // Ending: the kept sessions' cloud caches can go.
            for entry in promptCache.removeAll() { entry.owner?.closeCloudSession(of: entry) }
        }
        // One split generator per (split layer, encoding) the worker has served, each keeping its
        // cloud connections open between completions; a few at most (strategies vary per request).
        var splits: [SplitGeneratorKey: SplitGenerator] = [:]
        let splitWorkspace = Workspace()  // shared by the worker's generators: one runs at a time
        while let (job, queued) = jobs.pop(worker: index) {
            counters.withLock { $0.active += 1 }
            metrics.queued.set(to: Double(queued))
            metrics.active.increment()
            place(job.request, on: index)
            defer {
                release(job.request, cancellation: job.cancellation)
                metrics.active.decrement()
                jobs.finished(worker: index)
            }
            let start = DispatchTime.now()
            var firstToken: Double?
            let emitPiece: (GeneratedText) -> Void = { piece in
                guard !piece.text.isEmpty else { return }
                if firstToken == nil { firstToken = LocalGenerator.seconds(since: start) }
                job.onEvent(.text(piece.text, tokens: piece.tokens, provenance: piece.provenance))
            }
            let emit: (String) -> Void = { emitPiece(GeneratedText(text: $0, tokens: [], provenance: [])) }
            do {
                if job.cancellation.isCancelled { throw CancellationError() }
                let (prompt, bounds) = try prepare(job)
                // Selection's features count a plain prompt's text tokens, without the BOS that
                // `prepare` put in front (the prompt is tokenized once, there).
                let addedBOS = job.request.infill == nil && tokenizer.addsBOSToken && prompt.first == tokenizer.bosTokenID
                let promptLength = addedBOS ? prompt.count - 1 : prompt.count
                let task = try selection.map { try $0.features(of: job.request, promptTokens: promptLength) }
                var explored = false
                let strategy: Strategy
                if job.request.strategy == nil, let task, let chosen = try selection?.select(task) {
                    strategy = chosen.strategy
                    explored = chosen.explored
                } else {
                    strategy = try Strategy.parse(job.request.strategy, default: defaultStrategy, calibration: calibration)
                    if let task, let selection, job.request.quality != nil, !selection.admits(strategy, task) {
                        throw CompletionError.invalidRequest("strategy \(strategy) does not meet quality \(task.requirement)")
                    }
                }
                let summary: CompletionSummary
                switch strategy {
                case .local:
                    if local == nil { local = try LocalGenerator(model: model, tokenizer: tokenizer) }
                    let result = try local!.generate(promptTokens: prompt, request: job.request, bounds: bounds, onText: emit)
                    summary = CompletionSummary(
                        text: result.text, promptTokenCount: result.promptTokens.count, completionTokenCount: result.tokens.count,
                        finishReason: result.finishReason, strategy: "local",
                        timeToFirstTokenSeconds: firstToken ?? result.prefillSeconds, totalSeconds: LocalGenerator.seconds(since: start))
                case .control:
                    throw CompletionError.invalidRequest("strategy \(strategy) serves robot action chunks, not completions")
                case .cloud, .split, .splitExit, .splitSpec:
                    guard let link = configuration.link else {
                        throw CompletionError.invalidRequest("this edge has no cloud configured; use strategy local")
                    }
                    let k = strategy.splitLayer ?? 0, encoding = strategy.encoding ?? configuration.encoding
                    // From a client: out of range it would trap in the KV cache's layer range.
                    guard (0...model.configuration.layerCount).contains(k) else {
                        throw CompletionError.invalidRequest(
                            "split layer \(k) is outside 0…\(model.configuration.layerCount) for this model")
                    }
                    let key = SplitGeneratorKey(splitLayer: k, encoding: encoding)
                    let split: SplitGenerator
                    if let kept = splits[key] {
                        split = kept
                    } else {
                        if splits.count >= Self.maxSplitGeneratorsPerWorker,
                           let oldest = splits.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                            splits[oldest] = nil
                        }
                        split = try SplitGenerator(model: model, tokenizer: tokenizer, splitLayer: k, encoding: encoding,
                                                   modelIdentity: identity, link: observed(link, splitLayer: k), context: context,
                                                   logger: logger, workspace: splitWorkspace)
                        split.exitHeads = exitHeads
                        splits[key] = split
                    }
                    let reuse = job.request.cachePrompt ? PromptReuse(cache: promptCache, slot: job.request.slot) : nil
                    let report = try split.generate(job.request, promptTokens: prompt,
                                                     decoding: strategy.splitDecoding(controller: controller),
                                                     allowDegraded: job.request.allowDegraded, bounds: bounds, reuse: reuse,
                                                     onText: emitPiece)
                    metrics.failovers.increment(by: Int64(report.failovers))
                    if report.degraded { metrics.degraded.increment() }
                    counters.withLock {
                        $0.failovers += report.failovers
                        $0.degraded += report.degraded ? 1 : 0
                        $0.tokens.add(report.counts)
                        $0.cachedPromptTokens += report.cachedPromptTokens
                        // nil when degraded: no cloud answered, so status must not name one.
                        $0.lastCloudEndpoint = report.endpoint
                    }
                    summary = CompletionSummary(
                        text: report.result.text, promptTokenCount: report.result.promptTokens.count,
                        completionTokenCount: report.result.tokens.count, finishReason: report.result.finishReason,
                        strategy: report.degraded ? "edge-only(k=\(k))" : strategy.description, degraded: report.degraded,
                        timeToFirstTokenSeconds: firstToken ?? report.result.prefillSeconds,
                        totalSeconds: LocalGenerator.seconds(since: start), provenance: report.provenance, counts: report.counts,
                        cachedPromptTokenCount: report.cachedPromptTokens)
                    metrics.cachedPromptTokens.increment(by: Int64(report.cachedPromptTokens))
                }
                if let task { selection?.record(task, strategy: strategy, summary: summary, explored: explored) }
                counters.withLock { $0.completed += 1; $0.active -= 1 }
                metrics.completed.increment()
                metrics.promptTokens.increment(by: Int64(summary.promptTokenCount))
                metrics.generatedTokens.increment(by: Int64(summary.completionTokenCount))
                metrics.requestSeconds.record(.nanoseconds(Int64(summary.totalSeconds * 1e9)))
                job.continuation.resume(returning: summary)
            } catch is CancellationError {
                let superseded = job.cancellation.reason == .superseded
                counters.withLock {
                    $0.cancelled += 1
                    $0.superseded += superseded ? 1 : 0
                    $0.active -= 1
                }
                if superseded {
                    metrics.superseded.increment()
                    logger.debug("generation cancelled: a newer request on its slot replaced it")
                    job.continuation.resume(throwing: CompletionError.superseded(
                        "a newer request on slot \(job.request.slot ?? -1) replaced this one"))
                } else {
                    metrics.cancelled.increment()
                    logger.debug("generation cancelled: the client went away")
                    job.continuation.resume(throwing: CancellationError())
                }
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

// Prompts (issue 19: fill-in-the-middle).
extension EdgeService {
    /// The prompt's token ids and what ends its generation: a FIM prompt built with the model's
    /// FIM tokens (ending also at its file separator, pad, ...) for an infill request, else the
    /// tokenized prompt with BOS when the tokenizer adds one; a chat request's conversation
    /// rendered with the chat template, ending at its end-of-turn tokens.
    /// - Throws: `FIMError.unsupportedModel` for an infill request to a model without FIM tokens;
    ///   `ChatTemplateError` for a chat request the template cannot render;
    ///   `CompletionError.invalidRequest` for an empty prompt.
    private func prepare(_ job: Job) throws -> (tokens: [Int32], bounds: GenerationBounds) {
        if let messages = job.request.chat {
            switch chat {
            case .success(let builder):
                return (try builder.tokens(for: messages), GenerationBounds(endTokens: builder.endTokens, cancellation: job.cancellation))
            case .failure(.noTemplate) where !job.request.prompt.isEmpty:
                break  // a plain prompt given alongside is used as it is (Ollama's template-less models)
            case .failure(let error):
                throw error
            }
        }
        guard let infill = job.request.infill else {
            var tokens = tokenizer.encode(job.request.prompt)
            if tokenizer.addsBOSToken, let bos = tokenizer.bosTokenID, tokens.first != bos { tokens.insert(bos, at: 0) }
            guard !tokens.isEmpty else { throw CompletionError.invalidRequest("empty prompt") }
            return (tokens, GenerationBounds(cancellation: job.cancellation))
        }
        let builder = try fim.get()
        var window = FIMPrompt.Window.standard(contextTokens: model.configuration.maxPositions)
        // The cut of a long prefix moves in steps, so an editor's successive prompts share it.
        window.prefixStep = Self.fimPrefixStep
        let tokens = builder.build(infill, window: window, maxNewTokens: job.request.maxTokens).tokens
        return (tokens, GenerationBounds(endTokens: builder.tokens.endTokens, cancellation: job.cancellation))
    }
}
