import Foundation

/// The selector's cold start: the planner's cost model (`CostModel`), extended from split(k) to
/// every strategy of the catalogue, predicts each candidate's total latency for a task before
/// any history exists. split-exit and split-spec are priced with the edge-answered fraction and
/// draft acceptance that `edge-node calibrate` measured for the model (`ExitCalibration`).
/// Action-chunk tasks are priced as the policy's one forward pass (split as the placement says),
/// turned into the control loop's reaction time by `ControlReaction`.
public struct PlannerPrior: Sendable {
    public let shape: ModelShape
    /// The robot policy's shape, for action-chunk tasks (nil: priced with `shape`).
    public let policyShape: ModelShape?
    /// The cloud's device profile.
    public let cloud: DeviceProfile
    /// Known edge profiles by name; a task on another device is priced from its speed figures.
    public let devices: [String: DeviceProfile]
    public let calibration: ExitCalibration?

    /// A prior for `shape` (and `policyShape` for action chunks) with `cloud` behind every link.
    public init(shape: ModelShape, policyShape: ModelShape? = nil, cloud: DeviceProfile, devices: [DeviceProfile],
                calibration: ExitCalibration?) {
        self.shape = shape
        self.policyShape = policyShape
        self.cloud = cloud
        self.devices = Dictionary(devices.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.calibration = calibration
    }

    /// The edge profile of a task: the known one, or one built from its speed figures.
    public func device(for task: TaskFeatures) -> DeviceProfile {
        if let known = devices[task.device] { return known }
        let source = "task features"
        return DeviceProfile(name: task.device, description: "edge of a task", cores: ProfileFigure(1, source: source),
                             memoryGiB: ProfileFigure(1, source: source),
                             gemmGFLOPPerSecond: ProfileFigure(task.edgeGEMMGFLOPPerSecond, source: source),
                             memoryBandwidthGBPerSecond: ProfileFigure(task.edgeGEMVGBPerSecond, source: source))
    }

    /// The cost model of a task (an action chunk: one forward pass of the policy over its input tokens).
    public func costModel(for task: TaskFeatures) -> CostModel {
        let chunk = task.kind == .actionChunk
        return CostModel(shape: chunk ? policyShape ?? shape : shape, edge: device(for: task), cloud: cloud,
                         network: task.networkProfile, cloudLoadFactor: task.cloudLoad,
                         workload: chunk ? CostModel.Workload(promptTokens: task.promptTokens, outputTokens: 1) : task.workload)
    }

    /// Predicted seconds from request to last token of `strategy` on `task`.
    public func predictedSeconds(_ strategy: Strategy, for task: TaskFeatures) -> Double {
        plannedTime(strategy, for: task, costModel: costModel(for: task)).totalSeconds
    }

    /// As `predictedSeconds(_:for:)`, with the task's cost model already built.
    public func predictedSeconds(_ strategy: Strategy, for task: TaskFeatures, costModel: CostModel) -> Double {
        plannedTime(strategy, for: task, costModel: costModel).totalSeconds
    }

    /// A request's predicted time by where it is spent, and its expected round trips.
    public struct PlannedTime: Sendable, Equatable {
        public var edgeSeconds: Double
        public var transferSeconds: Double
        public var cloudSeconds: Double
        /// The prompt's and the decode exchanges (connections are kept open: no set-up).
        public var roundTrips: Double
        public var totalSeconds: Double { edgeSeconds + transferSeconds + cloudSeconds }
    }

    /// The request's predicted time, from the first token's and each decode step's estimate.
    public func plannedTime(_ strategy: Strategy, for task: TaskFeatures, costModel: CostModel) -> PlannedTime {
        if case .control(let mode, _) = strategy {
            // A chunk's time, by part, scaled to the reaction time its delay leads to.
            let chunk = chunkTime(strategy, costModel: costModel)
            let seconds = max(1e-9, chunk.totalSeconds)
            let scale = ControlReaction.expectedSeconds(mode: mode, delaySteps: ControlReaction.delaySteps(seconds: seconds)) / seconds
            return PlannedTime(edgeSeconds: chunk.edgeSeconds * scale, transferSeconds: chunk.transferSeconds * scale,
                               cloudSeconds: chunk.cloudSeconds * scale, roundTrips: strategy.splitLayer == nil ? 0 : 1)
        }
        let L = shape.layerCount
        let steps = Double(max(0, task.outputTokens - 1))
        let k = strategy.splitLayer ?? L
        let estimate = costModel.estimate(splitLayer: k, encoding: strategy.encoding ?? .f32)
        let first = estimate.firstToken, decode = estimate.decode
        // The edge keeps its cloud connections open between requests: no set-up exchanges.
        let promptExchange = strategy == .local ? 0.0 : 1.0
        let context = task.workload.meanDecodeContext
        // One token from the edge's exit head at k: embedding, layers [0, k), head.
        let edgeToken = costModel.edge.embedSeconds(tokens: 1) + costModel.edge.decodeSeconds(layers: 0..<k, context: context)
            + costModel.edge.headSeconds
        switch strategy {
        case .local, .cloud, .split, .control:
            return PlannedTime(edgeSeconds: first.edgeSeconds + steps * decode.edgeSeconds,
                               transferSeconds: first.transferSeconds + steps * decode.transferSeconds,
                               cloudSeconds: first.cloudSeconds + steps * decode.cloudSeconds,
                               roundTrips: strategy == .local ? 0 : promptExchange + steps)
        case .splitExit(_, let tau, _, _):
            let answered = calibration.flatMap { Self.nearest($0.thresholds, to: Double(tau))?.edgeAnsweredFraction } ?? 0.1
            let sent = steps * (1 - answered)
            return PlannedTime(edgeSeconds: first.edgeSeconds + steps * answered * edgeToken + sent * (decode.edgeSeconds + costModel.edge.headSeconds),
                               transferSeconds: first.transferSeconds + sent * decode.transferSeconds,
                               cloudSeconds: first.cloudSeconds + sent * decode.cloudSeconds, roundTrips: promptExchange + sent)
        case .splitSpec(_, let gamma, _, let encoding):
            let acceptance = calibration.flatMap { Self.nearest($0.draftLengths, to: Double(gamma))?.acceptanceRate } ?? 0.5
            // A round: γ drafts on the edge, then the cloud checks γ + 1 rows in one exchange;
            // it yields the accepted drafts plus the cloud's own token.
            let rows = gamma + 1
            let rounds = steps / (acceptance * Double(gamma) + 1)
            let exchange = costModel.transfer.exchangeSeconds(
                upBytes: costModel.transfer.requestBytes(rows: rows, encoding: encoding), downBytes: rows * costModel.transfer.resultBytes)
            let verify = costModel.cloud.prefillSeconds(layers: k..<L, tokens: rows) + Double(rows) * costModel.cloud.headSeconds
            return PlannedTime(edgeSeconds: first.edgeSeconds + rounds * Double(gamma) * edgeToken,
                               transferSeconds: first.transferSeconds + rounds * exchange,
                               cloudSeconds: first.cloudSeconds + rounds * verify, roundTrips: promptExchange + rounds)
        }
    }

    /// An action chunk's predicted time by part (edge, link, cloud): one forward pass of the
    /// policy over its input tokens, split as the control strategy's placement says.
    public func chunkTime(_ strategy: Strategy, costModel: CostModel) -> CostModel.Breakdown {
        costModel.estimate(splitLayer: strategy.splitLayer ?? costModel.shape.layerCount, encoding: strategy.encoding ?? .f32).firstToken
    }

    /// The agreement with the full model a strategy is expected to reach before any history:
    /// 1 for exact strategies, the calibration's token agreement for split-exit, 0 for async
    /// control (no agreement with the sync policy is promised), and 0.99 for rounded activations
    /// (f16, int8: measured identical tokens in BENCHMARKS' split runs).
    public func expectedAgreement(_ strategy: Strategy) -> Double {
        switch strategy {
        case .splitExit(_, let tau, _, _):
            return calibration.flatMap { Self.nearest($0.thresholds, to: Double(tau))?.tokenAgreement } ?? 0.5
        case .control(let mode, _) where mode != .sync:
            return 0
        default:
            return strategy.guarantee == .exact ? 1 : 0.99
        }
    }

    private static func nearest(_ candidates: [ExitCalibration.Candidate], to value: Double) -> ExitCalibration.Candidate? {
        candidates.min { abs($0.value - value) < abs($1.value - value) }
    }
}
