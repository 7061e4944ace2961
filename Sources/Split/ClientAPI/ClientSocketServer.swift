import Foundation

/// The edge node's ZeroMQ client API: a ROUTER socket bound to `ipc://` and loopback `tcp://`
/// endpoints, answering each request with a `ClientRequestHandler` (see docs/CLIENT_API.md).
///
/// Two threads own the two sockets that touch the network side: `split.client-api` owns the
/// ROUTER and an `inproc://` PULL, `split.client-api.out` owns the PUSH feeding that PULL.
/// Completions run as tasks; their replies go through a locked queue to the PUSH thread, then
/// over `inproc://` to the ROUTER thread, which sends them behind the request's envelope.
public final class ClientSocketServer<Service: CompletionService>: Sendable {
    private struct State: Sendable {
        var running = false
        var stopRequested = false
        var boundEndpoints: [String] = []
        var outbox: [[Data]] = []
        var requests: [Int: Task<Void, Never>] = [:]
        var nextRequest = 0
        var served = 0
    }

    private let context: ZMQContext
    private let endpoints: [String]
    private let handler: ClientRequestHandler<Service>
    private let maxConcurrentRequests: Int
    private let replyEndpoint = "inproc://split-client-api-\(UUID().uuidString)"
    private let state = Locked(State())
    private let outboxReady = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Frames a client may put before its JSON frame (after the routing id ROUTER adds).
    static var maxEnvelopeFrames: Int { 4 }

    /// A server for `handler` on `endpoints` (e.g. `ipc:///tmp/split-edge.sock`,
    /// `tcp://127.0.0.1:5560`; `tcp://127.0.0.1:*` picks a port, see `boundEndpoints`). Past
    /// `maxConcurrentRequests` running completions, requests are refused with `overloaded`.
    public init(context: ZMQContext, endpoints: [String], handler: ClientRequestHandler<Service>, maxConcurrentRequests: Int = 64) {
        self.context = context
        self.endpoints = endpoints
        self.handler = handler
        self.maxConcurrentRequests = maxConcurrentRequests
    }

    /// The endpoints actually bound, with real ports for `tcp://…:*`.
    public var boundEndpoints: [String] { state.withLock { $0.boundEndpoints } }

    /// Requests taken so far (answered or running).
    public var requestsServed: Int { state.withLock { $0.served } }

