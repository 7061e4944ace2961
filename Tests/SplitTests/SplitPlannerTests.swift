import Foundation
import Testing
@testable import Split

@Suite("Cost model and split planner")
struct SplitPlannerTests {
    static let store = ProfileStoreTests.store

    /// SmolLM2-135M's shape in f16 (30 layers, d 576), as tools/bench/make_smollm_shape.py writes it.
    static let smolLM = ModelShape(
        configuration: ModelConfiguration(
            architecture: .llama, vocabularySize: 49152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30,
            headCount: 9, kvHeadCount: 3, headDimension: 64, normEpsilon: 1e-5, normKind: .rms, feedForward: .gatedSiLU,
            ropeTheta: 10000, ropeLayout: .neox, ropeDimensions: 64, maxPositions: 2048, attentionBias: false,
            tiedEmbeddings: true),
        bytesPerWeight: 2, name: "smollm2-135m-f16")

    static func planner(edge: String, cloud: String, network: String, memoryLimit: Int? = nil, load: Double = 1,
                        encodings: [ActivationEncoding] = ActivationEncoding.allCases) throws -> SplitPlanner {
        let model = CostModel(shape: smolLM, edge: try store.device(edge), cloud: try store.device(cloud),
                              network: try store.network(network), cloudLoadFactor: load)
        return SplitPlanner(costModel: model, memoryLimitBytes: memoryLimit, encodings: encodings)
    }

    @Test("the shape's parameter count is SmolLM2-135M's")
    func shapeCountsParameters() {
        let total = Self.smolLM.layerCount * Self.smolLM.layerParameters + Self.smolLM.embeddingBytes / 2
        #expect(abs(Double(total) - 134.5e6) < 1e6, "\(total)")
    }

    @Test("the planner never picks a split whose edge part does not fit the memory limit",
          arguments: ["satellite", "lte", "ethernet-lan"])
    func neverExceedsMemory(network: String) throws {
        let all = try Self.planner(edge: "raspberry-pi-4", cloud: "cloud-gpu-a100", network: network).table()
        let needs = all.map(\.estimate.edgeMemoryBytes)
        #expect(needs == needs.sorted(), "memory must grow with k")
        // Limits just below and just above every k's need.
        for limit in needs.flatMap({ [$0 - 1, $0] }) where limit >= needs[0] {
            let plan = try Self.planner(edge: "raspberry-pi-4", cloud: "cloud-gpu-a100", network: network, memoryLimit: limit).plan()
            #expect(plan.choice.edgeMemoryBytes <= limit, "k=\(plan.choice.splitLayer) needs \(plan.choice.edgeMemoryBytes) > \(limit)")
            #expect(plan.rows.filter(\.fits).allSatisfy { $0.estimate.edgeMemoryBytes <= limit })
        }
        #expect(throws: SplitPlanner.PlanError.nothingFits(memoryLimitBytes: needs[0] - 1, smallestNeededBytes: needs[0])) {
            try Self.planner(edge: "raspberry-pi-4", cloud: "cloud-gpu-a100", network: network, memoryLimit: needs[0] - 1).plan()
        }
    }

    @Test("over a satellite link a laptop runs the model itself; a Pi on the LAN of an A100 sends it to the cloud")
    func choiceFollowsTheLink() throws {
        let satellite = try Self.planner(edge: "laptop-x86", cloud: "cloud-gpu-a100", network: "satellite").plan()
        #expect(satellite.choice.splitLayer == 30 && satellite.choice.strategy == "local")
        let lan = try Self.planner(edge: "raspberry-pi-4", cloud: "cloud-gpu-a100", network: "ethernet-lan").plan()
        #expect(lan.choice.splitLayer < 5, "\(lan.choice)")
        #expect(lan.rows.count == 31)
        // The choice is the minimum of the table's fitting rows.
        let best = lan.rows.filter(\.fits).map(\.estimate.decode.totalSeconds).min() ?? 0
        #expect(lan.choice.decode.totalSeconds == best)
    }

    @Test("a loaded cloud pushes the split toward the edge")
    func loadMovesTheSplit() throws {
        let idle = try Self.planner(edge: "laptop-x86", cloud: "cloud-cpu-32core", network: "ethernet-lan").plan()
        let busy = try Self.planner(edge: "laptop-x86", cloud: "cloud-cpu-32core", network: "ethernet-lan", load: 50).plan()
        #expect(busy.choice.splitLayer > idle.choice.splitLayer, "idle \(idle.choice.splitLayer), busy \(busy.choice.splitLayer)")
        let k = 10
        let a = idle.rows[k].estimate.decode.cloudSeconds, b = busy.rows[k].estimate.decode.cloudSeconds
        #expect(abs(b / a - 50) < 1e-6)
    }

    @Test("on a slow uplink the smallest encoding wins; bytes per token follow the wire's sizes")
    func encodingFollowsBandwidth() throws {
        let transfer = TransferModel(network: try Self.store.network("satellite"), hiddenSize: 576)
        let f32 = transfer.requestBytes(rows: 1, encoding: .f32), f16 = transfer.requestBytes(rows: 1, encoding: .f16)
        let q32 = transfer.requestBytes(rows: 1, encoding: .int8Block32), q64 = transfer.requestBytes(rows: 1, encoding: .int8Block64)
        #expect(f32 - f16 == 576 * 2)
        #expect(f16 - q32 == 576 * 2 - (576 + 18 * 4))
        #expect(q32 - q64 == 9 * 4)
        // The request size is the size the wire encoder produces for a real message.
        let rows = try EncodedActivations(encoding: .f16, rows: 1, hiddenSize: 576, values: [Float](repeating: 0.5, count: 576))
        let message = try WireEncoder().encode(.step(.init(sessionID: 9, requestID: 3, startPosition: 77, activations: rows)))
        #expect(f16 == message.count + TransferModel.transportOverheadBytes)
        let plan = try Self.planner(edge: "raspberry-pi-4", cloud: "cloud-gpu-a100", network: "satellite", memoryLimit: 300 << 20).plan()
        let splitRows = plan.rows.filter { $0.estimate.encoding != nil }
        #expect(splitRows.allSatisfy { $0.estimate.encoding == "int8-64" })
        let exact = try Self.planner(edge: "raspberry-pi-4", cloud: "cloud-gpu-a100", network: "satellite", encodings: [.f32, .f16]).plan()
        #expect(exact.rows.filter { $0.estimate.encoding != nil }.allSatisfy { $0.estimate.encoding == "f16" })
    }

    @Test("local generation has no transfer and no cloud time; a split pays at least one round trip per token")
    func breakdownParts() throws {
        let planner = try Self.planner(edge: "laptop-x86", cloud: "cloud-cpu-32core", network: "lte")
        let rows = planner.table()
        let local = rows[30].estimate
        #expect(local.decode.transferSeconds == 0 && local.decode.cloudSeconds == 0 && local.encoding == nil)
        for row in rows.dropLast() {
            #expect(row.estimate.decode.transferSeconds >= 0.05)
            #expect(row.estimate.firstToken.totalSeconds > row.estimate.decode.totalSeconds)
            // The prompt's request (the edge keeps its connection open, so no handshake): one
            // 50 ms round trip plus the prompt's bytes over LTE's uplink, well under the 200 ms
            // that a handshake and hello (four more round trips) would add.
            #expect(row.estimate.firstToken.transferSeconds >= 0.05)
            #expect(row.estimate.firstToken.transferSeconds < 0.05 + 0.2)
        }
        #expect(rows[20].estimate.decode.edgeSeconds > rows[10].estimate.decode.edgeSeconds)
        #expect(rows[20].estimate.decode.cloudSeconds < rows[10].estimate.decode.cloudSeconds)
    }

    @Test("a device's measured layer times replace the roofline for that shape")
    func calibrationIsUsed() throws {
        var device = try Self.store.device("raspberry-pi-4")
        let shape = Self.smolLM
        let roofline = LayerTimeModel(shape: shape, device: device)
        device.calibrations = [LayerCalibration(
            modelShape: shape.signature, source: "test", promptTokens: 64, decodeContext: 80, embedSeconds: 1e-6, headSeconds: 0.05,
            layerPrefillSeconds: [Double](repeating: 0.2, count: 30), layerDecodeSeconds: (0..<30).map { 0.01 + Double($0) * 1e-4 })]
        let calibrated = LayerTimeModel(shape: shape, device: device)
        #expect(calibrated.calibration != nil && roofline.calibration == nil)
        #expect(abs(calibrated.layerDecodeSeconds(7, context: 80) - 0.0107) < 1e-12)
        #expect(abs(calibrated.layerPrefillSeconds(3, tokens: 64) - 0.2) < 1e-12)
        #expect(calibrated.layerPrefillSeconds(3, tokens: 128) > 0.2)
        #expect(calibrated.headSeconds == 0.05)
        // Another shape does not pick up the calibration.
        var other = shape
        other.layerCount = 12
        #expect(LayerTimeModel(shape: other, device: device).calibration == nil)
    }
}

