import Foundation
import Testing
@testable import Split
@testable import SplitBench

/// Faults on the edge side, with `edge-node serve` and `cloud-node serve` processes: a client
/// sending requests ten times faster than they can be served, and the edge daemon killed
/// mid-request and restarted. Every answer is either the exact local completion or a clear
/// error; none is lost silently, none corrupted.
@Suite("The edge daemon under a client flood and a kill -9", .serialized)
struct EdgeFaultTests {
    static let prompt = "def fib(n):"
    static let maxTokens = 8

    /// Sends `count` completion requests on one socket-API connection, one every
    /// `intervalSeconds`, and collects every request's final reply by id.
    static func flood(_ endpoint: String, count: Int, intervalSeconds: Double, timeoutSeconds: Double = 120)
        throws -> [String: ClientReply] {
        let client = try EdgeClient(endpoint: endpoint)
        var finals: [String: ClientReply] = [:]
        var streamed: [String: String] = [:]
        let poller = ZMQPoller()
        _ = poller.add(client.socket)
        func drain(until deadline: Date) throws {
            while Date() < deadline {
                let events = try poller.poll(timeoutMilliseconds: max(0, Int(deadline.timeIntervalSinceNow * 1000)))
                guard events[0].contains(.readable) else { continue }
                while let frame = try client.socket.receiveData(flags: .dontWait) {
                    let reply = try ClientReply.decode(frame.frame)
                    switch reply {
                    case .token(let id, let text, _, _): streamed[id, default: ""] += text
                    case .done(let id, _): finals[id] = reply
                    case .error(let id?, _): finals[id] = reply
                    default: break
                    }
                }
            }
        }
        let request = CompletionRequest(prompt: prompt, maxTokens: maxTokens)
        for index in 0..<count {
            _ = try client.socket.send(ClientRequest.complete(id: "flood-\(index)", request: request, stream: true).encoded())
            try drain(until: Date().addingTimeInterval(intervalSeconds))
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while finals.count < count, Date() < deadline { try drain(until: Date().addingTimeInterval(0.2)) }
        // A completed request's streamed text must be its summary's text.
        for (id, reply) in finals {
            if case .done(_, let summary) = reply { #expect(streamed[id, default: ""] == summary.text, "\(id)") }
        }
        return finals
    }

    @Test("a client sending ten times faster than the edge serves gets every request answered: the local completion or overloaded, nothing queued without bound")
    func clientFloodIsBoundedAndAnswered() throws {
        let (cloud, edge) = try DaemonStack.startCloudAndEdge(splitLayer: 2)
        defer {
            edge.daemon.kill9()
            cloud.kill9()
        }
        let expected = try DaemonStack.localCompletion(prompt: Self.prompt, maxTokens: Self.maxTokens)
        // The service time of one request (the fastest of three, so a slow first one does not
        // slow the flood down) sets the flood's pace.
        let client = try EdgeClient(endpoint: edge.socketEndpoint)
        var serviceSeconds = Double.infinity
        for _ in 0..<3 {
            let started = Date()
            guard case .done(let first, _) = try client.complete(CompletionRequest(prompt: Self.prompt, maxTokens: Self.maxTokens)) else {
                Issue.record("a request before the flood failed")
                return
            }
            #expect(first.text == expected)
            serviceSeconds = min(serviceSeconds, Date().timeIntervalSince(started))
        }
        let count = 300
        let finals = try Self.flood(edge.socketEndpoint, count: count, intervalSeconds: serviceSeconds / 10)
        #expect(finals.count == count, "\(count - finals.count) requests got no final reply")
        var completed = 0, overloaded = 0, other: [String] = []
        for reply in finals.values {
            switch reply {
            case .done(_, let summary) where summary.text == expected: completed += 1
            case .error(_, let error) where error.code == .overloaded: overloaded += 1
            default: other.append("\(reply)")
            }
        }
        #expect(other.isEmpty, "\(other.prefix(3))")
        #expect(completed >= 1 && overloaded >= 1, "completed \(completed), overloaded \(overloaded)")
        let metrics = try DaemonStack.get("http://127.0.0.1:\(edge.httpPort)/metrics").body
        #expect(DaemonStack.sample(metrics, #"split_edge_requests_total{outcome="overloaded"}"#) ?? 0 <= Double(overloaded))
        // Served again once the flood is over.
        guard case .done(let after, _) = try client.complete(CompletionRequest(prompt: Self.prompt, maxTokens: Self.maxTokens)) else {
            Issue.record("the edge did not serve after the flood")
            return
        }
        #expect(after.text == expected)
    }

    @Test("kill -9 of the edge daemon mid-stream: the client sees the stream end without [DONE] (never a wrong completion), and the restarted edge serves the same request exactly")
    func edgeKilledAndRestarted() throws {
        let keys = try DaemonStack.KeyFiles()
        let port = freePort()
        let cloud = try DaemonStack.startCloud(keys, port: port)
        defer { cloud.kill9() }
        // 20 ms each way, so a completion lasts long enough for the kill to land inside it.
        let relay = LinkEmulator(configuration: LinkEmulatorConfiguration(targetPort: UInt16(port), oneWayDelaySeconds: 0.02))
        defer { relay.stop() }
        let relayPort = Int(try relay.start())
        let edge = try DaemonStack.startEdge(keys, splitLayer: 2, cloudPorts: [relayPort])
        let maxTokens = 24
        let expected = try DaemonStack.localCompletion(prompt: Self.prompt, maxTokens: maxTokens)

        // A streamed completion over HTTP, killed once some of it has arrived.
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sS", "-N", "-m", "30", edge.completionsURL, "-H", "Content-Type: application/json",
                          "-d", try DaemonStack.completionBody(prompt: Self.prompt, maxTokens: maxTokens, stream: true)]
        let output = Pipe()
        curl.standardOutput = output
        curl.standardError = Pipe()
        try curl.run()
        let received = Locked(Data())
        let readerDone = DispatchSemaphore(value: 0)
        let reader = Thread {
            defer { readerDone.signal() }
            while case let chunk = output.fileHandleForReading.availableData, !chunk.isEmpty {
                received.withLock { $0.append(chunk) }
            }
        }
        reader.start()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, String(decoding: received.current, as: UTF8.self).components(separatedBy: "data: ").count < 4 {
            usleep(5_000)
        }
        edge.daemon.kill9()
        curl.waitUntilExit()
        // Everything curl wrote is read once the pipe reports its end.
        #expect(readerDone.wait(timeout: .now() + 10) == .success, "curl's output never ended")
        let partial = String(decoding: received.current, as: UTF8.self)
        #expect(partial.contains("data: "), "nothing streamed before the kill")
        #expect(!partial.contains("[DONE]"), "the stream finished before the kill: \(partial)")
        // What did arrive is a prefix of the right completion.
        let texts = partial.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }.compactMap { event -> String? in
            let object = try? JSONSerialization.jsonObject(with: Data(event.dropFirst(6).utf8)) as? [String: Any]
            return ((object?["choices"] as? [[String: Any]])?.first?["text"] as? String)
        }
        #expect(expected.hasPrefix(texts.joined()), "streamed \(texts.joined().debugDescription) is not a prefix of \(expected.debugDescription)")

        // Restarted on the same addresses, the edge serves the request exactly.
        let restarted = try DaemonStack.startEdge(keys, splitLayer: 2, cloudPorts: [relayPort],
                                                  socket: edge.socketEndpoint, httpPort: edge.httpPort)
        defer { restarted.daemon.kill9() }
        let reply = try DaemonStack.curl(restarted.completionsURL, body: try DaemonStack.completionBody(
            prompt: Self.prompt, maxTokens: maxTokens, stream: false))
        #expect(reply.status == 200, "\(reply.body)")
        #expect(DaemonStack.field(reply.body, "choices", 0, "text") as? String == expected)
        let client = try EdgeClient(endpoint: restarted.socketEndpoint)
        guard case .done(let summary, _) = try client.complete(CompletionRequest(prompt: Self.prompt, maxTokens: maxTokens)) else {
            Issue.record("the restarted edge's socket API did not serve")
            return
        }
        #expect(summary.text == expected)
    }
}
