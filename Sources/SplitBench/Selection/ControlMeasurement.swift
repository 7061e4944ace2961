import Foundation
import Split

/// Measures the selection matrix's robot action-chunk cells: on every device and network (an
/// idle cloud), every control strategy runs the control loop over the workload's scenario
/// through the edge's policy service (`PolicyService`, one worker, slowed by the device-speed
/// throttle; an in-process policy cloud behind the link emulator). The robot and the loop run
/// on the simulated 30 Hz clock; each chunk is computed by the service and comes back after the
/// periods its measured latency spans (`ControlReaction.delaySteps`), so a run takes as long
/// as its requests, not the scenario's seconds. Rounds go over every strategy in turn.
struct ControlMeasurement {
    let policyPath: String
    let strategies: [Strategy]
    let suite: SelectionSuite

    /// The cells (device × network × control workload) lacking rounds, in measuring order.
    func pending(_ matrix: SelectionMatrix, network: NetworkProfile, missing: (SelectionMatrix.Cell?) -> Int)
        -> [(SelectionSuite.Device, SelectionSuite.Workload)] {
        suite.devices.flatMap { device in suite.controlWorkloads.map { (device, $0) } }.filter {
            missing(matrix.cell(device: $0.0.name, network: network.name, workload: $0.1.name)) > 0
        }
    }

    /// Measures `cells` over `network`, saving after each; returns how many were measured.
    /// - Throws: model, socket or file errors; a failed chunk request (the matrix must be complete).
    func measure(_ cells: [(SelectionSuite.Device, SelectionSuite.Workload)], network: NetworkProfile, matrix: inout SelectionMatrix,
                 thisMachine: DeviceProfile, missing: (SelectionMatrix.Cell?) -> Int, progress: (String) -> Void,
                 save: (SelectionMatrix) throws -> Void) async throws {
        let file = try ModelFile(path: policyPath)
        try TransformerPolicy.check(file.configuration)
        let model = try file.load()
        let shape = ModelShape(model: model, name: (policyPath as NSString).lastPathComponent)
        let reference = try TransformerPolicy(model: model)
        matrix.policyShape = shape
        let cloud = try LoopbackCloud(model: model, modelIdentity: try file.identity(), relay: EmulatedLink(LinkEmulatorConfiguration(
            targetPort: 0, oneWayDelaySeconds: network.roundTripSeconds / 2, jitterSeconds: network.jitterSeconds / 2,
            bandwidthBitsPerSecond: network.uplinkBitsPerSecond)))
        defer { cloud.stop() }
        for (device, workload) in cells {
            progress("control \(network.name) \(device.name) \(workload.name)")
            let scenario = try ControlReaction.scenario(named: workload.name)
            var services: [String: PolicyService] = [:]
            defer { services.values.forEach { $0.stop() } }
            for placement in Set(strategies.compactMap(Self.placement).map(\.description)).sorted() {
                let strategy = try Strategy.parse(placement, default: "local")
                var configuration = PolicyService.Configuration(
                    modelPath: policyPath, splitLayer: strategy.splitLayer, encoding: strategy.encoding ?? .f32,
                    link: strategy == .local ? nil : cloud.link, workers: 1)
                configuration.computePacer = device.slowdown > 1 ? DeviceSlowdown(factor: device.slowdown) : nil
                services[placement] = try PolicyService(configuration: configuration)
            }
            // How far each placement's chunk is from the local policy's, for one fixed state.
            let probe = (state: RobotState(position: Point2(0.2, -0.1)), target: Point2(-0.5, 0.6))
            let expected = try reference.chunk(state: probe.state, target: probe.target)
            var agreement: [String: Double] = [:]
            for (placement, service) in services {
                let chunk = try await Self.onThread { try Self.act(service, state: probe.state, target: probe.target) }.chunk
                let equal = zip(chunk, expected).filter { length($0 - $1) <= 1e-5 }.count
                agreement[placement] = Double(equal) / Double(max(chunk.count, expected.count, 1))
            }
            let old = matrix.cells.firstIndex { $0.device == device.name && $0.network == network.name && $0.workload == workload.name }
            let features = old.map { matrix.cells[$0].features } ?? TaskFeatures(
                kind: .actionChunk, promptTokens: workload.promptTokens, outputTokens: workload.outputTokens, requirement: .exact,
                device: thisMachine.slowed(by: device.slowdown, name: device.name), network: network, shape: shape)
            var runs = old.map { matrix.cells[$0].runs } ?? [:]
            for _ in 0..<missing(old.map { matrix.cells[$0] }) {
                for strategy in strategies {
                    guard case .control(let mode, let placement) = strategy, let service = services[placement.description] else { continue }
                    let agreed = agreement[placement.description] ?? 0
                    let run = try await Self.onThread {
                        try Self.controlRun(service, mode: mode, scenario: scenario, remote: placement != .local, agreement: agreed)
                    }
                    runs[strategy.description, default: []].append(run)
                }
            }
            let load = SelectionMeasurement.loadAverage()
            if let old {
                matrix.cells[old].runs = runs
                matrix.cells[old].toppedUpLoadAverage = load
            } else {
                matrix.cells.append(SelectionMatrix.Cell(device: device.name, network: network.name, workload: workload.name,
                                                         cloudLoad: SelectionSuite.CloudLoad.idle.name, features: features, runs: runs,
                                                         loadAverage: load))
            }
            try save(matrix)
        }
    }

