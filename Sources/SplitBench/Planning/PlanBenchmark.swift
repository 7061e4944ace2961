import Foundation
import Split
import Logging

/// Checks the planner against measurement: for each network profile, the link emulator plays
/// the profile between an edge and an in-process cloud on this machine, and every split layer
/// asked for is measured (decode ms/token, time to first token) next to the cost model's
/// prediction; the planner's own pick is measured too and compared with the best measured.
///
/// Edge and cloud are both this machine, so the device profile serves as edge and cloud.
public struct PlanBenchmark: Sendable {
    public var modelPath: String
    public var device: DeviceProfile
    public var promptTokens: Int
    public var decodeTokens: Int
    /// Encoding of the per-k measurements (the planner's pick is measured in its own encoding).
    public var encoding: ActivationEncoding
    /// Measured rounds over all k (links slower than 100 ms round trip get one: their noise is small beside the delay).
    public var rounds: Int
    /// Told the fraction done and what is being measured.
    public var progress: @Sendable (Double, String) -> Void

    /// A benchmark of `modelPath` with `device` as the profile of this machine.
    public init(modelPath: String, device: DeviceProfile, promptTokens: Int = 64, decodeTokens: Int = 16,
                encoding: ActivationEncoding = .f16, rounds: Int = 3, progress: @escaping @Sendable (Double, String) -> Void = { _, _ in }) {
        self.modelPath = modelPath
        self.device = device
        self.promptTokens = promptTokens
        self.decodeTokens = max(2, decodeTokens)
        self.encoding = encoding
        self.rounds = max(1, rounds)
        self.progress = progress
    }

    /// One measured split next to its prediction.
    public struct Row: Sendable, Codable, Equatable {
        public var splitLayer: Int
        public var encoding: String?
        public var predictedDecodeSeconds: Double
        public var measuredDecodeSeconds: Double
        public var predictedFirstTokenSeconds: Double
        public var measuredFirstTokenSeconds: Double
        public var bytesSentPerToken: Double
        /// Whether this is the planner's pick.
        public var planned: Bool
        /// Relative error of the decode prediction.
        public var decodeError: Double { (predictedDecodeSeconds - measuredDecodeSeconds) / measuredDecodeSeconds }
    }

    /// All rows of one network profile and the verdict on the planner's pick.
    public struct NetworkResult: Sendable, Codable {
        public var network: String
        public var roundTripMilliseconds: Double
        public var uplinkMegabitsPerSecond: Double
        public var rows: [Row]
        /// The planner's strategy and its measured decode time.
        public var planned: String
        public var plannedMeasuredDecodeSeconds: Double
        /// The best measured strategy and its decode time.
        public var bestMeasured: String
        public var bestMeasuredDecodeSeconds: Double
        /// The planner's pick measured within 10 % of the best measured.
        public var plannedWithinTenPercent: Bool
    }

