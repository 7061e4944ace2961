import Foundation
import Testing
@testable import Split

/// A cloud node (in process, CURVE on) fed broken messages by a raw, allow-listed DEALER while
/// a well-behaved edge generates on another connection.
@Suite("A cloud node under malformed messages", .serialized)
struct MalformedMessageTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    static let prompt = "Hello, Split! the edge"
    /// Small enough that a frame past it is cheap to send.
    static let limits = WireLimits(maxMessageBytes: 1 << 20)

    let file: ModelFile
    let identity: SHA256Digest
    let hiddenSize: Int
    let edgeKeys: CurveKeyPair
    let rawKeys: CurveKeyPair

    init() throws {
        file = try ModelFile(path: Self.modelPath)
        identity = try file.identity()
        hiddenSize = file.configuration.hiddenSize
        edgeKeys = try CurveKeyPair.generate()
        rawKeys = try CurveKeyPair.generate()
    }

    func startCloud() throws -> InProcessCloud {
        try InProcessCloud(modelPath: Self.modelPath, allowed: [edgeKeys.publicKey, rawKeys.publicKey], limits: Self.limits)
    }

    func localTokens(maxTokens: Int) throws -> [Int32] {
        try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
            .generate(CompletionRequest(prompt: Self.prompt, maxTokens: maxTokens)).tokens
    }

    func generator(_ cloud: InProcessCloud, k: Int) throws -> SplitGenerator {
        try SplitGenerator(
            model: try file.load(), tokenizer: file.tokenizer!, splitLayer: k, encoding: .f32, modelIdentity: identity,
            link: EdgeLinkConfiguration(endpoints: [cloud.endpoint], clientKeys: edgeKeys, heartbeatIntervalSeconds: 0.1,
                                        deadAfterSeconds: 2),
            context: try ZMQContext())
    }

    /// Generates over and over on its own thread until `finish()`; collects every output.
    final class BackgroundEdge {
        private let outputs = Locked<[[Int32]]>([])
        private let failures = Locked<[String]>([])
        private let stopping = Locked(false)
        private let finished = DispatchSemaphore(value: 0)

        init(_ generator: SplitGenerator, maxTokens: Int) {
            let box = UncheckedBox(generator)
            let (outputs, failures, stopping, finished) = (outputs, failures, stopping, finished)
            Thread {
                repeat {
                    do {
                        let report = try box.value.generate(CompletionRequest(prompt: MalformedMessageTests.prompt, maxTokens: maxTokens))
                        outputs.withLock { $0.append(report.result.tokens) }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                } while !stopping.current
                finished.signal()
            }.start()
        }

        /// Stops after the generation in flight; returns every output and failure.
        func finish() -> (outputs: [[Int32]], failures: [String]) {
            stopping.withLock { $0 = true }
            finished.wait()
            return (outputs.current, failures.current)
        }
    }

    /// The error code of `reply`, or nil when it is not an error.
    func code(_ reply: WireMessage?) -> WireMessage.ErrorCode? { reply?.errorCode }

    @Test("every malformed message gets the right error reply or is dropped, and a well-behaved edge on another connection still gets exactly the local output")
    func malformedMessagesAreRefused() throws {
        let cloud = try startCloud()
        defer { cloud.stop() }
        let expected = try localTokens(maxTokens: 12)
        let edge = BackgroundEdge(try generator(cloud, k: 1), maxTokens: 12)
        let raw = try RawPeer(cloud: cloud, keys: rawKeys)
        var refused = 0  // messages the cloud should count as malformed

        // Before any hello: a prefill is refused; the cloud cannot tell a peer that skipped the
        // hello from one whose socket reconnected, so it asks for a hello and the session again.
        let prefill = try WireBytes.forward(session: 1, request: 1, start: 0, rows: 2, hiddenSize: hiddenSize)
        #expect(code(try raw.exchange(prefill)) == .rebuildRequired, "prefill before hello")

        // Random bytes of many lengths, the empty frame included.
        var random = SplitMix64(state: 42)
        for length in [0, 1, 7, 8, 13, 64, 1000, 50_000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(code(try raw.exchange(bytes)) == .malformedMessage, "\(length) random bytes")
            refused += 1
        }

        // A valid hello under a version this build does not speak.
        let hello = try WireBytes.hello(identity, k: 1)
        for version: UInt8 in [0, 2, 255] {
            var bytes = hello
            bytes[4] = version
            #expect(code(try raw.exchange(bytes)) == .unsupportedVersion, "version \(version)")
            refused += 1
        }

        // Now a proper hello, then forward requests with sizes past the limits.
        guard case .helloAck(let ack)? = try raw.exchange(hello) else {
            Issue.record("no helloAck")
            return
        }
        #expect(ack.limits == Self.limits)
        #expect(ack.hiddenSize == UInt32(hiddenSize))
        let good = try WireBytes.forward(session: 2, request: 2, start: 0, rows: 1, hiddenSize: hiddenSize)
        let tooManyRows = UInt32(Self.limits.maxRowsPerMessage + 1)
        let pastLimits: [(String, [UInt8])] = [
            ("positionCount past maxRowsPerMessage",
             WireBytes.patching(WireBytes.patching(good, u32: tooManyRows, at: WireBytes.positionCountOffset),
                                u32: tooManyRows, at: WireBytes.rowsOffset)),
            ("rows past maxRowsPerMessage", WireBytes.patching(good, u32: tooManyRows, at: WireBytes.rowsOffset)),
            ("hiddenSize past maxHiddenSize",
             WireBytes.patching(good, u32: UInt32(Self.limits.maxHiddenSize + 1), at: WireBytes.hiddenSizeOffset)),
            ("positionCount of 4 billion", WireBytes.patching(good, u32: .max, at: WireBytes.positionCountOffset)),
        ]
        for (name, bytes) in pastLimits {
            #expect(code(try raw.exchange(bytes)) == .limitExceeded, "\(name)")
            refused += 1
        }
        let badPayloads: [(String, [UInt8])] = [
            ("payloadBytes of 4 GB", WireBytes.patching(good, u32: .max - 15, at: WireBytes.payloadBytesOffset)),
            ("payloadBytes one short", WireBytes.patching(good, u32: UInt32(4 * hiddenSize - 1), at: WireBytes.payloadBytesOffset)),
            ("payload cut short", Array(good.dropLast(4))),
            ("a byte after the payload", good + [0]),
            ("rows disagreeing with positionCount", WireBytes.patching(good, u32: 2, at: WireBytes.positionCountOffset)),
        ]
        for (name, bytes) in badPayloads {
            #expect(code(try raw.exchange(bytes)) == .malformedMessage, "\(name)")
            refused += 1
        }

        // A step for a session this cloud never saw: resend it from the start.
        let step = try WireBytes.forward(session: 77, request: 9, start: 5, rows: 1, hiddenSize: hiddenSize, step: true)
        #expect(try raw.exchange(step) == .rebuildNeeded(.init(sessionID: 77, requestID: 9, cachedLength: 0)))
        // A truncate for one is an error naming it.
        #expect(code(try raw.exchange(.truncate(.init(sessionID: 78, length: 3)))) == .unknownSession)

        // A message of more than one frame is dropped without an answer; the next one is answered.
        let ping = try WireEncoder().encode(.heartbeat(.init(kind: .ping, timestampNanoseconds: 1)))
        try raw.send(multipart: [ping, ping])
        refused += 1
        #expect(try raw.nextReply(timeoutSeconds: 0.5) == nil, "multi-frame message")
        #expect(try raw.pingAnswered())

        // The valid request still works on this connection after all that.
        guard case .result(let result)? = try raw.exchange(good) else {
            Issue.record("a valid prefill after the malformed ones got no result")
            return
        }
        #expect(result.requestID == 2 && result.rows.count == 1)

        // A frame past the transport cap (ZMQ_MAXMSGSIZE) never reaches Split: libzmq drops the
        // connection, and the peer's reconnection is served again. (Frames between the message
        // limit and the cap are refused and counted: PeerSecurityTests.)
        try raw.send([UInt8](repeating: 0x53, count: Self.limits.transportFrameCap + 1))
        #expect(try raw.nextReply(timeoutSeconds: 0.5) == nil, "frame past ZMQ_MAXMSGSIZE")
        #expect(try raw.pingAnswered(timeoutSeconds: 5))

        #expect(cloud.server.statistics.malformed == refused)
        let run = edge.finish()
        #expect(run.failures.isEmpty)
        #expect(!run.outputs.isEmpty)
        #expect(run.outputs.allSatisfy { $0 == expected })
    }

    @Test("a hello for another model is refused with modelMismatch")
    func wrongModelIdentity() throws {
        let cloud = try startCloud()
        defer { cloud.stop() }
        let raw = try RawPeer(cloud: cloud, keys: rawKeys)
        let other = try SHA256Digest(bytes: [UInt8](repeating: 0xAB, count: 32))
        #expect(code(try raw.exchange(try WireBytes.hello(other, k: 1))) == .modelMismatch)
        // Having no accepted hello, the connection cannot forward.
        let prefill = try WireBytes.forward(session: 1, request: 1, start: 0, rows: 1, hiddenSize: hiddenSize)
        #expect(code(try raw.exchange(prefill)) == .rebuildRequired)
    }

    @Test("a hello for a split layer past the model's layers is refused")
    func splitLayerPastTheModel() throws {
        let cloud = try startCloud()
        defer { cloud.stop() }
        let raw = try RawPeer(cloud: cloud, keys: rawKeys)
        let layers = file.configuration.layerCount
        #expect(code(try raw.exchange(try WireBytes.hello(identity, k: layers + 1))) == .limitExceeded)
        #expect(code(try raw.exchange(try WireBytes.hello(identity, k: Int(UInt32.max)))) == .limitExceeded)
        guard case .helloAck? = try raw.exchange(try WireBytes.hello(identity, k: layers)) else {
            Issue.record("k = layer count (cloud runs only the head) was refused")
            return
        }
    }

    @Test("hidden states of another hidden size than the model's get an error and are counted as malformed")
    func hiddenSizeMismatch() throws {
        let cloud = try startCloud()
        defer { cloud.stop() }
        let raw = try RawPeer(cloud: cloud, keys: rawKeys)
        guard case .helloAck? = try raw.exchange(try WireBytes.hello(identity, k: 1)) else {
            Issue.record("no helloAck")
            return
        }
        for width in [hiddenSize - 1, hiddenSize + 1, 1] {
            let prefill = try WireBytes.forward(session: 3, request: 4, start: 0, rows: 2, hiddenSize: width)
            guard case .error(let report)? = try raw.exchange(prefill) else {
                Issue.record("hidden size \(width) was not refused")
                continue
            }
            #expect(report.code == .malformedMessage)
            #expect(report.requestID == 4 && report.sessionID == 3)
            #expect(report.message.contains("hidden size"))
        }
        #expect(cloud.server.statistics.malformed == 3)
        #expect(try raw.pingAnswered())
    }

    @Test("a second hello with another split layer on the same connection does not reuse (or crash on) the old session's cache")
    func reHelloWithAnotherSplitLayer() throws {
        let cloud = try startCloud()
        defer { cloud.stop() }
        let raw = try RawPeer(cloud: cloud, keys: rawKeys)
        guard case .helloAck? = try raw.exchange(try WireBytes.hello(identity, k: 2)) else {
            Issue.record("no helloAck")
            return
        }
        let prefill = try WireBytes.forward(session: 5, request: 1, start: 0, rows: 3, hiddenSize: hiddenSize)
        guard case .result? = try raw.exchange(prefill) else {
            Issue.record("no result for the prefill")
            return
        }
        // The session's cache holds layers [2, 3); a step at k = 1 needs layer 1 as well.
        guard case .helloAck? = try raw.exchange(try WireBytes.hello(identity, k: 1)) else {
            Issue.record("no helloAck for the second hello")
            return
        }
        let step = try WireBytes.forward(session: 5, request: 2, start: 3, rows: 1, hiddenSize: hiddenSize, step: true)
        #expect(try raw.exchange(step) == .rebuildNeeded(.init(sessionID: 5, requestID: 2, cachedLength: 0)))
        #expect(try raw.pingAnswered())

        // And a full edge session at k = 1 on another connection is exact.
        let expected = try localTokens(maxTokens: 6)
        let report = try generator(cloud, k: 1).generate(CompletionRequest(prompt: Self.prompt, maxTokens: 6))
        #expect(report.result.tokens == expected)
    }
}

