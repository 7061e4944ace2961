import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Split

/// Plays a slow device: every piece of the model's compute takes at least `seconds` more, so a
/// long generation lasts long enough to be cancelled in the middle.
final class SleepingPacer: ComputePacer {
    let seconds: Double
    init(seconds: Double) { self.seconds = seconds }
    func pace<T>(_ body: () throws -> T) rethrows -> T {
        Thread.sleep(forTimeInterval: seconds)
        return try body()
    }
}

/// The bundled model served locally by one worker, each compute step slowed by 20 ms.
private func slowEdge() throws -> EdgeService {
    var configuration = EdgeService.Configuration(modelPath: LoopbackSplit.modelPath, splitLayer: nil, link: nil, workers: 1)
    configuration.computePacer = SleepingPacer(seconds: 0.02)
    return try EdgeService(configuration: configuration)
}

/// The bundled model split at layer 4 with an in-process cloud, the edge's compute slowed by 20 ms a step.
private func slowSplitEdge(_ cloud: LoopbackSplit) throws -> EdgeService {
    var configuration = EdgeService.Configuration(modelPath: LoopbackSplit.modelPath, splitLayer: 4, encoding: .f32,
                                                  link: cloud.link, workers: 1)
    configuration.computePacer = SleepingPacer(seconds: 0.02)
    return try EdgeService(configuration: configuration)
}

/// The cloud's `split_cloud_forward_passes_total`, read from its metrics exposition.
func forwardPasses(of cloud: LoopbackSplit) throws -> Int {
    let line = cloud.server.metrics.registry.emitToString().split(separator: "\n")
        .first { $0.hasPrefix("split_cloud_forward_passes_total ") }
    return try #require(line.flatMap { Int($0.split(separator: " ").last ?? "") })
}

/// A greedy request for far more tokens than the test waits for (≥ 200 paced steps: ≥ 4 s).
private let longRequest = CompletionRequest(prompt: "def main():\n", maxTokens: 200, strategy: "local")

/// Waits up to `seconds` for `condition`.
func eventually(within seconds: Double, _ condition: () -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
    return condition()
}

@Suite("Cancelling a generation when its client goes away", .serialized)
struct EdgeCancellationTests {
    @Test("cancelling the caller stops the edge worker within a step and counts split_edge_cancelled_total")
    func cancelledCallerStopsTheWorker() async throws {
        let edge = try slowEdge()
        defer { edge.stop() }
        let (firstText, firstTextSeen) = AsyncStream.makeStream(of: Void.self)
        let run = Task { try await edge.complete(longRequest) { _ in firstTextSeen.yield() } }
        var iterator = firstText.makeAsyncIterator()
        _ = await iterator.next()
        let cancelled = Date()
        run.cancel()
        await #expect(throws: CancellationError.self) { _ = try await run.value }
        let stoppedAfter = Date().timeIntervalSince(cancelled)
        // A step here is a few paced calls of 20 ms; the rest of the 200 tokens would take seconds.
        #expect(stoppedAfter < 1, "the worker went on for \(stoppedAfter) s after the cancel")
        #expect(edge.statistics.cancelled == 1 && edge.statistics.completed == 0 && edge.statistics.active == 0)
        #expect(edge.metrics.registry.emitToString().contains(#"split_edge_cancelled_total{reason="client_gone"} 1"#))
    }

    @Test("an HTTP client that closes its streamed completion's connection stops the generation")
    func disconnectedStreamStopsTheWorker() async throws {
        let edge = try slowEdge()
        defer { edge.stop() }
        try await withOpenAIServer(edge) { baseURL in
            let port = UInt16(try #require(URL(string: baseURL)?.port))
            let fd = try Self.postLongCompletion(port: port, stream: true)
            var received: [UInt8] = []
            let started = Date()
            while !String(decoding: received, as: UTF8.self).contains("data: "), Date().timeIntervalSince(started) < 10 {
                let chunk = try TCPSocket.read(fd, capacity: 4096)
                if chunk.isEmpty { break }
                received += chunk
            }
            #expect(String(decoding: received, as: UTF8.self).contains("data: "), "no event arrived")
            close(fd)
            let closed = Date()
            let stopped = try await eventually(within: 3) { edge.statistics.cancelled == 1 }
            #expect(stopped, "the generation was not cancelled within 3 s of the client leaving")
            #expect(Date().timeIntervalSince(closed) < 3 && edge.statistics.completed == 0)
        }
    }

    @Test("cancelling a split generation stops the cloud's work: no forward request reaches it afterwards")
    func cancelledSplitStopsTheCloud() async throws {
        let cloud = try LoopbackSplit()
        defer { cloud.stop() }
        let edge = try slowSplitEdge(cloud)
        defer { edge.stop() }
        let request = CompletionRequest(prompt: "def main():\n", maxTokens: 200, strategy: "split(k=4,f32)")
        let (texts, textSeen) = AsyncStream.makeStream(of: Void.self)
        let run = Task { try await edge.complete(request) { _ in textSeen.yield() } }
        var iterator = texts.makeAsyncIterator()
        _ = await iterator.next()
        _ = await iterator.next()  // two tokens: the generation is decoding, a round trip per token
        run.cancel()
        await #expect(throws: CancellationError.self) { _ = try await run.value }
        let forwardsAtStop = try forwardPasses(of: cloud)
        #expect(forwardsAtStop >= 2)
        try await Task.sleep(nanoseconds: 500_000_000)
        // Uncancelled, each 20 ms-paced step would send another forward request: ≥ 10 in 0.5 s.
        #expect(try forwardPasses(of: cloud) == forwardsAtStop)
        #expect(edge.statistics.cancelled == 1 && edge.statistics.completed == 0)
    }

    @Test("an HTTP client that stops waiting for a non-streamed completion (llama.vim's request) stops the generation")
    func disconnectedWaitStopsTheWorker() async throws {
        let edge = try slowEdge()
        defer { edge.stop() }
        try await withOpenAIServer(edge) { baseURL in
            let port = UInt16(try #require(URL(string: baseURL)?.port))
            let fd = try Self.postLongCompletion(port: port, stream: false)
            let running = try await eventually(within: 5) { edge.statistics.active == 1 }
            #expect(running, "the completion did not start")
            try await Task.sleep(nanoseconds: 200_000_000)
            close(fd)
            let stopped = try await eventually(within: 3) { edge.statistics.cancelled == 1 }
            #expect(stopped, "the generation was not cancelled within 3 s of the client leaving")
            #expect(edge.statistics.completed == 0)
        }
    }

    /// Opens a connection to the edge's HTTP port and sends a 200-token local completion on it,
    /// streamed or not; returns the socket, so a test can close it mid-generation.
    static func postLongCompletion(port: UInt16, stream: Bool) throws -> Int32 {
        let fd = try TCPSocket.connect(host: "127.0.0.1", port: port)
        let body = #"{"prompt":"def main():\n","max_tokens":200,"temperature":0,"strategy":"local","stream":"# + "\(stream)}"
        try TCPSocket.write(fd, Array(("POST /v1/completions HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8))
        return fd
    }
}
