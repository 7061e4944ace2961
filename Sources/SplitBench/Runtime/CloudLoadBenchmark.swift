import Foundation
import Split
import Logging

/// Measures one cloud node under many concurrent edge sessions: aggregate decode tokens/s and
/// per-step latency, with continuous batching and without it (requests one at a time), in one
/// process. The cloud is the real server (ROUTER, CURVE, ZAP, session store) on its own threads;
/// each session is a real edge connection on its own thread that sends a prompt's hidden states
/// at the split layer, then one step at a time, waiting for each result as an edge does. The
/// hidden states are random (the edge's layers are not what is measured here).
public struct CloudLoadBenchmark: Sendable {
    public var modelPath: String
    public var splitLayer: Int
    public var promptTokens: Int
    public var decodeSteps: Int
    public var encoding: ActivationEncoding
    /// The cloud's KV budget; sessions past it are evicted and rebuilt by their edges.
    public var kvBudgetBytes: Int
    /// The cloud's `CloudServerConfiguration.gatherQuietMicroseconds` (0: every pass starts at once).
    public var gatherQuietMicroseconds: Int

    public init(modelPath: String, splitLayer: Int, promptTokens: Int = 32, decodeSteps: Int = 24, encoding: ActivationEncoding = .f16,
                kvBudgetBytes: Int = 8 << 30, gatherQuietMicroseconds: Int = 1000) {
        self.gatherQuietMicroseconds = gatherQuietMicroseconds
        self.kvBudgetBytes = kvBudgetBytes
        self.modelPath = modelPath
        self.splitLayer = splitLayer
        self.promptTokens = promptTokens
        self.decodeSteps = decodeSteps
        self.encoding = encoding
    }

    /// One measured configuration.
    public struct Row: Sendable, Codable {
        public var sessions: Int
        public var batching: Bool
        /// Decode steps of all sessions per second of the window in which they ran.
        public var aggregateTokensPerSecond: Double
        public var stepP50Milliseconds: Double
        public var stepP99Milliseconds: Double
        /// Positions per forward pass of the cloud's layers (1 = no sharing), over the whole run
        /// (prompts included) and over the decode window alone.
        public var rowsPerPass: Double
        public var decodeRowsPerPass: Double
        /// Milliseconds per forward pass of the decode window that the cloud's compute thread
        /// spent in each phase of its loop (`CloudMetrics.ComputePhase` names), and idle.
        public var phaseMillisecondsPerPass: [String: Double]
        /// Resident memory of the process after the run, and the KV bytes the cloud held then.
        public var residentMegabytes: Double
        public var kvMegabytes: Double
        /// The most KV bytes the cloud held at once during the run.
        public var kvPeakMegabytes: Double
        /// Sessions the cloud evicted under its budget, and rebuilds the sessions then sent.
        public var evictions: Int
        public var rebuilds: Int
    }

    /// Runs every session count with and without batching, `rounds` times interleaved (so a
    /// burst of load on the shared machine hits every configuration alike), and reports each
    /// configuration's median round (by aggregate tokens/s).
    /// - Throws: model, key or transport errors.
    public func run(sessionCounts: [Int], batching modes: [Bool] = [false, true], rounds: Int = 1,
                    progress: (String) -> Void = { _ in }) throws -> [Row] {
        let file = try ModelFile(path: modelPath)
        let c = file.configuration
        guard (0..<c.layerCount).contains(splitLayer) else {
            throw ModelError.invalidConfiguration("split layer \(splitLayer) outside 0..<\(c.layerCount)")
        }
        let tail = try file.load(.init(layers: splitLayer..<c.layerCount, embedding: false, head: true))
        let identity = try file.identity()
        let configurations = sessionCounts.flatMap { sessions in modes.map { (sessions, $0) } }
        var measured = [[Row]](repeating: [], count: configurations.count)
        for round in 1...max(1, rounds) {
            for (index, (sessions, batching)) in configurations.enumerated() {
                progress("round \(round): \(sessions) session(s), batching \(batching ? "on" : "off")")
                measured[index].append(try measure(sessions: sessions, batching: batching, tail: tail, identity: identity))
            }
        }
        return measured.map { rows in rows.sorted { $0.aggregateTokensPerSecond < $1.aggregateTokensPerSecond }[rows.count / 2] }
    }

