import Foundation
@testable import Split

/// A stand-in cloud node (no CURVE) that accepts every hello and answers every prefill and
/// step the same failing way, on its own thread: a node that is up but cannot serve.
final class FakeCloud: @unchecked Sendable {
    /// How every forward request is answered.
    enum Answer: Sendable, CustomStringConvertible {
        case error(WireMessage.ErrorCode)
        /// "I lost the session; resend it from position 0."
        case rebuildNeeded

        var description: String {
            switch self {
            case .error(let code): return "\(code)"
            case .rebuildNeeded: return "rebuildNeeded"
            }
        }
    }

    // Safe to send: the socket is used only by the serving thread; counters sit behind a lock.
    let endpoint: CloudEndpoint
    private let context: ZMQContext
    private let stopping = Locked(false)
    private let counts = Locked((hellos: 0, forwards: 0))
    private let finished = DispatchSemaphore(value: 0)

    /// Binds an ephemeral loopback port and starts answering forwards with `answer`.
    init(hiddenSize: Int, layerCount: Int, answering answer: Answer) throws {
        context = try ZMQContext()
        let router = try context.socket(.router)
        try router.setOption(.linger(milliseconds: 0))
        try router.bind("tcp://127.0.0.1:*")
        endpoint = CloudEndpoint(address: try router.lastEndpoint, serverKey: nil)
        let box = UncheckedBox(router)
        Thread { [self] in
            serve(box.value, hiddenSize: hiddenSize, layerCount: layerCount, answer: answer)
            box.value.close()
            finished.signal()
        }.start()
    }

    /// Hellos and forward requests received so far.
    var received: (hellos: Int, forwards: Int) { counts.current }

    func stop() {
        stopping.withLock { $0 = true }
        finished.wait()
    }

    private func serve(_ router: ZMQSocket, hiddenSize: Int, layerCount: Int, answer failure: Answer) {
        let poller = ZMQPoller()
        _ = poller.add(router)
        let decoder = WireDecoder()
        let encoder = WireEncoder()
        while !stopping.current {
            guard let events = try? poller.poll(timeoutMilliseconds: 20), events[0].contains(.readable),
                  let frames = try? router.receiveMultipart(flags: .dontWait), frames.count == 2,
                  let message = try? decoder.decode(frames[1]) else { continue }
            let answer: WireMessage
            switch message {
            case .hello(let hello):
                counts.withLock { $0.hellos += 1 }
                answer = .helloAck(.init(splitLayer: hello.splitLayer, activationEncoding: hello.activationEncoding,
                                         cloudLayers: hello.splitLayer..<UInt32(layerCount), hiddenSize: UInt32(hiddenSize),
                                         limits: WireLimits()))
            case .prefill(let request), .step(let request):
                counts.withLock { $0.forwards += 1 }
                switch failure {
                case .error(let code):
                    answer = .error(.init(code: code, sessionID: request.sessionID, requestID: request.requestID,
                                          message: "fake cloud always answers \(code)"))
                case .rebuildNeeded:
                    answer = .rebuildNeeded(.init(sessionID: request.sessionID, requestID: request.requestID, cachedLength: 0))
                }
            case .heartbeat(let beat) where beat.kind == .ping:
                answer = .heartbeat(.init(kind: .pong, timestampNanoseconds: beat.timestampNanoseconds))
            default:
                continue
            }
            if let bytes = try? encoder.encode(answer) { _ = try? router.send(multipart: [frames[0], bytes], flags: .dontWait) }
        }
    }
}