@Suite("Re-planning on link drift")
struct LinkDriftMonitorTests {
    @Test("steady samples near the plan's figures never ask for a re-plan")
    func steadyLinkKeepsPlan() {
        var monitor = LinkDriftMonitor(roundTripSeconds: 0.05, bitsPerSecond: 10e6)
        for index in 0..<100 {
            let afterRoundTrip = monitor.record(roundTripSeconds: 0.05 + (index % 2 == 0 ? 0.01 : -0.01))
            let afterBandwidth = monitor.record(bitsPerSecond: 9e6)
            #expect(!afterRoundTrip && !afterBandwidth)
        }
    }

    @Test("one slow ping does not ask for a re-plan; a sustained doubling of the round trip does")
    func sustainedDriftAsksForReplan() {
        var monitor = LinkDriftMonitor(roundTripSeconds: 0.05, bitsPerSecond: 10e6)
        for _ in 0..<10 { _ = monitor.record(roundTripSeconds: 0.05) }
        let afterOutlier = monitor.record(roundTripSeconds: 0.5)
        #expect(!afterOutlier)
        for _ in 0..<3 { _ = monitor.record(roundTripSeconds: 0.05) }
        #expect(!monitor.needsReplan)
        var asked = false
        for _ in 0..<20 where !asked { asked = monitor.record(roundTripSeconds: 0.1) }
        #expect(asked)
        monitor.rebaseline()
        #expect(!monitor.needsReplan)
        #expect(monitor.baselineRoundTripSeconds == 0.1)
    }

    @Test("a bandwidth drop past the threshold asks for a re-plan")
    func bandwidthDropAsksForReplan() {
        var monitor = LinkDriftMonitor(roundTripSeconds: 0.02, bitsPerSecond: 40e6, threshold: 0.5)
        var asked = false
        for _ in 0..<30 where !asked { asked = monitor.record(bitsPerSecond: 5e6) }
        #expect(asked)
    }
}
