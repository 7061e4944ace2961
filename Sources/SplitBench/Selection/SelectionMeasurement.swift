import Foundation
import Split
import Logging

/// Measures the task × strategy matrix through the real edge daemon core (`EdgeService`, one
/// worker, as `edge-node serve` runs it) and an in-process cloud server (`LoopbackCloud`: real
/// ZeroMQ/CURVE sockets) behind the link emulator playing each network profile; slower devices
/// are played by the device-speed throttle on the edge's model. Each cell first runs local
/// once as the reference output (and warm-up), then `repeats` rounds over every strategy in
/// turn, so load from other processes spreads over all strategies. The matrix is saved after
/// every cell; cells already in it are not measured again, except to add the rounds they lack
/// when `repeats` grew (each strategy's new runs are appended to its old ones). The suite's
/// robot action-chunk cells are measured after the completion cells (`ControlMeasurement`).
public struct SelectionMeasurement: Sendable {
    public var modelPath: String
    public var suite: SelectionSuite
    public var strategies: [Strategy]
    public var repeats: Int
    /// The robot policy and its control strategies, for the suite's control workloads.
    public var policyPath: String?
    public var controlStrategies: [Strategy]
    /// Told the fraction done and what is being measured.
    public var progress: @Sendable (Double, String) -> Void

    public init(modelPath: String, suite: SelectionSuite, strategies: [Strategy], repeats: Int = 2, policyPath: String? = nil,
                controlStrategies: [Strategy] = [], progress: @escaping @Sendable (Double, String) -> Void = { _, _ in }) {
        self.modelPath = modelPath
        self.suite = suite
        self.strategies = strategies
        self.repeats = max(1, repeats)
        self.policyPath = policyPath
        self.controlStrategies = controlStrategies
        self.progress = progress
    }

    /// Measures every cell missing from `existing` or holding fewer than `repeats` rounds (at
    /// most `maxCells` of them when given, so a long measurement can run in pieces), saving
    /// through `save` after each.
    /// - Throws: model, socket or file errors; a failed request (the matrix must be complete);
    ///   a background tenant's error (the cloud was not as busy as the cell says).
    public func run(existing: SelectionMatrix?, command: String, thisMachine: DeviceProfile, maxCells: Int? = nil,
                    save: (SelectionMatrix) throws -> Void) async throws -> SelectionMatrix {
        let file = try ModelFile(path: modelPath)
        guard let tokenizer = file.tokenizer else { throw ModelError.missingMetadata("tokenizer") }
        let cloudModel = try file.load()
        let shape = ModelShape(model: cloudModel, name: (modelPath as NSString).lastPathComponent)
        var matrix = existing ?? SelectionMatrix(model: shape.name, shape: shape, suite: suite,
                                                 strategies: strategies.map(\.description), repeats: repeats, command: command)
        matrix.suite = suite
        matrix.repeats = max(matrix.repeats, repeats)
        let controlNames = policyPath == nil || suite.controlWorkloads.isEmpty ? [] : controlStrategies.map(\.description)
        matrix.strategies += controlNames.filter { !matrix.strategies.contains($0) }
        let identity = try file.identity()
        var silent = Logger(label: "split.bench")
        silent.logLevel = .critical
        let cellsPerNetwork = suite.devices.count * suite.workloads.count
        let controlCellsPerNetwork = controlNames.isEmpty ? 0 : suite.devices.count * suite.controlWorkloads.count
        let total = Double(suite.loadedNetworks.count * cellsPerNetwork + suite.networks.count * controlCellsPerNetwork)
        var done = 0.0
        var measured = 0
        for (load, network) in suite.loadedNetworks {
            let pending = suite.devices.flatMap { device in suite.workloads.map { (device, $0) } }.filter {
                roundsMissing(matrix.cell(device: $0.0.name, network: network.name, workload: $0.1.name, cloudLoad: load.name), of: strategies) > 0
            }
            done += Double(cellsPerNetwork - pending.count)
            guard !pending.isEmpty, measured < maxCells ?? .max else { continue }
            let cloud = try LoopbackCloud(model: cloudModel, modelIdentity: identity, relay: EmulatedLink(LinkEmulatorConfiguration(
                targetPort: 0, oneWayDelaySeconds: network.roundTripSeconds / 2, jitterSeconds: network.jitterSeconds / 2,
                bandwidthBitsPerSecond: network.uplinkBitsPerSecond)))
            defer { cloud.stop() }
            let background = load.backgroundSessions > 0
                ? try CloudBackgroundLoad(sessions: load.backgroundSessions, endpoint: cloud.serverEndpoint, link: cloud.link,
                                          modelIdentity: identity, hiddenSize: shape.hiddenSize, splitLayer: shape.layerCount / 2)
                : nil
            defer { background?.stop() }
            var services: [String: EdgeService] = [:]
            for (device, workload) in pending where measured < maxCells ?? .max {
                progress(done / total, "\(load.name) \(network.name) \(device.name) \(workload.name)")
                let service = try services[device.name] ?? {
                    var configuration = EdgeService.Configuration(modelPath: modelPath, splitLayer: nil, link: cloud.link, workers: 1)
                    configuration.computePacer = device.slowdown > 1 ? DeviceSlowdown(factor: device.slowdown) : nil
                    return try EdgeService(configuration: configuration, logger: silent)
                }()
                services[device.name] = service
                let prompt = SplitBenchmark.prompt(tokenizer: tokenizer, promptTokens: workload.promptTokens,
                                                   fitting: shape.maxPositions - workload.outputTokens - 1)
                let profile = thisMachine.slowed(by: device.slowdown, name: device.name)
                let old = matrix.cells.firstIndex {
                    $0.device == device.name && $0.network == network.name && $0.workload == workload.name && $0.cloudLoad == load.name
                }
                // What the edge can know of the cloud's load before sending: the other sessions
                // its metrics report live (a topped-up cell keeps what it first saw).
                let otherSessions = Self.liveSessions(cloud.server, waitingFor: load.backgroundSessions > 0)
                let features = old.map { matrix.cells[$0].features } ?? TaskFeatures(
                    promptTokens: workload.promptTokens, outputTokens: workload.outputTokens, requirement: .exact, device: profile,
                    network: network, cloudLoad: 1 + otherSessions, shape: shape)
                let reference = try await Self.complete(service, prompt: prompt, workload: workload, strategy: .local,
                                                        tokenizer: tokenizer, reference: nil)
                var runs = old.map { matrix.cells[$0].runs } ?? [:]
                for _ in 0..<roundsMissing(old.map { matrix.cells[$0] }, of: strategies) {
                    for strategy in strategies {
                        let run = try await Self.complete(service, prompt: prompt, workload: workload, strategy: strategy,
                                                          tokenizer: tokenizer, reference: reference.tokens)
                        runs[strategy.description, default: []].append(run.run)
                    }
                }
                try background?.check()
                let cell = SelectionMatrix.Cell(device: device.name, network: network.name, workload: workload.name,
                                                cloudLoad: load.name, features: features, runs: runs,
                                                loadAverage: Self.loadAverage(), toppedUpLoadAverage: old.map { _ in Self.loadAverage() })
                if let old {
                    matrix.cells[old].runs = runs
                    matrix.cells[old].toppedUpLoadAverage = cell.toppedUpLoadAverage
                } else {
                    matrix.cells.append(cell)
                }
                try save(matrix)
                done += 1
                measured += 1
            }
        }
        if let policyPath, !controlNames.isEmpty {
            let control = ControlMeasurement(policyPath: policyPath, strategies: controlStrategies, suite: suite)
            let missing = { (cell: SelectionMatrix.Cell?) in roundsMissing(cell, of: controlStrategies) }
            for network in suite.networks {
                let pending = control.pending(matrix, network: network, missing: missing)
                done += Double(controlCellsPerNetwork - pending.count)
                let now = Array(pending.prefix(max(0, (maxCells ?? .max) - measured)))
                guard !now.isEmpty else { continue }
                try await control.measure(now, network: network, matrix: &matrix, thisMachine: thisMachine, missing: missing,
                                          progress: { [done] in progress(done / total, $0) }) { saved in
                    try save(saved)
                    done += 1
                    measured += 1
                }
            }
        }
        progress(done / total, done == total ? "done" : "\(Int(total - done)) cells left")
        return matrix
    }

