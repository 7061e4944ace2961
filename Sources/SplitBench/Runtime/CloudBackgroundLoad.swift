import Foundation
import Split

/// Other tenants of a cloud, so that a benchmark's requests meet a busy server: `sessions`
/// threads, each a real edge connection (its own CURVE socket straight to the server, i.e. its
/// own link) that opens a session, sends a prompt's hidden states, decodes `steps` steps one at
/// a time pausing `thinkSeconds` after each reply (its own link and edge compute), closes the
/// session and starts the next, until `stop()`. The hidden states are random: only the cloud's
/// work matters here.
public final class CloudBackgroundLoad: @unchecked Sendable {
    // Safe to send: the threads share only `stopping` and `failure`, both behind locks.
    public let sessions: Int
    private let stopping = Locked(false)
    private let failure = Locked<(any Error)?>(nil)
    private let finished = DispatchGroup()

    /// Starts the tenants against `endpoint` (layers from `splitLayer` of a model of
    /// `hiddenSize`, identified by `modelIdentity`).
    /// - Throws: `ZMQError` when the shared context cannot be made; a tenant's later errors
    ///   are kept for `check()`.
    public init(sessions: Int, endpoint: CloudEndpoint, link: EdgeLinkConfiguration, modelIdentity: SHA256Digest, hiddenSize: Int,
                splitLayer: Int, promptRows: Int = 64, steps: Int = 16, thinkSeconds: Double = 0.002) throws {
        self.sessions = max(0, sessions)
        let context = try ZMQContext()
        let hello = WireMessage.Hello(modelIdentity: modelIdentity, splitLayer: UInt32(splitLayer), activationEncoding: .f16,
                                      clientName: "background")
        let prompt = try CloudLoadBenchmark.randomActivations(rows: promptRows, width: hiddenSize, encoding: .f16, seed: 1)
        let step = try CloudLoadBenchmark.randomActivations(rows: 1, width: hiddenSize, encoding: .f16, seed: 2)
        for tenant in 0..<self.sessions {
            finished.enter()
            let thread = Thread { [stopping, failure, finished] in
                defer { finished.leave() }
                do {
                    let connection = try CloudConnection(context: context, endpoint: endpoint, configuration: link)
                    defer { connection.close() }
                    _ = try connection.hello(hello)
                    var session = UInt64(tenant + 1) << 32
                    while !stopping.current {
                        session += 1
                        _ = try connection.forward(.prefill(.init(sessionID: session, requestID: connection.makeRequestID(),
                                                                  startPosition: 0, activations: prompt)))
                        for index in 0..<steps where !stopping.current {
                            Thread.sleep(forTimeInterval: thinkSeconds)
                            _ = try connection.forward(.step(.init(sessionID: session, requestID: connection.makeRequestID(),
                                                                   startPosition: UInt32(promptRows + index), activations: step)))
                        }
                        try connection.post(.close(sessionID: session))
                        Thread.sleep(forTimeInterval: thinkSeconds)
                    }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Rethrows the first error a tenant met (then it stopped loading the cloud).
    /// - Throws: that error.
    public func check() throws {
        if let error = failure.current { throw error }
    }

    /// Stops the tenants and waits for them (once they finish their request in flight).
    public func stop() {
        stopping.withLock { $0 = true }
        finished.wait()
    }

    deinit { stop() }
}
