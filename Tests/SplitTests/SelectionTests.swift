import Foundation
import Testing
@testable import Split

@Suite("Strategy selection")
struct SelectionTests {
    static let shape = SplitPlannerTests.smolLM

    static func task(requirement: QualityRequirement, device: String = "raspberry-pi-4", network: String = "lte",
                     prompt: Int = 64, output: Int = 16) throws -> TaskFeatures {
        TaskFeatures(promptTokens: prompt, outputTokens: output, requirement: requirement,
                     device: try ProfileStoreTests.store.device(device), network: try ProfileStoreTests.store.network(network),
                     shape: shape)
    }

    static func selector(_ learner: SelectionLearner, exploration: Double = 0) throws -> StrategySelector {
        let store = ProfileStoreTests.store
        let prior = PlannerPrior(shape: shape, cloud: try store.device("cloud-gpu-a100"),
                                 devices: [try store.device("raspberry-pi-4"), try store.device("laptop-x86")], calibration: nil)
        return StrategySelector(candidates: StrategyCatalogue.standard(layerCount: shape.layerCount).strategies(layerCount: shape.layerCount),
                                prior: prior, learner: learner, explorationRate: exploration)
    }

    /// A history in which every approximate strategy measured 100 times faster than anything
    /// exact, with perfect agreement: the strongest pull towards breaking an exact request.
    static func poisonedHistory(_ selector: StrategySelector) throws -> [HistoryRecord] {
        var records: [HistoryRecord] = []
        for network in ["ethernet-lan", "wifi", "5g", "lte"] {
            for requirement in [QualityRequirement.exact, .agreement(0.5)] {
                let features = try task(requirement: requirement, network: network)
                for strategy in selector.candidates {
                    let seconds = strategy.guarantee == .exact ? 1.0 : 0.01
                    records.append(HistoryRecord(features: features, strategy: strategy.description, timeToFirstTokenSeconds: seconds / 2,
                                                 totalSeconds: seconds, outputTokens: 16, agreement: 1))
                }
            }
        }
        return records
    }

    @Test("an exact request never gets an approximate strategy, whatever the history and exploration say",
          arguments: SelectionLearner.allCases)
    func exactnessNeverViolated(learner: SelectionLearner) throws {
        for exploration in [0.0, 1.0] {
            var selector = try Self.selector(learner, exploration: exploration)
            selector.train(on: try Self.poisonedHistory(selector))
            var random = SplitMix64(state: 7)
            for network in ["ethernet-lan", "wifi", "5g", "lte", "satellite"] {
                for device in ["raspberry-pi-4", "laptop-x86"] {
                    for prompt in [1, 64, 500] {
                        let exact = try Self.task(requirement: .exact, device: device, network: network, prompt: prompt)
                        for _ in 0..<5 {
                            let selection = try selector.select(for: exact, using: &random)
                            #expect(selection.strategy.guarantee == .exact, "\(selection.strategy) for an exact request")
                        }
                    }
                }
            }
            // The same history does pick approximate strategies when the request allows them.
            let loose = try Self.task(requirement: .agreement(0.5))
            if learner != .planner && exploration == 0 {
                #expect(try selector.select(for: loose, using: &random).strategy.guarantee == .approximate)
            }
        }
    }

    @Test("an admitted strategy cannot be made from an approximate strategy for an exact request")
    func admissionChecksTheRequirement() {
        let exit = Strategy.splitExit(layer: 4, threshold: 0.9, minExitLayer: nil, encoding: .f32)
        #expect(AdmittedStrategy(exit, for: .exact, expectedAgreement: 1) == nil)
        #expect(AdmittedStrategy(.split(layer: 4, encoding: .f16), for: .exact, expectedAgreement: 1) == nil)
        #expect(AdmittedStrategy(.split(layer: 4, encoding: .f32), for: .exact, expectedAgreement: 0) != nil)
        #expect(AdmittedStrategy(exit, for: .agreement(0.9), expectedAgreement: 0.8) == nil)
        #expect(AdmittedStrategy(exit, for: .agreement(0.9), expectedAgreement: 0.95) != nil)
    }

