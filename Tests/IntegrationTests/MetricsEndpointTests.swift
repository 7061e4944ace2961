import Foundation
import Testing
@testable import Split

/// What an operator scrapes: `GET /metrics` on both daemons, with counters that move when
/// requests are served, and the cloud's health and readiness probes.
@Suite("Metrics endpoints of the daemons", .serialized)
struct MetricsEndpointTests {
    @Test("curl of both daemons' /metrics shows requests, tokens, positions and round trips counted as completions run")
    func countersMoveDuringARun() throws {
        let keys = try DaemonStack.KeyFiles()
        let port = freePort()
        let cloudHTTP = freePort()
        let cloud = try DaemonStack.startCloud(keys, port: port, httpPort: cloudHTTP)
        defer { cloud.kill9() }
        let edge = try DaemonStack.startEdge(keys, splitLayer: 2, cloudPorts: [port])
        defer { edge.daemon.kill9() }
        let cloudMetrics = "http://127.0.0.1:\(cloudHTTP)/metrics"
        let edgeMetrics = "http://127.0.0.1:\(edge.httpPort)/metrics"

        #expect(try DaemonStack.get("http://127.0.0.1:\(cloudHTTP)/health").status == 200)
        #expect(try DaemonStack.get("http://127.0.0.1:\(cloudHTTP)/ready").status == 200)
        let before = try DaemonStack.get(cloudMetrics)
        #expect(before.status == 200)
        #expect(DaemonStack.sample(before.body, "split_cloud_positions_total") == 0, "\(before.body)")
        #expect(DaemonStack.sample(try DaemonStack.get(edgeMetrics).body, #"split_edge_requests_total{outcome="completed"}"#) == 0)

        let maxTokens = 8
        var expectedPositions = 0
        for round in 1...2 {
            let reply = try DaemonStack.curl(edge.completionsURL, body: try DaemonStack.completionBody(
                prompt: "def f(x):", maxTokens: maxTokens, stream: false))
            #expect(reply.status == 200, "\(reply.body)")
            let generated = try #require(DaemonStack.field(reply.body, "usage", "completion_tokens") as? Int)
            let promptTokens = try #require(DaemonStack.field(reply.body, "usage", "prompt_tokens") as? Int)
            // The second round's prompt is the first's: all of it but its last token is reused.
            let details = try #require(DaemonStack.field(reply.body, "usage", "prompt_tokens_details") as? [String: Any])
            let cached = try #require(details["cached_tokens"] as? Int)
            #expect(cached == (round == 1 ? 0 : promptTokens - 1))
            #expect(DaemonStack.sample(try DaemonStack.get(edgeMetrics).body, "split_edge_cached_prompt_tokens_total")
                == Double(round == 1 ? 0 : promptTokens - 1))

            let edgeText = try DaemonStack.get(edgeMetrics).body
            #expect(DaemonStack.sample(edgeText, #"split_edge_requests_total{outcome="completed"}"#) == Double(round), "\(edgeText)")
            #expect(DaemonStack.sample(edgeText, "split_edge_generated_tokens_total") == Double(round * generated))
            // One round trip for the prompt and one per further token, each timed.
            let roundTrips = try #require(DaemonStack.sample(edgeText, "split_edge_cloud_round_trip_seconds_count"))
            #expect(roundTrips >= Double(round * generated), "\(edgeText)")

            let cloudText = try DaemonStack.get(cloudMetrics).body
            // Every prompt position not reused and every generated token but the last passed the tail layers.
            expectedPositions += promptTokens - cached + generated - 1
            let positions = try #require(DaemonStack.sample(cloudText, "split_cloud_positions_total"))
            #expect(positions == Double(expectedPositions), "\(cloudText)")
            #expect(DaemonStack.sample(cloudText, "split_cloud_forward_passes_total") == roundTrips)
            // The KV bytes held now depend on what the edge keeps for prompt reuse; the most ever
            // held is not 0.
            #expect((DaemonStack.sample(cloudText, "split_cloud_kv_peak_bytes") ?? 0) > 0)
            #expect((DaemonStack.sample(cloudText, "split_cloud_messages_received_total") ?? 0) >= roundTrips)
        }
    }
}
