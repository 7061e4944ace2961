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
        let horizon: Int
        let continuation: CheckedContinuation<ActReply, any Error>
    }

    public let configuration: Configuration
    /// The policy's actions per chunk.
    public let horizon: Int
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
        model = try file.load(pacer: configuration.computePacer)
        horizon = file.configuration.actionHorizon
        identity = try file.identity()
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
        let checked = try request.validated(policyHorizon: horizon)
        return try await withCheckedThrowingContinuation { continuation in
            // `stop()` sets its flag under the queue's lock, so a request is either queued before
            // the stop (and answered: workers drain the queue before they leave) or refused.
            let refusal = jobs.withLock { queue -> String? in
                if stopped.current { return "the policy service has stopped" }
                guard queue.count < configuration.maxQueuedRequests else {
                    return "\(configuration.maxQueuedRequests) act requests already waiting"
                }
                queue.append(Job(state: checked.state, target: checked.target, horizon: checked.horizon, continuation: continuation))
                return nil
            }
            if let refusal {
                continuation.resume(throwing: ClientAPIError(.overloaded, refusal))
            } else {
                jobSignal.signal()
            }
        }
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
                let commands = try current.chunk(state: job.state, target: job.target).prefix(job.horizon)
                let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
                job.continuation.resume(returning: ActReply(actions: commands.map { [$0.x, $0.y] }, latencySeconds: seconds,
                                                            strategy: strategy))
            } catch let error as LinkError {
                job.continuation.resume(throwing: ClientAPIError(.cloudUnavailable, "policy cloud unavailable: \(error)"))
            } catch {
                job.continuation.resume(throwing: ClientAPIError(serviceError: error))
            }
        }
    }
}