/// Connections the cloud never hears closing (edges that come and go).
@Suite("A cloud node's table of connections", .serialized)
struct CloudConnectionTableTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    static let prompt = "Hello, Split! the edge"

    @Test("the cloud keeps at most maxPeers connections' hellos; a forgotten connection that comes back says hello again and its output is unchanged")
    func connectionTableIsBounded() throws {
        let file = try ModelFile(path: Self.modelPath)
        let keys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey], maxPeers: 2)
        defer { cloud.stop() }
        let expected = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
            .generate(CompletionRequest(prompt: Self.prompt, maxTokens: 6)).tokens
        let raw = try RawPeer(cloud: cloud, keys: keys)
        guard case .helloAck? = try raw.exchange(try WireBytes.hello(try file.identity(), k: 1)) else {
            Issue.record("no helloAck")
            return
        }
        let generator = try SplitGenerator(
            model: try file.load(), tokenizer: file.tokenizer!, splitLayer: 2, encoding: .f32, modelIdentity: try file.identity(),
            link: EdgeLinkConfiguration(endpoints: [cloud.endpoint], clientKeys: keys), context: try ZMQContext())
        // Each generation a new connection with its own hello, as from many edges (one edge
        // keeps its connection; this one is told not to).
        generator.keepsConnections = false
        for _ in 0..<4 {
            #expect(try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 6)).result.tokens == expected)
            #expect(cloud.server.statistics.connections <= 2)
        }
        // The raw peer's hello was the least recently used: it is asked for a hello again.
        let prefill = try WireBytes.forward(session: 1, request: 1, start: 0, rows: 2, hiddenSize: file.configuration.hiddenSize)
        #expect(try raw.exchange(prefill)?.errorCode == .rebuildRequired)
        guard case .helloAck? = try raw.exchange(try WireBytes.hello(try file.identity(), k: 1)),
              case .result? = try raw.exchange(prefill) else {
            Issue.record("the forgotten connection could not start again with a hello")
            return
        }
    }
}

