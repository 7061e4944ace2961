import Foundation

/// A ZAP handler (ZeroMQ RFC 27) that admits only CURVE clients whose public key is on an
/// allow-list. An admitted client's user id is its public key in Z85 (40 characters): libzmq
/// attaches it to every message of the connection as the `User-Id` property, which is how the
/// cloud binds a session to the client that created it.
///
/// It binds a REP socket to `inproc://zeromq.zap.01` on the given context and answers libzmq's
/// authentication requests on a thread of its own. Start it before any CURVE server socket of
/// the same context accepts connections. The allow-list can be changed at any time from any
/// thread (it is behind a lock); a change applies to the next handshake, not to connections
/// already admitted. NULL and PLAIN clients are refused unless `requireCurve` is false.
public final class ZAPAuthenticator: Sendable {
    /// The endpoint libzmq sends ZAP requests to (fixed by RFC 27).
    public static let endpoint = "inproc://zeromq.zap.01"

    /// Counts of answered requests, for logs and tests.
    public struct Statistics: Sendable, Equatable {
        /// Requests admitted (status 200).
        public var admitted = 0
        /// Requests denied (status 400), whatever the reason.
        public var denied = 0
    }

    private struct State: Sendable {
        var allowed: Set<CurveKey>
        var statistics = Statistics()
        var running = false
        var stopRequested = false
    }

    private let context: ZMQContext
    private let requireCurve: Bool
    private let domain: String?
    private let state: Locked<State>
    private let finished = DispatchSemaphore(value: 0)
    private let onDecision: @Sendable (_ admitted: Bool) -> Void

    /// Makes a handler for `context` admitting the `allowed` client keys. With `domain` set,
    /// requests for other ZAP domains are denied. `onDecision` is called on the handler's thread
    /// after every answer (for metrics).
    public init(context: ZMQContext, allowed: Set<CurveKey> = [], domain: String? = nil, requireCurve: Bool = true,
                onDecision: @escaping @Sendable (_ admitted: Bool) -> Void = { _ in }) {
        self.context = context
        self.requireCurve = requireCurve
        self.domain = domain
        self.state = Locked(State(allowed: allowed))
        self.onDecision = onDecision
    }

    /// The client keys admitted now.
    public var allowedKeys: Set<CurveKey> { state.withLock { $0.allowed } }

    /// How many requests were admitted and denied so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Adds `key` to the allow-list.
    public func allow(_ key: CurveKey) { state.withLock { _ = $0.allowed.insert(key) } }

    /// Removes `key` from the allow-list; its open connections stay open.
    public func revoke(_ key: CurveKey) { state.withLock { _ = $0.allowed.remove(key) } }

    /// Replaces the whole allow-list (e.g. after re-reading a keys directory).
    public func setAllowedKeys(_ keys: Set<CurveKey>) { state.withLock { $0.allowed = keys } }

    /// Binds the handler socket and starts answering on a new thread; returns once it is bound.
    /// - Throws: `ZMQError` when the socket cannot be made or bound (e.g. another handler is
    ///   already bound on this context), or when already started.
    public func start() throws(ZMQError) {
        let alreadyRunning = state.withLock { state -> Bool in
            if state.running { return true }
            state.running = true
            state.stopRequested = false
            return false
        }
        if alreadyRunning { throw ZMQError(call: "ZAPAuthenticator.start", code: EALREADY) }
        let bound = Locked<ZMQError??>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            do {
                let socket = try context.socket(.reply)
                try socket.setOption(.receiveTimeout(milliseconds: 100))
                try socket.bind(Self.endpoint)
                bound.withLock { $0 = .some(nil) }
                ready.signal()
                serve(socket)
                // Unbinding first frees the endpoint at once; close alone frees it later, on
                // libzmq's reaper thread, and a restart could find it still taken.
                try? socket.unbind(Self.endpoint)
                socket.close()
            } catch {
                bound.withLock { $0 = .some(error as? ZMQError ?? ZMQError(call: "ZAPAuthenticator", code: EINVAL)) }
                ready.signal()
            }
            finished.signal()
        }
        thread.name = "split.zap"
        thread.start()
        ready.wait()
        if let failure = bound.current ?? nil {
            finished.wait()
            state.withLock { $0.running = false }
            throw failure
        }
    }

    /// Stops answering, closes the socket and waits for the thread to end. Clients that connect
    /// afterwards are refused by libzmq only if ZAP is enforced; stop the server socket first.
    public func stop() {
        let wasRunning = state.withLock { state -> Bool in
            defer { state.stopRequested = true }
            return state.running
        }
        guard wasRunning else { return }
        finished.wait()
        state.withLock { $0.running = false }
    }

    private func serve(_ socket: ZMQSocket) {
        while !state.withLock({ $0.stopRequested }) {
            let request: [[UInt8]]
            do {
                guard let frames = try socket.receiveMultipart() else { continue }
                request = frames
            } catch {
                return  // The context was terminated or the socket is unusable.
            }
            let (status, text, userID) = answer(request)
            let requestID = request.count > 1 ? request[1] : []
            let reply: [[UInt8]] = [Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), Array(userID.utf8), []]
            _ = try? socket.send(multipart: reply)
        }
    }

    /// Decides one request: frames are version, request id, domain, address, routing id,
    /// mechanism, then the mechanism's credentials (CURVE: the client's 32-byte public key).
    /// The user id is the admitted client's key (empty for a denial or a non-CURVE client).
    private func answer(_ frames: [[UInt8]]) -> (status: String, text: String, userID: String) {
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else {
            return record(admit: false, ("400", "malformed ZAP request"))
        }
        let requestDomain = String(decoding: frames[2], as: UTF8.self)
        if let domain, requestDomain != domain {
            return record(admit: false, ("400", "unknown domain"))
        }
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        guard mechanism == "CURVE" else {
            return record(admit: !requireCurve, requireCurve ? ("400", "CURVE required") : ("200", "OK"))
        }
        guard frames.count >= 7, let key = try? CurveKey(bytes: frames[6]) else {
            return record(admit: false, ("400", "missing client key"))
        }
        let admit = state.withLock { $0.allowed.contains(key) }
        return record(admit: admit, admit ? ("200", "OK") : ("400", "client key not allowed"), userID: admit ? key.z85 : "")
    }

    private func record(admit: Bool, _ reply: (String, String), userID: String = "") -> (status: String, text: String, userID: String) {
        state.withLock { admit ? ($0.statistics.admitted += 1) : ($0.statistics.denied += 1) }
        onDecision(admit)
        return (reply.0, reply.1, userID)
    }
}