    /// Measures `splitLayers` (plus the planner's pick) under each profile.
    /// - Throws: model, key or transport errors.
    public func run(networks: [NetworkProfile], splitLayers: [Int]) throws -> (shape: ModelShape, results: [NetworkResult]) {
        let file = try ModelFile(path: modelPath)
        guard let tokenizer = file.tokenizer else { throw ModelError.missingMetadata("tokenizer") }
        let model = try file.load()
        let c = model.configuration
        let shape = ModelShape(model: model, name: (modelPath as NSString).lastPathComponent)
        let text = SplitBenchmark.prompt(tokenizer: tokenizer, promptTokens: promptTokens, fitting: c.maxPositions - decodeTokens - 1)
        let request = CompletionRequest(prompt: text, maxTokens: decodeTokens)
        let local = try LocalGenerator(model: model, tokenizer: tokenizer)
        let promptLength = local.promptTokens(text).count
        _ = try local.generate(request)  // page in the whole mapping once
        let identity = try file.identity()
        let context = try ZMQContext()
        var silent = Logger(label: "split.bench")
        silent.logLevel = .critical

        var results: [NetworkResult] = []
        for (index, network) in networks.enumerated() {
            let costModel = CostModel(shape: shape, edge: device, cloud: device, network: network,
                                      workload: .init(promptTokens: promptLength, outputTokens: decodeTokens))
            let plan = try SplitPlanner(costModel: costModel).plan()
            var wanted = Set(splitLayers.filter { (0...c.layerCount).contains($0) }).sorted().map { ($0, encoding) }
            let plannedEncoding = plan.choice.encoding.flatMap(ActivationEncoding.init(name:)) ?? encoding
            if !wanted.contains(where: { $0.0 == plan.choice.splitLayer && ($0.0 == c.layerCount || $0.1 == plannedEncoding) }) {
                wanted.append((plan.choice.splitLayer, plannedEncoding))
            }
            let emulated = LinkEmulatorConfiguration(
                targetPort: 0, oneWayDelaySeconds: network.roundTripSeconds / 2, jitterSeconds: network.jitterSeconds / 2,
                bandwidthBitsPerSecond: network.uplinkBitsPerSecond)
            let cloud = try LoopbackCloud(model: model, modelIdentity: identity, relay: EmulatedLink(emulated))
            defer { cloud.stop() }
            // Rounds over every k in turn, so a spell of load from other processes spreads over
            // all k instead of landing on one; each row reports the median of its rounds.
            let rounds = network.roundTripSeconds > 0.1 ? 1 : self.rounds
            var generators: [Int: SplitGenerator] = [:]
            var samples = [[(decode: Double, firstToken: Double, bytes: Double)]](repeating: [], count: wanted.count)
            for round in 0..<rounds {
                for (step, (k, encoding)) in wanted.enumerated() {
                    let done = (Double(round) + Double(step) / Double(wanted.count)) / Double(rounds)
                    progress((Double(index) + done) / Double(networks.count),
                             "\(network.name): round \(round + 1)/\(rounds), k=\(k) \(k == c.layerCount ? "local" : "\(encoding)")")
                    let (result, bytesSent): (GenerationResult, Int)
                    if k == c.layerCount {
                        result = try local.generate(request)
                        bytesSent = 0
                    } else {
                        let generator = try generators[step] ?? {
                            let made = try SplitGenerator(model: model, tokenizer: tokenizer, splitLayer: k, encoding: encoding,
                                                          modelIdentity: identity, link: cloud.link, context: context, logger: silent)
                            _ = try made.generate(CompletionRequest(prompt: text, maxTokens: 2))
                            return made
                        }()
                        generators[step] = generator
                        let report = try generator.generate(request)
                        result = report.result
                        bytesSent = report.bytesSent
                    }
                    samples[step].append((decode: result.decodeSeconds / Double(max(1, result.tokens.count - 1)),
                                          firstToken: result.prefillSeconds,
                                          bytes: Double(bytesSent) / Double(max(1, result.tokens.count))))
                }
            }
            let rows = wanted.enumerated().map { step, wanted -> Row in
                let estimate = costModel.estimate(splitLayer: wanted.0, encoding: wanted.1)
                return Row(splitLayer: wanted.0, encoding: estimate.encoding,
                           predictedDecodeSeconds: estimate.decode.totalSeconds,
                           measuredDecodeSeconds: SampleStatistics.median(samples[step].map(\.decode)),
                           predictedFirstTokenSeconds: estimate.firstToken.totalSeconds,
                           measuredFirstTokenSeconds: SampleStatistics.median(samples[step].map(\.firstToken)),
                           bytesSentPerToken: SampleStatistics.median(samples[step].map(\.bytes)),
                           planned: wanted.0 == plan.choice.splitLayer && estimate.encoding == plan.choice.encoding)
            }
            cloud.stop()
            guard let best = rows.min(by: { $0.measuredDecodeSeconds < $1.measuredDecodeSeconds }),
                  let planned = rows.first(where: \.planned) else { continue }
            func name(_ row: Row) -> String { row.encoding.map { "split(k=\(row.splitLayer),\($0))" } ?? "local" }
            results.append(NetworkResult(
                network: network.name, roundTripMilliseconds: network.roundTripMilliseconds.value,
                uplinkMegabitsPerSecond: network.uplinkMegabitsPerSecond.value, rows: rows,
                planned: name(planned), plannedMeasuredDecodeSeconds: planned.measuredDecodeSeconds,
                bestMeasured: name(best), bestMeasuredDecodeSeconds: best.measuredDecodeSeconds,
                plannedWithinTenPercent: planned.measuredDecodeSeconds <= 1.1 * best.measuredDecodeSeconds))
        }
        progress(1, "done")
        return (shape, results)
    }

    /// The device's measured per-layer times next to the roofline's prediction from its own
    /// kernel figures (no calibration), for `shape`; empty when the profile has no calibration.
    public static func layerErrors(device: DeviceProfile, shape: ModelShape) -> [LayerError] {
        guard let calibration = device.calibration(for: shape) else { return [] }
        let roofline = LayerTimeModel(shape: shape, device: device, calibrated: false)
        return calibration.layerDecodeSeconds.indices.map { layer in
            LayerError(layer: layer,
                       measuredPrefillSeconds: calibration.layerPrefillSeconds[layer],
                       predictedPrefillSeconds: roofline.layerPrefillSeconds(layer, tokens: calibration.promptTokens),
                       measuredDecodeSeconds: calibration.layerDecodeSeconds[layer],
                       predictedDecodeSeconds: roofline.layerDecodeSeconds(layer, context: calibration.decodeContext))
        }
    }

    /// One layer's measured and roofline-predicted times.
    public struct LayerError: Sendable, Codable, Equatable {
        public var layer: Int
        public var measuredPrefillSeconds: Double
        public var predictedPrefillSeconds: Double
        public var measuredDecodeSeconds: Double
        public var predictedDecodeSeconds: Double
    }
}
