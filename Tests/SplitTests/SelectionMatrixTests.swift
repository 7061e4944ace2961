import Foundation
import Testing
@testable import Split
@testable import SplitBench

@Suite("Selection matrix and suite")
struct SelectionMatrixTests {
    static let shape = SplitPlannerTests.smolLM
    static let strategies: [Strategy] = [.local, .cloud(encoding: .f32)]

    static func suite() throws -> SelectionSuite {
        let store = ProfileStoreTests.store
        return SelectionSuite(devices: [.init(name: "fast", slowdown: 1), .init(name: "slow", slowdown: 8)],
                              networks: [try store.network("ethernet-lan"), try store.network("lte")],
                              workloads: [.init(name: "short", promptTokens: 16, outputTokens: 8)],
                              requirements: [.exact],
                              cloudLoads: [.idle, .init(name: "busy", backgroundSessions: 8, networks: ["ethernet-lan"])])
    }

    /// A matrix over `suite()` in which the cloud is 5 ms away, 40 ms when busy; local takes
    /// 20 ms on the fast device and 160 ms on the slow one.
    static func matrix() throws -> SelectionMatrix {
        let suite = try suite()
        let store = ProfileStoreTests.store
        var matrix = SelectionMatrix(model: "test", shape: shape, suite: suite, strategies: strategies.map(\.description), repeats: 2,
                                     command: "test")
        for (load, network) in suite.loadedNetworks {
            for device in suite.devices {
                let workload = suite.workloads[0]
                let features = TaskFeatures(promptTokens: workload.promptTokens, outputTokens: workload.outputTokens,
                                            requirement: .exact, device: try store.device("laptop-x86").slowed(by: device.slowdown, name: device.name),
                                            network: network, cloudLoad: 1 + Double(load.backgroundSessions), shape: shape)
                let local = 0.02 * device.slowdown, cloud = load.backgroundSessions > 0 ? 0.04 : 0.005
                let runs = [strategies[0].description: [local, local * 1.1], strategies[1].description: [cloud, cloud * 1.1]]
                    .mapValues { $0.map { SelectionMatrix.Run(totalSeconds: $0, timeToFirstTokenSeconds: $0 / 2, outputTokens: 8,
                                                              agreement: 1, roundTrips: 1, acceptanceRate: nil) } }
                matrix.cells.append(.init(device: device.name, network: network.name, workload: workload.name, cloudLoad: load.name,
                                          features: features, runs: runs, loadAverage: 0.5))
            }
        }
        return matrix
    }

    @Test("the standard suite adds a busy cloud over the two fast links only, and none when asked for no tenants")
    func standardSuiteCloudLoads() throws {
        let busy = try SelectionSuite.standard(store: ProfileStoreTests.store)
        #expect(busy.cloudLoads.map(\.name) == ["idle", "busy"])
        #expect(busy.loadedNetworks.count == busy.networks.count + 2)
        #expect(busy.loadedNetworks.filter { $0.load.name == "busy" }.map(\.network.name) == ["ethernet-lan", "wifi"])
        #expect(try SelectionSuite.standard(store: ProfileStoreTests.store, busyCloudSessions: 0).cloudLoads == [.idle])
    }