/// A peer sending large requests faster than the cloud computes them.
@Suite("A cloud node under a burst of large requests", .serialized)
struct RequestBurstTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")

    @Test("requests past the cloud's queued-bytes budget are answered overloaded instead of piling up in memory, and the cloud serves again after")
    func queuedBytesAreBounded() throws {
        let file = try ModelFile(path: Self.modelPath)
        let keys = try CurveKeyPair.generate()
        // A budget of about one request: the compute loop takes every queued request at once, so
        // any second request that arrives during a pass is over it (with 64 KiB, five had to
        // arrive during one pass of this tiny model, and a fast pass once took every request).
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey], maxQueuedBytes: 16 << 10)
        defer { cloud.stop() }
        let raw = try RawPeer(cloud: cloud, keys: keys)
        guard case .helloAck? = try raw.exchange(try WireBytes.hello(try file.identity(), k: 0)) else {
            Issue.record("no helloAck")
            return
        }
        // 300 prefills of 60 rows (about 15 KiB each), sent at once: far more than 16 KiB queued.
        let burst = 300
        for session in 1...burst {
            try raw.send(try WireBytes.forward(session: UInt64(session), request: UInt64(session), start: 0, rows: 60,
                                               hiddenSize: file.configuration.hiddenSize))
        }
        var results = 0, overloaded = 0, other: [WireMessage] = []
        while results + overloaded + other.count < burst, let reply = try raw.nextReply(timeoutSeconds: 10) {
            switch reply {
            case .result: results += 1
            case .error(let report) where report.code == .overloaded: overloaded += 1
            default: other.append(reply)
            }
        }
        #expect(other.isEmpty, "\(other.prefix(3))")
        #expect(results + overloaded == burst)
        #expect(results >= 1)
        #expect(overloaded >= 1)
        #expect(cloud.server.statistics.overloaded == overloaded)

        let expected = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
            .generate(CompletionRequest(prompt: "Hello, Split!", maxTokens: 6)).tokens
        let generator = try SplitGenerator(
            model: try file.load(), tokenizer: file.tokenizer!, splitLayer: 1, encoding: .f32, modelIdentity: try file.identity(),
            link: EdgeLinkConfiguration(endpoints: [cloud.endpoint], clientKeys: keys), context: try ZMQContext())
        #expect(try generator.generate(CompletionRequest(prompt: "Hello, Split!", maxTokens: 6)).result.tokens == expected)
    }
}