    private func measure(sessions: Int, batching: Bool, tail: TransformerModel, identity: SHA256Digest) throws -> Row {
        let c = tail.configuration
        let edgeKeys = try CurveKeyPair.generate()
        let serverKeys = try CurveKeyPair.generate()
        let store = CloudSessionStore(model: tail, modelIdentity: identity, memoryBudgetBytes: kvBudgetBytes)
        let server = try CloudServer(
            configuration: .init(endpoints: ["tcp://127.0.0.1:*"], serverKeys: serverKeys, allowedClients: [edgeKeys.publicKey],
                                 maxBatchSessions: batching ? max(sessions, 1) : 1, gatherQuietMicroseconds: gatherQuietMicroseconds),
            store: store, logger: Logger(label: "split.bench.cloud", factory: { _ in SwiftLogNoOpLogHandler() }))
        try server.start()
        defer { server.stop() }
        let endpoint = CloudEndpoint(address: server.boundEndpoints[0], serverKey: serverKeys.publicKey)
        let link = EdgeLinkConfiguration(endpoints: [endpoint], clientKeys: edgeKeys, deadAfterSeconds: 600)
        let context = try ZMQContext()
        let hello = WireMessage.Hello(modelIdentity: identity, splitLayer: UInt32(splitLayer),
                                      activationEncoding: encoding, clientName: "bench")
        let prompt = try Self.randomActivations(rows: promptTokens, width: c.hiddenSize, encoding: encoding, seed: 1)
        let step = try Self.randomActivations(rows: 1, width: c.hiddenSize, encoding: encoding, seed: 2)
        let stepValues = step.decoded(), promptValues = prompt.decoded()
        // What an edge resends when the cloud lost its session: positions [from, end).
        let resend: @Sendable (Int, Int) throws -> EncodedActivations = { from, end in
            var values: [Float] = []
            for position in from..<end {
                values += position < promptTokens
                    ? promptValues[(position * c.hiddenSize)..<((position + 1) * c.hiddenSize)]
                    : stepValues[...]
            }
            return try EncodedActivations(encoding: encoding, rows: end - from, hiddenSize: c.hiddenSize, values: values)
        }
        let rebuilds = Locked(0)

        // Every session connects and sends its prompt first; decode starts together.
        let ready = DispatchGroup()
        let go = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        let outcomes = Locked<[(latencies: [Double], start: UInt64, end: UInt64)]>([])
        let failure = Locked<(any Error)?>(nil)
        for session in 0..<sessions {
            ready.enter()
            finished.enter()
            let thread = Thread {
                defer { finished.leave() }
                var signalled = false
                do {
                    let connection = try CloudConnection(context: context, endpoint: endpoint, configuration: link)
                    defer { connection.close() }
                    _ = try connection.hello(hello)
                    let id = UInt64(session + 1)
                    _ = try connection.forward(.prefill(.init(sessionID: id, requestID: connection.makeRequestID(),
                                                              startPosition: 0, activations: prompt)))
                    ready.leave()
                    signalled = true
                    go.wait()
                    var latencies: [Double] = []
                    let start = MonotonicClock.nanoseconds()
                    for index in 0..<decodeSteps {
                        let sent = MonotonicClock.nanoseconds()
                        do {
                            _ = try connection.forward(.step(.init(sessionID: id, requestID: connection.makeRequestID(),
                                                                   startPosition: UInt32(promptTokens + index), activations: step)))
                        } catch LinkError.rebuildNeeded(let cached) {
                            // Evicted under the budget: resend what the cloud lacks, as an edge does.
                            rebuilds.withLock { $0 += 1 }
                            let from = min(cached, promptTokens + index)
                            _ = try connection.forward(.prefill(.init(
                                sessionID: id, requestID: connection.makeRequestID(), startPosition: UInt32(from),
                                activations: try resend(from, promptTokens + index + 1))))
                        }
                        latencies.append(Double(MonotonicClock.nanoseconds() - sent) / 1e9)
                    }
                    let end = MonotonicClock.nanoseconds()
                    outcomes.withLock { $0.append((latencies, start, end)) }
                } catch {
                    failure.withLock { $0 = error }
                    if !signalled { ready.leave() }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        ready.wait()
        let atStart = Self.computeCounters(server.metrics)
        for _ in 0..<sessions { go.signal() }
        finished.wait()
        let atEnd = Self.computeCounters(server.metrics)
        if let error = failure.withLock({ $0 }) { throw error }
        let results = outcomes.withLock { $0 }
        let window = Double((results.map(\.end).max() ?? 0) - (results.map(\.start).min() ?? 0)) / 1e9
        let latencies = results.flatMap(\.latencies).sorted()
        let exposition = server.metrics.registry.emitToString()
        let passes = (MetricsExposition.value(of: "split_cloud_forward_passes_total", in: exposition) ?? 0)
        let positions = (MetricsExposition.value(of: "split_cloud_positions_total", in: exposition) ?? 0)
        let decodePasses = max(1, atEnd.passes - atStart.passes)
        var phases: [String: Double] = [:]
        for phase in CloudMetrics.ComputePhase.allCases {
            phases[phase.rawValue] = ((atEnd.phaseSeconds[phase] ?? 0) - (atStart.phaseSeconds[phase] ?? 0)) * 1000 / decodePasses
        }
        phases["idle"] = max(0, window * 1000 / decodePasses - phases.values.reduce(0, +))
        return Row(sessions: sessions, batching: batching,
                   aggregateTokensPerSecond: Double(latencies.count) / max(window, 1e-9),
                   stepP50Milliseconds: Self.quantile(latencies, 0.5) * 1000,
                   stepP99Milliseconds: Self.quantile(latencies, 0.99) * 1000,
                   rowsPerPass: passes > 0 ? positions / passes : 0,
                   decodeRowsPerPass: (atEnd.positions - atStart.positions) / decodePasses,
                   phaseMillisecondsPerPass: phases,
                   residentMegabytes: ProcessMemory.residentBytes.map { Double($0) / 1_048_576 } ?? 0,
                   kvMegabytes: (MetricsExposition.value(of: "split_cloud_kv_bytes", in: exposition) ?? 0) / 1_048_576,
                   kvPeakMegabytes: (MetricsExposition.value(of: "split_cloud_kv_peak_bytes", in: exposition) ?? 0) / 1_048_576,
                   evictions: Int((MetricsExposition.value(of: "split_cloud_evictions_total", in: exposition) ?? 0)),
                   rebuilds: rebuilds.withLock { $0 })
    }

    /// The cloud's pass, position and phase-time counters now.
    static func computeCounters(_ metrics: CloudMetrics) -> (passes: Double, positions: Double, phaseSeconds: [CloudMetrics.ComputePhase: Double]) {
        let text = metrics.registry.emitToString()
        var phases: [CloudMetrics.ComputePhase: Double] = [:]
        for phase in CloudMetrics.ComputePhase.allCases { phases[phase] = MetricsExposition.value(of: phase.series, in: text) ?? 0 }
        return (MetricsExposition.value(of: "split_cloud_forward_passes_total", in: text) ?? 0,
                MetricsExposition.value(of: "split_cloud_positions_total", in: text) ?? 0, phases)
    }

    static func randomActivations(rows: Int, width: Int, encoding: ActivationEncoding, seed: UInt64) throws -> EncodedActivations {
        var random = SplitMix64(state: seed)
        let values = (0..<(rows * width)).map { _ in Float(random.next() >> 40) / Float(1 << 24) * 2 - 1 }
        return try EncodedActivations(encoding: encoding, rows: rows, hiddenSize: width, values: values)
    }

    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
    }
}
