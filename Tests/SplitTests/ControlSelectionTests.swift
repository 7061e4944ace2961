import Foundation
import Testing
@testable import Split
@testable import SplitBench

@Suite("Strategy selection for robot action-chunk tasks")
struct ControlSelectionTests {
    static let control = StrategyCatalogue.controlStrategies(layerCount: 4)

    @Test("control strategies read back by name, and only sync with an exact placement is exact")
    func controlStrategyNames() throws {
        #expect(Self.control.count == 9)
        for strategy in Self.control {
            #expect(try Strategy.parse(strategy.description, default: "local") == strategy)
            #expect(strategy.taskKind == .actionChunk)
            guard case .control(let mode, let placement) = strategy else { throw ControlError.badChunk("not a control strategy") }
            #expect(strategy.guarantee == (mode == .sync ? .exact : .approximate))
            #expect(strategy.splitLayer == placement.splitLayer)
        }
        #expect(try Strategy.parse("future-state-async@split(k=2,f32)", default: "local")
                == .control(mode: .futureStateAsync, placement: .split(layer: 2, encoding: .f32)))
        #expect(try Strategy.parse("sync@cloud(f16)", default: "local").guarantee == .approximate)
        #expect(throws: CompletionError.self) { try Strategy.parse("fast@local", default: "local") }
        #expect(throws: CompletionError.self) { try Strategy.parse("sync@split-spec(k=2,gamma=3)", default: "local") }
        #expect(throws: CompletionError.self) { try Strategy.parse("sync@sync@local", default: "local") }
        #expect(Strategy.local.taskKind == .completion)
    }

    @Test("the reaction prior: async reacts sooner than sync, and a longer delay never sooner")
    func reactionPrior() {
        for d in [1, 2, 4, 8] {
            #expect(ControlReaction.expectedSeconds(mode: .futureStateAsync, delaySteps: d)
                    < ControlReaction.expectedSeconds(mode: .sync, delaySteps: d))
        }
        for mode in ControlMode.allCases {
            #expect(ControlReaction.expectedSeconds(mode: mode, delaySteps: 1) < ControlReaction.expectedSeconds(mode: mode, delaySteps: 12))
            #expect(ControlReaction.expectedSeconds(mode: mode, delaySteps: 200) >= ControlReaction.expectedSeconds(mode: mode, delaySteps: 45))
        }
        // Naive async aligns a chunk by its observation's step: one slower than its 16 actions
        // is stale on arrival, the robot never acts on it, and the run counts as never reacting.
        #expect(ControlReaction.expectedSeconds(mode: .naiveAsync, delaySteps: 15) < 1)
        #expect(ControlReaction.expectedSeconds(mode: .naiveAsync, delaySteps: 16) > 100)
        #expect(ControlReaction.expectedSeconds(mode: .futureStateAsync, delaySteps: 16) < 1)
        #expect(ControlReaction.delaySteps(seconds: 0.001) == 1)
        #expect(ControlReaction.delaySteps(seconds: 0.034) == 2)
        #expect(ControlReaction.delaySteps(seconds: .nan) == 1)
        #expect(throws: SelectionError.self) { try ControlReaction.scenario(named: "dance") }
    }

    @Test("a run answered request by request equals the simulated run at the same delays")
    func answeredRunMatchesSimulated() {
        let settings = ControlReaction.settings(.futureStateAsync)
        let simulated = SimulatedControlRun.run(scenario: .course(), settings: settings, policy: ScriptedExpert(),
                                                latency: LatencyModel(.constant(steps: 3)))
        let answered = SimulatedControlRun.run(scenario: .course(), settings: settings) { request, _ in
            (ScriptedExpert().chunk(state: request.state, target: request.target), 3)
        }
        #expect(ControlMetrics(trace: answered) == ControlMetrics(trace: simulated))
        #expect(answered.requests == simulated.requests)
    }

    static func selector(_ learner: SelectionLearner) throws -> StrategySelector {
        let store = ProfileStoreTests.store
        let prior = PlannerPrior(shape: SelectionTests.shape, policyShape: RobotShape.shape, cloud: try store.device("cloud-gpu-a100"),
                                 devices: [try store.device("raspberry-pi-4")], calibration: nil)
        let completions = StrategyCatalogue.standard(layerCount: SelectionTests.shape.layerCount)
            .strategies(layerCount: SelectionTests.shape.layerCount)
        return StrategySelector(candidates: completions + Self.control, prior: prior, learner: learner, explorationRate: 1)
    }

    static func chunkTask(_ requirement: QualityRequirement, network: String = "lte") throws -> TaskFeatures {
        TaskFeatures(kind: .actionChunk, promptTokens: PolicyInput.tokenCount, outputTokens: 16, requirement: requirement,
                     device: try ProfileStoreTests.store.device("raspberry-pi-4"), network: try ProfileStoreTests.store.network(network),
                     shape: RobotShape.shape)
    }

    @Test("the selector picks among the strategies of the task's kind, and never async for an exact action chunk",
          arguments: SelectionLearner.allCases)
    func picksPerKind(learner: SelectionLearner) throws {
        var selector = try Self.selector(learner)
        // History in which async is 100 times faster than sync: the pull towards breaking exactness.
        var records: [HistoryRecord] = []
        for network in ["wifi", "lte"] {
            let features = try Self.chunkTask(.exact, network: network)
            for strategy in Self.control {
                let seconds = strategy.guarantee == .exact ? 1.0 : 0.01
                records.append(HistoryRecord(features: features, strategy: strategy.description, timeToFirstTokenSeconds: 0.01,
                                             totalSeconds: seconds, outputTokens: 16, agreement: 1))
            }
        }
        selector.train(on: records)
        var random = SplitMix64(state: 3)
        for _ in 0..<20 {
            let exact = try selector.select(for: try Self.chunkTask(.exact), using: &random)
            #expect(exact.strategy.taskKind == .actionChunk)
            #expect(exact.strategy.guarantee == .exact, "\(exact.strategy) for an exact action chunk")
            #expect(exact.predictions.allSatisfy { $0.strategy.taskKind == .actionChunk })
            let loose = try selector.select(for: try Self.chunkTask(.agreement(0)), using: &random)
            #expect(loose.strategy.taskKind == .actionChunk)
            let completion = try selector.select(for: try SelectionTests.task(requirement: .agreement(0.4)), using: &random)
            #expect(completion.strategy.taskKind == .completion)
        }
    }

    @Test("the prior prices only control strategies for an action chunk, async reacting sooner than sync")
    func priorPricesControl() throws {
        let selector = try Self.selector(.planner)
        let task = try Self.chunkTask(.agreement(0))
        let predictions = selector.predictions(for: task)
        #expect(predictions.count == Self.control.count)
        let sync = try #require(predictions.first { $0.strategy == .control(mode: .sync, placement: .cloud(encoding: .f32)) })
        let async = try #require(predictions.first { $0.strategy == .control(mode: .futureStateAsync, placement: .cloud(encoding: .f32)) })
        #expect(async.predictedSeconds < sync.predictedSeconds)
    }

    @Test("among control strategies the loop cannot tell apart, the selector takes the one whose chunk comes back soonest",
          arguments: ["ethernet-lan", "wifi", "lte", "satellite"])
    func soonestChunkAmongAlike(network: String) throws {
        let selector = try Self.selector(.planner)
        for requirement in [QualityRequirement.exact, .agreement(0)] {
            let task = try Self.chunkTask(requirement, network: network)
            var random = SplitMix64(state: 1)
            var exploring = selector
            exploring.explorationRate = 0
            let selection = try exploring.select(for: task, using: &random)
            let admitted = selection.predictions.filter(\.admitted)
            let best = try #require(admitted.map(\.predictedSeconds).min())
            let alike = admitted.filter { $0.predictedSeconds <= best + ControlReaction.periodSeconds / 2 }
            let chosen = try #require(selection.predictions.first { $0.strategy == selection.strategy })
            #expect(alike.contains { $0.strategy == chosen.strategy })
            let soonest = try #require(chosen.chunkSeconds)
            #expect(alike.allSatisfy { ($0.chunkSeconds ?? 0) >= soonest })
        }
    }

    @Test("the evaluation scores action-chunk tasks among control strategies, with a single best per kind")
    func evaluationWithBothKinds() throws {
        var matrix = try SelectionMatrixTests.matrix()
        matrix.policyShape = RobotShape.shape
        matrix.suite.controlWorkloads = [.init(name: "course", promptTokens: PolicyInput.tokenCount, outputTokens: 16)]
        matrix.suite.controlRequirements = [.exact, .agreement(0)]
        let control = [Strategy.control(mode: .sync, placement: .local), .control(mode: .futureStateAsync, placement: .local)]
        matrix.strategies += control.map(\.description)
        let store = ProfileStoreTests.store
        for network in matrix.suite.networks {
            for device in matrix.suite.devices {
                let features = TaskFeatures(kind: .actionChunk, promptTokens: 2, outputTokens: 16, requirement: .exact,
                                            device: try store.device("laptop-x86").slowed(by: device.slowdown, name: device.name),
                                            network: network, shape: RobotShape.shape)
                func runs(_ seconds: Double) -> [SelectionMatrix.Run] {
                    [seconds, seconds * 1.1].map { .init(totalSeconds: $0, timeToFirstTokenSeconds: 0.001, outputTokens: 30, agreement: 1,
                                                         roundTrips: 0) }
                }
                matrix.cells.append(.init(device: device.name, network: network.name, workload: "course", cloudLoad: "idle",
                                          features: features, runs: [control[0].description: runs(0.4), control[1].description: runs(0.1)],
                                          loadAverage: 0.5))
            }
        }
        let evaluation = try SelectionEvaluation(matrix: matrix, thisMachine: try store.device("laptop-x86"),
                                                 cloud: try store.device("laptop-x86"), calibration: nil)
        let chunks = evaluation.tasks.filter { $0.features.kind == .actionChunk }
        #expect(chunks.count == 2 * 2 * 2)
        #expect(chunks.filter { $0.features.requirement == .exact }.allSatisfy { $0.oracle == control[0].description })
        #expect(chunks.filter { $0.features.requirement != .exact }.allSatisfy { $0.oracle == control[1].description })
        let best = evaluation.singleBest(train: evaluation.tasks)
        #expect(best[.actionChunk]?[.exact] == control[0].description)
        #expect(best[.completion]?[.exact] != nil)
        let outcomes = try evaluation.run(methods: [.oracle, .random, .singleBest, .expert, .planner, .meta])
        for outcome in outcomes where outcome.kind == .actionChunk && outcome.method != .random {
            #expect(try Strategy.parse(outcome.choice, default: "local").taskKind == .actionChunk)
        }
        #expect(outcomes.allSatisfy { !$0.violation })
        let rows = SelectionReport.rows(outcomes)
        #expect(rows.contains { $0.grouping == "all/action-chunk" && $0.method == "meta" })
    }

    @Test("async control serves only a request that allows any agreement; sync with a rounded placement by its agreement")
    func asyncNeedsAgreementZero() {
        let naive = Strategy.control(mode: .naiveAsync, placement: .local)
        let future = Strategy.control(mode: .futureStateAsync, placement: .cloud(encoding: .f32))
        let roundedSync = Strategy.control(mode: .sync, placement: .cloud(encoding: .f16))
        for strategy in [naive, future] {
            #expect(!QualityRequirement.exact.admits(strategy, expectedAgreement: 1))
            #expect(!QualityRequirement.agreement(0.9).admits(strategy, expectedAgreement: 1))
            #expect(!QualityRequirement.agreement(0.01).admits(strategy, expectedAgreement: 1))
            #expect(QualityRequirement.agreement(0).admits(strategy, expectedAgreement: 0))
        }
        #expect(QualityRequirement.agreement(0.9).admits(roundedSync, expectedAgreement: 0.99))
        #expect(!QualityRequirement.agreement(0.9).admits(roundedSync, expectedAgreement: 0.5))
    }

    @Test("a stopped policy service answers or refuses every request, also those racing the stop")
    func policyServiceStops() async throws {
        let service = try PolicyService(configuration: .init(modelPath: RobotControlTests.policyPath, splitLayer: nil, link: nil, workers: 2))
        let request = ActRequest(state: [0, 0, 0, 0], target: [0.5, 0.5])
        #expect(try await service.act(request).actions.count == service.horizon)
        // Requests sent while the service stops: each must come back, answered or refused (a
        // request queued after the workers left would hang this test).
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<64 {
                if index == 16 { service.stop() }
                group.addTask { (try? await service.act(request)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.count == 64)
        await #expect(throws: ClientAPIError.self) { try await service.act(request) }
    }
}

/// The shape of a small robot policy (4 layers, d = 64) for prior and evaluation tests.
enum RobotShape {
    static let shape = ModelShape(configuration: ModelConfiguration(
        architecture: .llama, vocabularySize: 1, hiddenSize: 64, intermediateSize: 172, layerCount: 4, headCount: 4, kvHeadCount: 4,
        headDimension: 16, normEpsilon: 1e-5, normKind: .rms, feedForward: .gatedSiLU, ropeTheta: 10000, ropeLayout: .neox,
        ropeDimensions: 16, maxPositions: 8, attentionBias: false, tiedEmbeddings: false), bytesPerWeight: 4, name: "policy")
}