    @Test("a matrix written before the cloud load was varied reads back as measured on an idle cloud")
    func oldMatricesReadAsIdle() throws {
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(try Self.matrix())) as? [String: Any])
        var suite = try #require(object["suite"] as? [String: Any])
        suite["cloudLoads"] = nil
        object["suite"] = suite
        object["cells"] = (object["cells"] as? [[String: Any]])?.map { cell in cell.filter { $0.key != "cloudLoad" } }
        let old = try JSONDecoder().decode(SelectionMatrix.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.suite.cloudLoads == [.idle])
        #expect(old.cells.count == 6)
        #expect(old.cells.allSatisfy { $0.cloudLoad == "idle" && $0.toppedUpLoadAverage == nil })
    }

    @Test("a measurement adds only the rounds a cell lacks when the repeats grow")
    func topUpRounds() throws {
        let measurement = SelectionMeasurement(modelPath: "unused", suite: try Self.suite(), strategies: Self.strategies, repeats: 5)
        let cell = try Self.matrix().cells[0]
        #expect(measurement.roundsMissing(nil, of: Self.strategies) == 5)
        #expect(measurement.roundsMissing(cell, of: Self.strategies) == 3)
        var short = cell
        short.runs[Self.strategies[1].description]?.removeLast()
        #expect(measurement.roundsMissing(short, of: Self.strategies) == 4)
        let fewer = SelectionMeasurement(modelPath: "unused", suite: try Self.suite(), strategies: Self.strategies, repeats: 1)
        #expect(fewer.roundsMissing(cell, of: Self.strategies) == 0)
    }

    @Test("the evaluation holds out each cloud load when the matrix varies it, and never breaks an exact request")
    func cloudLoadGrouping() throws {
        let store = ProfileStoreTests.store
        let evaluation = try SelectionEvaluation(matrix: try Self.matrix(), thisMachine: try store.device("laptop-x86"),
                                                 cloud: try store.device("laptop-x86"), calibration: nil)
        #expect(evaluation.groupings == [.network, .device, .cloudLoad])
        // The oracle is the cloud except on the busy cloud from the fast device.
        let busyFast = try #require(evaluation.tasks.first { evaluation.matrix.cells[$0.cellIndex].cloudLoad == "busy"
                && evaluation.matrix.cells[$0.cellIndex].device == "fast" })
        #expect(busyFast.oracle == "local")
        let outcomes = try evaluation.run(methods: [.oracle, .singleBest, .planner, .meta])
        #expect(Set(outcomes.map(\.grouping)) == [.network, .device, .cloudLoad])
        #expect(outcomes.filter { $0.grouping == .cloudLoad && $0.method == .oracle }.count == evaluation.tasks.count)
        #expect(outcomes.allSatisfy { !$0.violation })
    }

    @Test("two halves of a cell's runs retest the oracle's label, and strategies whose runs overlap the oracle's count as tied")
    func labelRetestAndTies() throws {
        var matrix = try Self.matrix()
        let local = Self.strategies[0].description, cloud = Self.strategies[1].description
        for index in matrix.cells.indices {
            matrix.cells[index].runs = matrix.cells[index].runs.mapValues { $0 + $0 }
        }
        // Cell 0: local's first runs beat the cloud, its later ones lose; over all four the cloud
        // is faster by the median, yet local's fastest run is quicker than the cloud's slowest.
        func runs(_ milliseconds: [Double]) -> [SelectionMatrix.Run] {
            milliseconds.map { .init(totalSeconds: $0 / 1000, timeToFirstTokenSeconds: 0, outputTokens: 8, agreement: 1, roundTrips: 1,
                                     acceptanceRate: nil) }
        }
        matrix.cells[0].runs = [local: runs([10, 12, 30, 32]), cloud: runs([20, 20, 20, 20])]
        let store = ProfileStoreTests.store
        let evaluation = try SelectionEvaluation(matrix: matrix, thisMachine: try store.device("laptop-x86"),
                                                 cloud: try store.device("laptop-x86"), calibration: nil)
        let first = try #require(evaluation.tasks.first { $0.cellIndex == 0 })
        #expect(first.oracle == cloud)
        #expect(first.tiedWithOracle == [local, cloud])
        #expect(evaluation.tasks.filter { $0.cellIndex != 0 }.allSatisfy { $0.tiedWithOracle == [$0.oracle] })
        let retest = try #require(evaluation.labelRetest())
        #expect(retest.tasks == evaluation.tasks.count)
        #expect(abs(retest.agreement - Double(retest.tasks - 1) / Double(retest.tasks)) < 1e-12)
        #expect(try SelectionEvaluation(matrix: try Self.matrix(), thisMachine: try store.device("laptop-x86"),
                                        cloud: try store.device("laptop-x86"), calibration: nil).labelRetest() == nil)
        let outcomes = try evaluation.run(methods: [.oracle, .random, .planner])
        #expect(outcomes.allSatisfy { $0.top1OrTied >= $0.top1 })
    }
}
