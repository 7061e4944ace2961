import Foundation
import Testing
@testable import Split
@testable import SplitBench

/// `edge-node serve` with two `--cloud` endpoints (both clouds share one key pair), and cloud
/// processes killed with SIGKILL under it.
@Suite("Edge daemon failover between cloud-node processes", .serialized)
struct EdgeFailoverTests {
    static let prompt = "Hello, Split! the edge and"

    func expectLocal(_ outcome: EdgeClient.Outcome, _ expected: String, _ note: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .done(let summary, let streamed) = outcome else {
            Issue.record("\(note): \(outcome)", sourceLocation: sourceLocation)
            return
        }
        #expect(summary.text == expected, "\(note)", sourceLocation: sourceLocation)
        #expect(streamed == expected, "\(note)", sourceLocation: sourceLocation)
        #expect(!summary.degraded, "\(note)", sourceLocation: sourceLocation)
        #expect(summary.strategy == "split(k=2,f32)", "\(note)", sourceLocation: sourceLocation)
    }

    @Test("kill -9 of a cloud between requests and during one: the edge daemon fails over and every output is unchanged")
    func failoverBetweenAndDuringRequests() throws {
        let keys = try DaemonStack.KeyFiles()
        let ports = [freePort(), freePort()]
        var clouds = try ports.map { try DaemonStack.startCloud(keys, port: $0) }
        defer { clouds.forEach { $0.kill9() } }
        // 10 ms each way in front of each cloud, so that a generation lasts long enough
        // (about 20 ms a token) for a kill to land in its middle.
        let relays = ports.map {
            LinkEmulator(configuration: LinkEmulatorConfiguration(targetPort: UInt16($0), oneWayDelaySeconds: 0.01))
        }
        defer { relays.forEach { $0.stop() } }
        let relayPorts = try relays.map { Int(try $0.start()) }
        let edge = try DaemonStack.startEdge(keys, splitLayer: 2, cloudPorts: relayPorts)
        defer { edge.daemon.kill9() }
        let client = try EdgeClient(endpoint: edge.socketEndpoint)
        let request = CompletionRequest(prompt: Self.prompt, maxTokens: 24)
        let expected = try DaemonStack.localCompletion(prompt: Self.prompt, maxTokens: 24)
        // Sessions spread over the clouds by their id, so which one serves is found out, not assumed.
        func serving() throws -> Int {
            let endpoint = try client.status().cloudEndpoint
            return try #require(relayPorts.firstIndex { "tcp://127.0.0.1:\($0)" == endpoint }, "\(String(describing: endpoint))")
        }

        expectLocal(try client.complete(request), expected, "both clouds up")
        let victim = try serving()

        // Between two requests.
        clouds[victim].kill9()
        expectLocal(try client.complete(request), expected, "serving cloud killed before the request")
        let survivor = try serving()
        #expect(survivor != victim)

        // During a request: the killed cloud is back. A new session goes to either cloud (by its
        // id), so kill one of them mid-stream, alternating, until a kill lands on the cloud that
        // serves the session; every output must be the local one whichever cloud was killed.
        clouds[victim] = try DaemonStack.startCloud(keys, port: ports[victim])
        let failovers = { edge.daemon.output.components(separatedBy: "failing over").count - 1 }
        var failedOverMidStream = false
        for attempt in 0..<12 where !failedOverMidStream {
            let target = (survivor + attempt) % 2
            let before = failovers()
            var tokensAtKill = 0
            let outcome = try client.complete(request) { tokens in
                if tokens == 3 {
                    clouds[target].kill9()
                    tokensAtKill = tokens
                }
            }
            #expect(tokensAtKill == 3)
            expectLocal(outcome, expected, "cloud \(target) killed mid-generation")
            failedOverMidStream = failovers() > before
            // Failed over: the generation ended on the other cloud.
            if failedOverMidStream { #expect(try serving() == 1 - target) }
            clouds[target] = try DaemonStack.startCloud(keys, port: ports[target])
        }
        #expect(failedOverMidStream, "\(edge.daemon.output)")
    }

    @Test("with every cloud dead a request fails as cloud unavailable, and one allowing it gets an edge-only answer flagged degraded")
    func everyCloudDead() throws {
        let keys = try DaemonStack.KeyFiles()
        let ports = [freePort(), freePort()]
        let clouds = try ports.map { try DaemonStack.startCloud(keys, port: $0) }
        defer { clouds.forEach { $0.kill9() } }
        let edge = try DaemonStack.startEdge(keys, splitLayer: 2, cloudPorts: ports)
        defer { edge.daemon.kill9() }
        let client = try EdgeClient(endpoint: edge.socketEndpoint)
        let expected = try DaemonStack.localCompletion(prompt: Self.prompt, maxTokens: 8)
        expectLocal(try client.complete(CompletionRequest(prompt: Self.prompt, maxTokens: 8)), expected, "clouds up")

        clouds.forEach { $0.kill9() }
        switch try client.complete(CompletionRequest(prompt: Self.prompt, maxTokens: 8)) {
        case .failed(let error):
            #expect(error.code == .cloudUnavailable)
            #expect(error.message.contains("cloud unavailable"), "\(error.message)")
            for port in ports { #expect(error.message.contains("127.0.0.1:\(port)"), "\(error.message)") }
        case .done(let summary, _):
            Issue.record("a request not allowing degraded answers was answered: \(summary)")
        }
        // Status no longer claims the dead cloud.
        let status = try client.status()
        #expect(!status.cloudConnected)
        #expect(status.cloudEndpoint == nil)

        // Over HTTP, with allow_degraded: an answer from the edge alone, flagged as such.
        let degraded = try DaemonStack.curl(edge.completionsURL, body: try DaemonStack.completionBody(
            prompt: Self.prompt, maxTokens: 8, stream: false, extra: ["allow_degraded": true]))
        #expect(degraded.status == 200, "\(degraded.body)")
        #expect(DaemonStack.field(degraded.body, "split", "degraded") as? Bool == true)
        #expect((DaemonStack.field(degraded.body, "split", "strategy") as? String)?.hasPrefix("edge-only") == true)
        #expect(DaemonStack.field(degraded.body, "usage", "completion_tokens") as? Int == 8)

        // Streamed too: the last chunk carries the flag, and the stream ends with [DONE].
        let streamed = try DaemonStack.curl(edge.completionsURL, body: try DaemonStack.completionBody(
            prompt: Self.prompt, maxTokens: 8, stream: true, extra: ["allow_degraded": true]))
        let events = DaemonStack.streamedText(streamed.body)
        #expect(events.done, "\(streamed.body)")
        #expect(events.last.flatMap { DaemonStack.field($0, "split", "degraded") as? Bool } == true, "\(streamed.body)")
        #expect(events.text == DaemonStack.field(degraded.body, "choices", 0, "text") as? String)
    }
}
