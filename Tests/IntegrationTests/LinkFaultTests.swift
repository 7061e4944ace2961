import Foundation
import Testing
@testable import Split
@testable import SplitBench

/// Faults between an edge and its clouds, each cloud in this process behind its own link
/// emulator (20 ms each way): a cloud that dies with a prefill in flight or mid-decode (its
/// process and its link gone at once), and a link that stalls for longer than the edge's
/// heartbeat deadline. Each case checks the session's output is exactly local generation's.
@Suite("Split generation through cloud and link faults", .serialized)
struct LinkFaultTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    /// Long enough that its prefill is many kilobytes on the link.
    static let prompt = String(repeating: "Hello, Split! the edge and the cloud. ", count: 4)
    static let maxTokens = 16

    /// Two clouds, each behind a link; the edge's endpoints go through the links.
    /// `@unchecked Sendable`: every stored property is a constant, and the one mutable set is
    /// behind a lock; the watcher thread only reads statistics and calls `kill`.
    final class Rig: @unchecked Sendable {
        let keys: CurveKeyPair
        let clouds: [InProcessCloud]
        let links: [LinkEmulator]
        let endpoints: [CloudEndpoint]
        private let stopped = Locked<Set<Int>>([])

        init() throws {
            let keys = try CurveKeyPair.generate()
            self.keys = keys
            clouds = try (0..<2).map { _ in try InProcessCloud(modelPath: LinkFaultTests.modelPath, allowed: [keys.publicKey]) }
            var links: [LinkEmulator] = []
            var endpoints: [CloudEndpoint] = []
            for cloud in clouds {
                guard let port = UInt16(cloud.endpoint.address.split(separator: ":").last ?? "") else {
                    throw ProcessError("no port in \(cloud.endpoint.address)")
                }
                let link = LinkEmulator(configuration: .init(targetPort: port, oneWayDelaySeconds: 0.02))
                let linkPort = try link.start()
                links.append(link)
                endpoints.append(CloudEndpoint(address: "tcp://127.0.0.1:\(linkPort)", serverKey: cloud.endpoint.serverKey))
            }
            self.links = links
            self.endpoints = endpoints
        }

        /// Cloud `index` dies: its compute and its network go at once, so bytes in flight on
        /// its link are lost and reconnections find nothing listening.
        func kill(_ index: Int) {
            guard stopped.withLock({ $0.insert(index).inserted }) else { return }
            links[index].stop()
            clouds[index].stop()
        }

        func stopAll() {
            for index in clouds.indices { kill(index) }
        }

        /// The index of the cloud the generator is connected to, if any.
        func serving(_ generator: SplitGenerator) -> Int? {
            endpoints.firstIndex { $0.address == generator.connectedEndpoint }
        }

        func generator(k: Int) throws -> SplitGenerator {
            let file = try ModelFile(path: LinkFaultTests.modelPath)
            return try SplitGenerator(
                model: try file.load(), tokenizer: file.tokenizer!, splitLayer: k, encoding: .f32, modelIdentity: try file.identity(),
                link: EdgeLinkConfiguration(endpoints: endpoints, clientKeys: keys, heartbeatIntervalSeconds: 0.1, deadAfterSeconds: 1),
                context: try ZMQContext())
        }
    }

    static func localTokens() throws -> [Int32] {
        let file = try ModelFile(path: modelPath)
        return try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
            .generate(CompletionRequest(prompt: prompt, maxTokens: maxTokens)).tokens
    }

    enum Moment: String, CaseIterable, CustomTestStringConvertible {
        case prefillInFlight, midDecode
        var testDescription: String { rawValue }
    }

    @Test("a cloud that dies with the session's prefill in flight, or mid-decode, is replaced by the other; output unchanged",
          arguments: Moment.allCases)
    func cloudDies(at moment: Moment) throws {
        let rig = try Rig()
        defer { rig.stopAll() }
        let expected = try Self.localTokens()
        let generator = try rig.generator(k: 2)
        let killed = Locked<Int?>(nil)
        let watcher: Thread?
        if moment == .prefillInFlight {
            // The prefill is the first message of several kilobytes; kill whichever cloud's link
            // starts carrying it (the edge has no result yet: that needs 20 ms more at least).
            let done = Locked(false)
            watcher = Thread {
                while !done.current {
                    if let index = rig.links.indices.first(where: { rig.links[$0].statistics.bytesToTarget > 2048 }) {
                        rig.kill(index)
                        killed.withLock { $0 = index }
                        return
                    }
                    usleep(200)
                }
            }
            watcher?.start()
            defer { done.withLock { $0 = true } }
            let report = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: Self.maxTokens))
            let victim = try #require(killed.current)
            #expect(report.failovers >= 1)
            #expect(report.endpoint == rig.endpoints[1 - victim].address)
            #expect(report.result.tokens == expected)
        } else {
            watcher = nil
            var pieces = 0
            let report = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: Self.maxTokens)) { _ in
                pieces += 1
                if pieces == 6, let serving = rig.serving(generator) {
                    rig.kill(serving)
                    killed.withLock { $0 = serving }
                }
            }
            let victim = try #require(killed.current)
            #expect(report.failovers >= 1)
            #expect(report.endpoint == rig.endpoints[1 - victim].address)
            #expect(report.result.tokens == expected)
        }
        _ = watcher
    }

    @Test("when generations end the clouds hold none of their sessions: the edge's close gets there, on a kept connection or before its connection closes",
          arguments: [true, false])
    func finishedSessionsAreClosedOnTheCloud(keepsConnections: Bool) throws {
        let rig = try Rig()
        defer { rig.stopAll() }
        let generator = try rig.generator(k: 2)
        generator.keepsConnections = keepsConnections
        for _ in 0..<4 { _ = try generator.generate(CompletionRequest(prompt: "Hello", maxTokens: 4)) }
        func sessions() -> [Double] {
            rig.clouds.map { cloud in
                MetricsExposition.value(of: "split_cloud_sessions",
                                        in: String(decoding: cloud.server.metrics.registry.emitToBuffer(), as: UTF8.self)) ?? -1
            }
        }
        let deadline = Date().addingTimeInterval(5)
        while sessions() != [0, 0], Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(sessions() == [0, 0], "messages received: \(rig.clouds.map { $0.server.statistics.received })")
    }

    @Test("a link that stalls mid-decode for three times the heartbeat deadline: the edge gives up on that cloud, rebuilds the session on the other, output unchanged; the stalled bytes arriving later change nothing")
    func linkStallsPastTheHeartbeat() throws {
        let rig = try Rig()
        defer { rig.stopAll() }
        let expected = try Self.localTokens()
        let generator = try rig.generator(k: 2)
        var pieces = 0
        var stalled: Int?
        let report = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: Self.maxTokens)) { _ in
            pieces += 1
            if pieces == 5, let serving = rig.serving(generator) {
                rig.links[serving].stall(forSeconds: 3)
                stalled = serving
            }
        }
        let victim = try #require(stalled)
        #expect(report.failovers >= 1)
        #expect(report.endpoint == rig.endpoints[1 - victim].address)
        #expect(report.result.tokens == expected)
        // After the stall the first cloud serves a new session exactly again.
        #expect(eventually(10) { !rig.links[victim].isStalled }, "the stall did not end")
        let again = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: Self.maxTokens))
        #expect(again.result.tokens == expected)
    }

    @Test("a connection cut with a step in flight and re-made at once: the edge does not wait on the new connection's heartbeats for a reply that cannot come; it says hello again and rebuilds, output unchanged")
    func connectionRemadeWithAStepInFlight() throws {
        let keys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey])
        defer { cloud.stop() }
        let port = try #require(UInt16(cloud.endpoint.address.split(separator: ":").last ?? ""))
        // 100 ms each way, so a request is still inside the link when the link is cut 40 ms
        // after it was sent; a second link on the same port takes the reconnection at once.
        let first = LinkEmulator(configuration: .init(targetPort: port, oneWayDelaySeconds: 0.1))
        let linkPort = try first.start()
        var again = LinkEmulatorConfiguration(targetPort: port, oneWayDelaySeconds: 0.1)
        again.listenPort = linkPort
        let second = LinkEmulator(configuration: again)
        defer {
            first.stop()
            second.stop()
        }
        let file = try ModelFile(path: Self.modelPath)
        let generator = try SplitGenerator(
            model: try file.load(), tokenizer: file.tokenizer!, splitLayer: 2, encoding: .f32, modelIdentity: try file.identity(),
            link: EdgeLinkConfiguration(endpoints: [CloudEndpoint(address: "tcp://127.0.0.1:\(linkPort)", serverKey: cloud.endpoint.serverKey)],
                                        clientKeys: keys, heartbeatIntervalSeconds: 0.1, deadAfterSeconds: 3),
            context: try ZMQContext())
        let expected = try Self.localTokens()
        // Off the test's thread, so that a wait that never ends fails the test instead of hanging it.
        let outcome = Locked<Result<SplitReport, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let cut = DispatchSemaphore(value: 0)
        let restarted = Locked(false)
        nonisolated(unsafe) let unsafeGenerator = generator
        Thread {
            var pieces = 0
            let result = Result {
                try unsafeGenerator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: Self.maxTokens)) { _ in
                    pieces += 1
                    guard pieces == 4 else { return }
                    DispatchQueue.global().asyncAfter(deadline: .now() + 0.04) {
                        first.stop()  // the step sent after this piece is lost with the link
                        restarted.withLock { $0 = (try? second.start()) != nil }
                        cut.signal()
                    }
                }
            }
            outcome.withLock { $0 = result }
            done.signal()
        }.start()
        #expect(done.wait(timeout: .now() + 30) == .success, "the generation was still waiting after 30 s")
        #expect(cut.wait(timeout: .now() + 5) == .success)
        #expect(restarted.withLock { $0 }, "the second link could not listen on the first one's port")
        let report = try #require(try outcome.withLock { $0 }).get()
        #expect(report.result.tokens == expected)
        #expect(report.rebuilds >= 1 && report.failovers == 0)
    }
}
