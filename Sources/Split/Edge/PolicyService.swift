import Foundation
import Logging

/// The edge node's robot policy service: answers `act` requests with the policy run through the
/// split (or locally without a cloud), on a few worker threads that each own their policy
/// client and socket.
public final class PolicyService: PolicyActing, @unchecked Sendable {
    // Safe to send: the job queue sits behind a lock; policy clients are confined to their worker.
    /// How the policy is served.
    public struct Configuration: Sendable {
        /// The policy model (.gguf with input projection and action head).
        public var modelPath: String
        /// Layers [0, k) run here; nil runs the whole policy locally.
        public var splitLayer: Int?
        /// Activation encoding on the link (f32 keeps split == local exact).
        public var encoding: ActivationEncoding
        /// The policy's cloud nodes (they serve the same policy file).
        public var link: EdgeLinkConfiguration?
        /// Requests served at once.
        public var workers: Int
        /// Requests waiting beyond this are refused as overloaded.
        public var maxQueuedRequests: Int
        /// Wraps the edge model's compute (benchmarks play slower devices with it; nil in production).
        public var computePacer: (any ComputePacer)?
        /// History and selection of the control strategy per `act` request (nil: requests are
        /// only served, with the strategy they name, if any).
        public var selection: EdgeSelection.Settings?

        /// Makes a configuration.
        public init(modelPath: String, splitLayer: Int?, encoding: ActivationEncoding = .f32, link: EdgeLinkConfiguration?,
                    workers: Int = 2, maxQueuedRequests: Int = 32) {
            self.modelPath = modelPath
            self.splitLayer = splitLayer
            self.encoding = encoding
            self.link = link
            self.workers = workers
            self.maxQueuedRequests = maxQueuedRequests
        }
    }

    private struct Job: Sendable {
        let state: RobotState
        let target: Point2
        let next: Point2
        let horizon: Int
        /// The control strategy the request is served with, and the selection's record of it.
        let control: ControlChoice?
        let continuation: CheckedContinuation<ActReply, any Error>
    }

    /// A request's control strategy: chosen by the selector or named by the client.
    private struct ControlChoice: Sendable {
        let strategy: Strategy
        let task: TaskFeatures?
        let explored: Bool
    }

    public let configuration: Configuration
    /// The policy's actions per chunk.
    public let horizon: Int
    /// What the policy was trained on (whether it takes a next waypoint).
    public let training: PolicyTraining
    /// Where the policy runs (local, or split/cloud over the link): the placement of every
    /// control strategy this service serves.
    public let placement: Strategy
    /// The control-strategy selection and its history, when configured.
    public let selection: EdgeSelection?
    private let model: TransformerModel
    private let identity: SHA256Digest
    private let context: ZMQContext
    private let logger: Logger
    private let jobs = Locked<[Job]>([])
    private let jobSignal = DispatchSemaphore(value: 0)
    private let stopped = Locked(false)

    /// Loads the policy and starts the workers.
    /// - Throws: `ControlError.notAPolicy`, `ModelError` naming the problem.
    public init(configuration: Configuration, logger: Logger = Logger(label: "split.edge.policy")) throws {
        self.configuration = configuration
        self.logger = logger
        let file = try ModelFile(path: configuration.modelPath)
        try TransformerPolicy.check(file.configuration)
        if configuration.link != nil {
            guard let k = configuration.splitLayer, (0...file.configuration.layerCount).contains(k) else {
                throw ModelError.invalidConfiguration("the policy split layer must be within 0…\(file.configuration.layerCount)")
            }
        }
        let loaded = try file.load(pacer: configuration.computePacer)
        model = loaded
        horizon = file.configuration.actionHorizon
        training = PolicyTraining(file.configuration)
        identity = try file.identity()
        let place: Strategy
        if let k = configuration.splitLayer, configuration.link != nil {
            place = k == 0 ? .cloud(encoding: configuration.encoding) : .split(layer: k, encoding: configuration.encoding)
        } else {
            place = .local
        }
        placement = place
        if let settings = configuration.selection {
            selection = try EdgeSelection(
                settings: settings, shape: ModelShape(model: loaded, name: (configuration.modelPath as NSString).lastPathComponent),
                calibration: nil, hasCloud: place != .local,
                candidates: ControlMode.allCases.map { Strategy.control(mode: $0, placement: place) }, logger: logger)
        } else {
            selection = nil
        }
        context = try ZMQContext()
        for index in 0..<max(1, configuration.workers) {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "split-edge-policy-\(index)"
            thread.start()
        }
    }

    /// "split(k=N,enc)" or "local".
    public var strategy: String {
        if let k = configuration.splitLayer, configuration.link != nil { return "split(k=\(k),\(configuration.encoding))" }
        return "local"
    }