    /// Binds every endpoint and starts serving; returns once all are bound.
    /// - Throws: `ClientAPIError` for an endpoint that is neither `ipc://` nor loopback
    ///   `tcp://` (the API has no authentication, so it must not face a network); `ZMQError`
    ///   when a socket cannot be made or an endpoint bound (nothing is left running then), or
    ///   `EALREADY` when already started.
    public func start() throws {
        if let exposed = endpoints.first(where: { !Self.isLocal($0) }) {
            throw ClientAPIError(.invalidRequest, "client API endpoint \(exposed) is not ipc:// or loopback tcp:// (127.0.0.1, [::1], localhost)")
        }
        let alreadyRunning = state.withLock { state -> Bool in
            if state.running { return true }
            state = State(running: true)
            return false
        }
        if alreadyRunning { throw ZMQError(call: "ClientSocketServer.start", code: EALREADY) }
        let outcome = Locked<ZMQError??>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            do {
                let (router, replies) = try openSockets()
                outcome.withLock { $0 = .some(nil) }
                ready.signal()
                serve(router: router, replies: replies)
                for endpoint in boundEndpoints { try? router.unbind(endpoint) }
                router.close()
                replies.close()
            } catch {
                outcome.withLock { $0 = .some(error as? ZMQError ?? ZMQError(call: "ClientSocketServer", code: EINVAL)) }
                ready.signal()
            }
            finished.signal()
        }
        thread.name = "split.client-api"
        thread.start()
        ready.wait()
        if let failure = outcome.current ?? nil {
            finished.wait()
            state.withLock { $0.running = false }
            throw failure
        }
        let sender = Thread { [self] in forwardReplies() }
        sender.name = "split.client-api.out"
        sender.start()
    }

    /// Stops taking requests, cancels running completions, closes the sockets and waits for
    /// the threads to end. Stopping twice is harmless.
    public func stop() {
        let (wasRunning, running) = state.withLock { state -> (Bool, [Task<Void, Never>]) in
            defer { state.stopRequested = true }
            return (state.running && !state.stopRequested, Array(state.requests.values))
        }
        guard wasRunning else { return }
        for task in running { task.cancel() }
        outboxReady.signal()
        finished.wait()  // the ROUTER thread
        finished.wait()  // the PUSH thread
        state.withLock { $0.running = false }
    }

    /// Whether `endpoint` is reachable only from this machine.
    static func isLocal(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        let address = endpoint.dropFirst("tcp://".count)
        return address.hasPrefix("127.") || address.hasPrefix("localhost:") || address.hasPrefix("[::1]:")
    }

    private var stopRequested: Bool { state.withLock { $0.stopRequested } }

    /// Makes the ROUTER (bound to every endpoint) and the PULL its replies arrive on.
    private func openSockets() throws(ZMQError) -> (router: ZMQSocket, replies: ZMQSocket) {
        let router = try context.socket(.router)
        // libzmq drops a peer whose message exceeds this before buffering it; messages between
        // the parser's limit and this get a `too_large` reply.
        try router.setOption(.maxMessageSize(bytes: Int64(handler.limits.maxMessageBytes) * 2 + 1024))
        // ROUTER drops what exceeds its high-water mark; streamed tokens are small and bounded
        // by max_tokens × running requests, so keep far more than a slow reader can fall behind.
        try router.setOption(.sendHighWaterMark(100_000))
        var bound: [String] = []
        do throws(ZMQError) {
            for endpoint in endpoints {
                try router.bind(endpoint)
                bound.append(try router.lastEndpoint)
            }
        } catch {
            router.close()
            throw error
        }
        let replies = try context.socket(.pull)
        try replies.bind(replyEndpoint)
        state.withLock { $0.boundEndpoints = bound }
        return (router, replies)
    }

    /// The ROUTER thread: takes requests, starts their completions, sends back replies.
    private func serve(router: ZMQSocket, replies: ZMQSocket) {
        let poller = ZMQPoller()
        poller.add(router)
        poller.add(replies)
        while !stopRequested {
            guard let ready = try? poller.poll(timeoutMilliseconds: 100) else { return }
            if ready.count == 2, ready[1].contains(.readable) {
                while let reply = try? replies.receiveMultipartData(flags: .dontWait) {
                    // A client that went away just loses its replies (ROUTER drops them).
                    _ = try? router.send(multipart: reply, flags: .dontWait)
                }
            }
            if ready.first?.contains(.readable) == true {
                while let frames = try? router.receiveMultipartData(flags: .dontWait) {
                    take(frames, router: router)
                }
            }
        }
    }

    /// Starts answering one request: `[routing id, envelope…, JSON]`.
    private func take(_ frames: [Data], router: ZMQSocket) {
        // Anything else is not a client of this API; it gets nothing.
        guard frames.count >= 2, frames.count <= Self.maxEnvelopeFrames + 2, let message = frames.last else { return }
        let envelope = Array(frames.dropLast())
        let handler = self.handler
        let started = state.withLock { state -> Bool in
            guard state.requests.count < maxConcurrentRequests else { return false }
            state.served += 1
            state.nextRequest += 1
            let number = state.nextRequest
            // Registered before it can finish, so its own removal always finds it.
            state.requests[number] = Task { [self] in
                await handler.handle(message) { [self] reply in enqueue(envelope + [reply.encoded()]) }
                _ = self.state.withLock { $0.requests.removeValue(forKey: number) }
            }
            return true
        }
        if !started {
            let busy = ClientAPIError(.overloaded, "\(maxConcurrentRequests) requests are running; try again shortly")
            let reply = ClientReply.error(id: ClientRequest.bestEffortID(in: message, limits: handler.limits), busy)
            _ = try? router.send(multipart: envelope + [reply.encoded()], flags: .dontWait)
        }
    }

    /// Queues one reply message for the PUSH thread.
    private func enqueue(_ frames: [Data]) {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopRequested else { return false }
            state.outbox.append(frames)
            return true
        }
        if accepted { outboxReady.signal() }
    }

    /// The PUSH thread: moves queued replies to the ROUTER thread over `inproc://`.
    private func forwardReplies() {
        defer { finished.signal() }
        guard let push = try? context.socket(.push) else { return }
        defer { push.close() }
        guard (try? push.connect(replyEndpoint)) != nil else { return }
        while true {
            outboxReady.wait()
            let (batch, stopping) = state.withLock { state -> ([[Data]], Bool) in
                defer { state.outbox.removeAll() }
                return (state.outbox, state.stopRequested)
            }
            if stopping { return }
            for frames in batch { _ = try? push.send(multipart: frames) }
        }
    }
}
