import Foundation
import Testing
@testable import Split

/// The edge's policy service choosing the control strategy of each `act` request from the
/// history, with the exactness rules of completions (an in-process policy cloud).
@Suite("Control strategy selection per act request", .serialized)
struct ActSelectionTests {
    static let policyPath = TestPaths.repository.appendingPathComponent("models/split-robot-policy.gguf").path

    /// A policy service split at k = 2 over an in-process cloud, selecting with `exploration`
    /// and recording into a fresh history; `body` gets the service and the store.
    static func withService(exploration: Double, _ body: (PolicyService, HistoryStore) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "split-act-selection-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = try ModelFile(path: policyPath)
        let cloud = try LoopbackCloud(model: try file.load(), modelIdentity: try file.identity(), relay: nil)
        defer { cloud.stop() }
        let history = try HistoryStore(path: directory + "/history.sqlite")
        let profiles = ProfileStore(directory: TestPaths.repository.appendingPathComponent("profiles").path)
        var configuration = PolicyService.Configuration(modelPath: policyPath, splitLayer: 2, link: cloud.link, workers: 1)
        configuration.selection = EdgeSelection.Settings(
            history: history, device: try profiles.device("raspberry-pi-4"), cloud: try profiles.device("cloud-cpu-32core"),
            network: try profiles.network("wifi"), explorationRate: exploration, retrainEvery: 4)
        let service = try PolicyService(configuration: configuration)
        defer { service.stop() }
        try await body(service, history)
    }

    static func request(_ index: Int, quality: String? = nil, strategy: String? = nil) -> ActRequest {
        ActRequest(state: [0.1 * Double(index % 5), -0.2, 0, 0], target: [-0.5, 0.4], quality: quality, strategy: strategy)
    }

    @Test("an exact-only act request never gets an async strategy, even when the selector explores at every request")
    func exactNeverAsync() async throws {
        try await Self.withService(exploration: 1) { service, history in
            for index in 0..<12 {
                let reply = try await service.act(Self.request(index, quality: index.isMultiple(of: 2) ? "exact" : nil))
                #expect(reply.strategy == "sync@split(k=2,f32)", "request \(index) got \(reply.strategy)")
                #expect(reply.actions.count == 16)
            }
            // Any agreement allowed: exploring at rate 1 spreads over the async modes too.
            var served: Set<String> = []
            for index in 0..<12 { served.insert(try await service.act(Self.request(index, quality: "agreement>=0")).strategy) }
            #expect(served.contains { $0.hasPrefix("future-state-async@") || $0.hasPrefix("naive-async@") }, "\(served)")
            // Every answered act request is in the history as an action-chunk task of its strategy.
            let records = try history.records()
            #expect(records.count == 24)
            #expect(records.allSatisfy { $0.features.kind == .actionChunk && $0.timeToFirstTokenSeconds > 0 && $0.totalSeconds > 0 })
            #expect(records.filter { $0.features.requirement == .exact }.allSatisfy { $0.strategy == "sync@split(k=2,f32)" })
        }
    }

    @Test("with any agreement allowed and no exploration the selector serves an async mode, which reacts sooner")
    func anyAgreementGetsAsync() async throws {
        try await Self.withService(exploration: 0) { service, history in
            let reply = try await service.act(Self.request(1, quality: "agreement>=0"))
            let strategy = try Strategy.parse(reply.strategy, default: "local")
            guard case .control(let mode, let placement) = strategy else {
                Issue.record("not a control strategy: \(reply.strategy)")
                return
            }
            #expect(mode != .sync)
            #expect(placement == .split(layer: 2, encoding: .f32))
            #expect(try history.count() == 1)
        }
    }

    @Test("a named control strategy is served and recorded; one breaking the request's quality or this edge's placement is refused")
    func namedStrategies() async throws {
        try await Self.withService(exploration: 0) { service, history in
            let naive = try await service.act(Self.request(0, quality: "agreement>=0", strategy: "naive-async"))
            #expect(naive.strategy == "naive-async@split(k=2,f32)")
            let sync = try await service.act(Self.request(0, strategy: "sync@split(k=2,f32)"))
            #expect(sync.strategy == "sync@split(k=2,f32)")
            // As for completions, a client that names an async mode and states no quality gets it.
            let future = try await service.act(Self.request(0, strategy: "future-state-async"))
            #expect(future.strategy == "future-state-async@split(k=2,f32)")
            let refused: [(strategy: String, quality: String?)] = [
                ("future-state-async", "exact"), ("naive-async", "agreement>=0.5"), ("sync@local", nil), ("split(k=2,f32)", nil),
                ("warp-speed", nil), ("sync", "fast")]
            for (strategy, quality) in refused {
                var error: (any Error)?
                do { _ = try await service.act(Self.request(0, quality: quality, strategy: strategy)) } catch let thrown { error = thrown }
                #expect(error is ClientAPIError, "\(strategy) with quality \(quality ?? "unstated"): \(String(describing: error))")
            }
            let recorded = try history.count()
            #expect(recorded == 3)
        }
    }

    @Test("an act request's quality and strategy travel through the client API")
    func wireRoundTrip() throws {
        let act = ActRequest(state: [0, 0, 0, 0], target: [0.5, 0.5], horizon: 8, quality: "agreement>=0", strategy: "sync")
        guard case .act(let id, let decoded) = try ClientRequest.decode(ClientRequest.act(id: "a1", act).encoded()) else {
            Issue.record("not an act request")
            return
        }
        #expect(id == "a1" && decoded == act)
    }
}