    static func placement(_ strategy: Strategy) -> Strategy? {
        if case .control(_, let placement) = strategy { return placement }
        return nil
    }

    /// One control run of `scenario` in `mode`, every chunk asked of `service`.
    /// - Throws: the first failed request.
    static func controlRun(_ service: PolicyService, mode: ControlMode, scenario: TargetScenario, remote: Bool,
                           agreement: Double) throws -> SelectionMatrix.Run {
        var failure: (any Error)?
        var latencies: [Double] = []
        let trace = SimulatedControlRun.run(scenario: scenario, settings: ControlReaction.settings(mode)) { request, _ in
            guard failure == nil else { return (nil, 1) }
            do {
                let answer = try act(service, state: request.state, target: request.target)
                latencies.append(answer.seconds)
                return (answer.chunk, ControlReaction.delaySteps(seconds: answer.seconds))
            } catch {
                failure = error
                return (nil, 1)
            }
        }
        if let failure { throw failure }
        let metrics = ControlMetrics(trace: trace, periodSeconds: ControlReaction.periodSeconds)
        return SelectionMatrix.Run(
            totalSeconds: max(1e-6, ControlReaction.seconds(trace)),
            timeToFirstTokenSeconds: latencies.reduce(0, +) / Double(max(1, latencies.count)), outputTokens: trace.replies,
            agreement: agreement, roundTrips: remote ? trace.requests : 0,
            control: SelectionMatrix.ControlOutcome(meanTrackingError: metrics.meanTrackingError, successRate: metrics.successRate,
                                                    idleFraction: metrics.idleFraction, completionSeconds: metrics.completionSeconds,
                                                    requests: trace.requests, failures: trace.failures))
    }

    /// One `act` request to `service`, waited for on this (non-async) thread, with the time it took.
    /// - Throws: the service's error.
    static func act(_ service: PolicyService, state: RobotState, target: Point2) throws -> (chunk: [Point2], seconds: Double) {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<ActReply, any Error>?>(nil)
        let start = MonotonicClock.nanoseconds()
        let request = ActRequest(state: state.vector, target: [target.x, target.y])
        Task {
            do {
                let reply = try await service.act(request)
                result.withLock { $0 = .success(reply) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        guard let reply = try result.current?.get() else { throw ControlError.badChunk("no answer") }
        let chunk = reply.actions.compactMap { $0.count == 2 ? Point2($0[0], $0[1]) : nil }
        guard chunk.count == reply.actions.count, !chunk.isEmpty else { throw ControlError.badChunk("malformed actions from the policy service") }
        return (chunk, seconds)
    }

    /// Runs `body` on a thread of its own (it blocks on requests), off the concurrency pool.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
