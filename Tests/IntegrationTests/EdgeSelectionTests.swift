import Foundation
import Testing
@testable import Split
@testable import SplitBench

@Suite("Edge daemon with strategy selection", .serialized)
struct EdgeSelectionTests {
    static let modelPath = InProcessSplitTests.modelPath

    static func settings(history: HistoryStore, exploration: Double) throws -> EdgeSelection.Settings {
        let store = ProfileStore(directory: TestPaths.repository.appendingPathComponent("profiles").path)
        return EdgeSelection.Settings(history: history, device: try store.device("raspberry-pi-4"),
                                      cloud: try store.device("cloud-cpu-32core"), network: try store.network("wifi"),
                                      explorationRate: exploration, retrainEvery: 2)
    }

    @Test("requests without a strategy get an exact choice, even exploring, and every finished request is recorded")
    func selectsAndRecords() async throws {
        let directory = NSTemporaryDirectory() + "split-edge-selection-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = try ModelFile(path: Self.modelPath)
        let cloud = try LoopbackCloud(model: try file.load(), modelIdentity: try file.identity(), relay: nil)
        defer { cloud.stop() }
        let history = try HistoryStore(path: directory + "/history.sqlite")
        let service = try EdgeService(configuration: .init(
            modelPath: Self.modelPath, splitLayer: nil, link: cloud.link, workers: 1,
            selection: try Self.settings(history: history, exploration: 1)))
        var served: Set<String> = []
        for index in 0..<8 {
            let summary = try await service.complete(CompletionRequest(prompt: "Hello, Split! \(index)", maxTokens: 4)) { _ in }
            let strategy = try Strategy.parse(summary.strategy, default: "local")
            #expect(strategy.guarantee == .exact, "\(summary.strategy) served an exact request")
            served.insert(summary.strategy)
        }
        #expect(served.count > 1, "exploration at rate 1 should spread over the exact candidates: \(served)")
        // Named strategies are recorded too; one that breaks an explicit exact quality is refused.
        _ = try await service.complete(CompletionRequest(prompt: "Hello", maxTokens: 2, strategy: "local")) { _ in }
        await #expect(throws: CompletionError.self) {
            _ = try await service.complete(CompletionRequest(prompt: "Hello", maxTokens: 2, strategy: "split-exit(k=1,tau=0.5)",
                                                             quality: "exact")) { _ in }
        }
        let records = try history.records()
        #expect(records.count == 9)
        #expect(records.allSatisfy { $0.features.device == "raspberry-pi-4" && $0.totalSeconds > 0 })
        #expect(records.filter(\.explored).count >= 1)
    }

    @Test("other tenants keep sessions live on the cloud while an edge is served, and stop when told")
    func backgroundTenants() async throws {
        let file = try ModelFile(path: Self.modelPath)
        let model = try file.load()
        let cloud = try LoopbackCloud(model: model, modelIdentity: try file.identity(), relay: nil)
        defer { cloud.stop() }
        let tenants = try CloudBackgroundLoad(sessions: 3, endpoint: cloud.serverEndpoint, link: cloud.link,
                                              modelIdentity: try file.identity(), hiddenSize: model.configuration.hiddenSize,
                                              splitLayer: 1, promptRows: 8, steps: 4)
        let live = SelectionMeasurement.liveSessions(cloud.server, waitingFor: true)
        #expect(live > 0, "no tenant session was live")
        let service = try EdgeService(configuration: .init(modelPath: Self.modelPath, splitLayer: nil, link: cloud.link, workers: 1))
        let summary = try await service.complete(CompletionRequest(prompt: "Hello", maxTokens: 3, strategy: "cloud")) { _ in }
        #expect(summary.completionTokenCount > 0)
        try tenants.check()
        tenants.stop()
        try tenants.check()
    }
}