    @Test("quality requirements read back and bad ones are refused")
    func requirementParsing() throws {
        #expect(try QualityRequirement.parse("exact") == .exact)
        #expect(try QualityRequirement.parse("agreement>=0.9") == .agreement(0.9))
        #expect(try QualityRequirement.parse(QualityRequirement.agreement(0.4).description) == .agreement(0.4))
        for bad in ["", "approx", "agreement>=1.5", "agreement>=x"] {
            #expect(throws: CompletionError.self) { try QualityRequirement.parse(bad) }
        }
    }

    @Test("the standard catalogue lists every strategy kind with its grid, each name reading back")
    func catalogue() throws {
        let strategies = StrategyCatalogue.standard(layerCount: 8).strategies(layerCount: 8)
        #expect(strategies.count == 1 + 3 + 9 + 2 + 4)
        #expect(Set(strategies.map(\.description)).count == strategies.count)
        for strategy in strategies { #expect(try Strategy.parse(strategy.description, default: "local") == strategy) }
        #expect(strategies.filter { $0.guarantee == .exact }.count == 1 + 1 + 3 + 4)
        #expect(StrategyCatalogue.controlModes.first { $0.mode == .sync }?.guarantee == .exact)
    }

    @Test("ridge regression recovers a linear function")
    func ridge() {
        var samples: [(x: [Double], y: Double)] = []
        for i in 0..<50 {
            let a = Double(i % 7), b = Double(i % 5)
            samples.append(([1, a, b], 0.5 + 2 * a - 3 * b))
        }
        let fit = RidgeRegression(samples: samples, lambda: 1e-6)
        #expect(abs(fit.predict([1, 3, 2]) - (0.5 + 6 - 6)) < 1e-3)
        #expect(RidgeRegression(samples: [], lambda: 1).predict([1]) == 0)
    }

    @Test("the meta-learner moves from the planner's choice to what history measured faster")
    func learnsFromHistory() throws {
        var selector = try Self.selector(.meta)
        let task = try Self.task(requirement: .exact)
        let planned = try selector.select(for: task).strategy
        let target = Strategy.splitSpec(layer: 15, draftLength: 6, adaptive: false, encoding: .f32)
        #expect(planned != target)
        var records: [HistoryRecord] = []
        for network in ["5g", "lte", "wifi"] {
            for prompt in [16, 64, 128] {
                let features = try Self.task(requirement: .exact, network: network, prompt: prompt)
                for strategy in selector.candidates {
                    let planned = selector.prior.predictedSeconds(strategy, for: features)
                    records.append(HistoryRecord(features: features, strategy: strategy.description, timeToFirstTokenSeconds: 0,
                                                 totalSeconds: strategy == target ? planned / 10 : planned * 2, outputTokens: 16))
                }
            }
        }
        selector.train(on: records)
        #expect(try selector.select(for: task).strategy == target)
    }

    @Test("the planner prior prices every candidate, local without the network and drafts below plain split over a long link")
    func priorPricesEveryStrategy() throws {
        let selector = try Self.selector(.planner)
        let lte = try Self.task(requirement: .exact)
        let satellite = try Self.task(requirement: .exact, network: "satellite")
        for strategy in selector.candidates {
            let seconds = selector.prior.predictedSeconds(strategy, for: lte)
            #expect(seconds.isFinite && seconds > 0, "\(strategy)")
        }
        #expect(selector.prior.predictedSeconds(.local, for: lte) == selector.prior.predictedSeconds(.local, for: satellite))
        let plain = selector.prior.predictedSeconds(.split(layer: 15, encoding: .f32), for: satellite)
        let spec = selector.prior.predictedSeconds(.splitSpec(layer: 15, draftLength: 6, adaptive: false, encoding: .f32), for: satellite)
        #expect(spec < plain)
    }
}