    public func act(_ request: ActRequest) async throws -> ActReply {
        let checked = try request.validated(policyHorizon: horizon, training: training)
        let control = try controlChoice(request, horizon: checked.horizon)
        return try await withCheckedThrowingContinuation { continuation in
            // `stop()` sets its flag under the queue's lock, so a request is either queued before
            // the stop (and answered: workers drain the queue before they leave) or refused.
            let refusal = jobs.withLock { queue -> String? in
                if stopped.current { return "the policy service has stopped" }
                guard queue.count < configuration.maxQueuedRequests else {
                    return "\(configuration.maxQueuedRequests) act requests already waiting"
                }
                queue.append(Job(state: checked.state, target: checked.target, next: checked.next, horizon: checked.horizon, control: control,
                                 continuation: continuation))
                return nil
            }
            if let refusal {
                continuation.resume(throwing: ClientAPIError(.overloaded, refusal))
            } else {
                jobSignal.signal()
            }
        }
    }

    /// The control strategy of `request`, with the exactness rules of completions: a strategy
    /// the client names must be one this service serves and meet the quality the request states;
    /// else the selector chooses among those the quality (default exact) admits, so an exact
    /// request gets sync only; nil when neither.
    /// - Throws: `ClientAPIError.invalidRequest` naming `strategy` or `quality`.
    private func controlChoice(_ request: ActRequest, horizon: Int) throws -> ControlChoice? {
        let task: TaskFeatures?
        let requirement: QualityRequirement?
        do {
            task = try selection?.features(ofAct: request, horizon: horizon)
            requirement = try task?.requirement ?? request.quality.map(QualityRequirement.parse)
        } catch {
            throw ClientAPIError(.invalidRequest, "\(error)", parameter: "quality")
        }
        guard let named = request.strategy, !named.isEmpty else {
            guard let selection, let task else { return nil }
            do {
                // An edge that only records (`--no-select`) serves the exact default, sync.
                guard let chosen = try selection.select(task) else {
                    return ControlChoice(strategy: .control(mode: .sync, placement: placement), task: task, explored: false)
                }
                return ControlChoice(strategy: chosen.strategy, task: task, explored: chosen.explored)
            } catch {
                throw ClientAPIError(.invalidRequest, "no control strategy meets quality \(task.requirement): \(error)", parameter: "quality")
            }
        }
        let strategy: Strategy
        if let mode = ControlMode(rawValue: named.lowercased()) {
            strategy = .control(mode: mode, placement: placement)
        } else {
            do {
                strategy = try Strategy.parse(named, default: "local")
            } catch {
                throw ClientAPIError(.invalidRequest, "\(error)", parameter: "strategy")
            }
        }
        guard case .control(_, let asked) = strategy, asked == placement else {
            throw ClientAPIError(.invalidRequest, "this edge serves the policy as \(placement): name a control mode "
                                 + "(sync, naive-async, future-state-async) or MODE@\(placement), not \(named)", parameter: "strategy")
        }
        let admitted: Bool
        if let selection, let task {
            admitted = selection.admits(strategy, task)
        } else {
            admitted = requirement?.admits(strategy, expectedAgreement: strategy.isExact ? 1 : 0) ?? true
        }
        // As for completions: a named strategy is held to a quality the request states.
        if let requirement, request.quality != nil, !admitted {
            throw ClientAPIError(.invalidRequest, "strategy \(strategy) does not meet quality \(requirement)", parameter: "strategy")
        }
        return ControlChoice(strategy: strategy, task: task, explored: false)
    }

    private func makePolicy() throws -> any ChunkPolicy {
        if let link = configuration.link, let k = configuration.splitLayer {
            return try SplitPolicyClient(model: model, splitLayer: k, encoding: configuration.encoding, modelIdentity: identity,
                                         link: link, context: context, logger: logger)
        }
        return try TransformerPolicy(model: model)
    }

    /// Stops the workers once the requests already queued are answered (their policy clients
    /// and cloud connections are released); later requests are refused. For benchmarks that
    /// start many services.
    public func stop() {
        jobs.withLock { _ in stopped.withLock { $0 = true } }
        for _ in 0..<max(1, configuration.workers) { jobSignal.signal() }
    }

    private func workerLoop() {
        var policy: (any ChunkPolicy)?
        while true {
            jobSignal.wait()
            if stopped.withLock({ $0 }), jobs.withLock({ $0.isEmpty }) { return }
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            let start = MonotonicClock.nanoseconds()
            do {
                let current = try policy ?? makePolicy()
                policy = current
                let commands = try current.chunk(state: job.state, target: job.target, next: job.next).prefix(job.horizon)
                let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
                if let control = job.control, let task = control.task {
                    selection?.recordAct(task, strategy: control.strategy, latencySeconds: seconds, explored: control.explored)
                }
                job.continuation.resume(returning: ActReply(actions: commands.map { [$0.x, $0.y] }, latencySeconds: seconds,
                                                            strategy: job.control?.strategy.description ?? strategy))
            } catch let error as LinkError {
                job.continuation.resume(throwing: ClientAPIError(.cloudUnavailable, "policy cloud unavailable: \(error)"))
            } catch {
                job.continuation.resume(throwing: ClientAPIError(serviceError: error))
            }
        }
    }
}