    /// Rounds `cell` lacks (all of them when it was never measured): the fewest runs any of
    /// `strategies` has, short of `repeats`.
    func roundsMissing(_ cell: SelectionMatrix.Cell?, of strategies: [Strategy]) -> Int {
        guard let cell else { return repeats }
        return max(0, repeats - (strategies.map { cell.runs[$0.description]?.count ?? 0 }.min() ?? 0))
    }

    /// The mean number of live sessions on `server` over 20 looks 5 ms apart (after the first
    /// is seen when `waitingFor`, so tenants still connecting are not missed).
    static func liveSessions(_ server: CloudServer, waitingFor: Bool) -> Double {
        func read() -> Double {
            MetricsExposition.value(of: "split_cloud_sessions", in: server.metrics.registry.emitToString()) ?? 0
        }
        if waitingFor {
            let deadline = Date().addingTimeInterval(5)
            while read() == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        }
        var sum = 0.0
        for _ in 0..<20 {
            sum += read()
            Thread.sleep(forTimeInterval: 0.005)
        }
        return sum / 20
    }

    /// One request through the edge service, with its output's tokens and measured outcome.
    /// The output is compared as its text re-tokenized (local streams text without token ids).
    static func complete(_ service: EdgeService, prompt: String, workload: SelectionSuite.Workload, strategy: Strategy,
                         tokenizer: BPETokenizer, reference: [Int32]?) async throws -> (tokens: [Int32], run: SelectionMatrix.Run) {
        let request = CompletionRequest(prompt: prompt, maxTokens: workload.outputTokens, strategy: strategy.description)
        let summary = try await service.complete(request) { _ in }
        let produced = tokenizer.encode(summary.text)
        let agreement = reference.map { Self.agreement(produced, $0) } ?? 1
        let counts = summary.counts
        return (produced, SelectionMatrix.Run(
            totalSeconds: summary.totalSeconds, timeToFirstTokenSeconds: summary.timeToFirstTokenSeconds,
            outputTokens: summary.completionTokenCount, agreement: agreement, roundTrips: counts?.roundTrips ?? 0,
            acceptanceRate: counts.flatMap { $0.drafted > 0 ? Double($0.acceptedDrafts) / Double($0.drafted) : nil }))
    }

    /// Positions where two token sequences agree, over the longer length (1 for two empty ones).
    public static func agreement(_ a: [Int32], _ b: [Int32]) -> Double {
        let length = max(a.count, b.count)
        guard length > 0 else { return 1 }
        return Double(zip(a, b).filter { $0 == $1 }.count) / Double(length)
    }

    /// The 1-minute load average (0 where /proc is missing).
    public static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first else { return 0 }
        return Double(first) ?? 0
    }
}
