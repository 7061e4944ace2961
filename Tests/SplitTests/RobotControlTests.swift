import Foundation
import Testing
@testable import Split

/// The robot path: simulator, policy, split, control session and the act API.
@Suite("Robot control")
struct RobotControlTests {
    static let policyPath = BundledModelTests.models.appendingPathComponent("split-robot-policy.gguf").path

    static func policyModel() throws -> (ModelFile, TransformerModel) {
        let file = try ModelFile(path: policyPath)
        return (file, try file.load())
    }

    @Test("the simulated clock is exactly reproducible for a seed and differs across seeds")
    func reproducible() {
        let settings = ControlSettings(mode: .futureStateAsync)
        func run(_ seed: UInt64) -> [ControlTrace.Step] {
            SimulatedControlRun.run(scenario: .tracking(seed: seed, steps: 300), settings: settings, policy: ScriptedExpert(),
                                    latency: LatencyModel(.uniform(min: 3, max: 9), seed: seed)).steps
        }
        #expect(run(3) == run(3))
        #expect(run(3) != run(4))
    }

    @Test("the scripted expert finishes the fixed course with no delay, and sync idles while it waits")
    func expertCompletesCourse() {
        for mode in ControlMode.allCases {
            let trace = SimulatedControlRun.run(scenario: .course(), settings: ControlSettings(mode: mode), policy: ScriptedExpert(),
                                                latency: LatencyModel(.constant(steps: 6)))
            let metrics = ControlMetrics(trace: trace)
            #expect(metrics.completionSeconds != nil, "\(mode) did not finish")
            #expect(metrics.successRate == 1, "\(mode)")
            if mode == .sync { #expect(metrics.idleFraction > 0.2) } else { #expect(metrics.idleFraction < 0.05) }
        }
    }

    @Test("reaction latency counts steps from a jump to the first action observed after it")
    func reactionLatency() {
        let trace = SimulatedControlRun.run(scenario: .tracking(seed: 1, steps: 400), settings: ControlSettings(mode: .sync),
                                            policy: ScriptedExpert(), latency: LatencyModel(.constant(steps: 8)))
        let metrics = ControlMetrics(trace: trace)
        // Sync with H = 16 and d = 8 re-observes every 24 steps, then waits 8: reaction in [8, 32).
        #expect(metrics.meanReactionSteps >= 8 && metrics.meanReactionSteps < 32)
    }

    @Test("the delay estimate is a high quantile of recent latencies, rounded up")
    func delayEstimate() {
        var estimator = DelayEstimator(quantile: 0.9, window: 10, initialSteps: 3)
        #expect(estimator.steps == 3)
        for latency in [2.0, 2.2, 2.1, 2.0, 7.5, 2.3, 2.0, 2.1, 2.4, 2.2] { estimator.record(steps: latency) }
        #expect(estimator.steps == 8)
        for _ in 0..<10 { estimator.record(steps: 2.5) }
        #expect(estimator.steps == 3)
        for _ in 0..<10 { estimator.record(steps: 2.0004) }  // a wall clock's "2 periods"
        #expect(estimator.steps == 2)
        estimator.record(steps: .nan)
        #expect(estimator.sampleCount == 10)
    }

    @Test("future-state mode conditions on the state at the chunk's start and splices the chunk there")
    func futureStateSplice() {
        var session = ControlSession(settings: ControlSettings(mode: .futureStateAsync, initialDelaySteps: 3))
        let start = RobotState(position: .zero)
        guard let first = session.plan(step: 0, state: start, target: Point2(0.5, 0)) else {
            Issue.record("no first request")
            return
        }
        #expect(first.startStep == 3)
        let chunk = (0..<16).map { Point2(0.05 * Double($0 + 1), 0) }
        session.receive(chunk, for: first.id, atStep: 3, latencySteps: 3)
        #expect(session.execute(step: 3, state: start).command == chunk[0])
        // Next request at step 4 rolls forward through steps 4, 5, 6 (chunk[1...3]).
        guard let second = session.plan(step: 4, state: start, target: Point2(0.5, 0)) else {
            Issue.record("no second request")
            return
        }
        #expect(second.startStep == 7)
        #expect(second.state.position == chunk[3])
    }

    @Test("blend aggregation mixes overlapping chunks; replace keeps the newer")
    func aggregation() {
        var buffer = ActionChunkBuffer(aggregation: .blend(newWeight: 0.75))
        buffer.splice([Point2(1, 1), Point2(1, 1)], startStep: 0, observedAtStep: 0, notBefore: 0)
        buffer.splice([Point2(0, 0)], startStep: 1, observedAtStep: 1, notBefore: 0)
        #expect(buffer.action(at: 1)?.command == Point2(0.25, 0.25))
        #expect(buffer.remaining(from: 0) == 2)
        var replace = ActionChunkBuffer()
        replace.splice([Point2(1, 1)], startStep: 5, observedAtStep: 0, notBefore: 6)
        #expect(replace.remaining(from: 5) == 0)
    }

    @Test("a dead cloud never stalls the loop: the buffer runs out, the robot holds, degraded is reported")
    func deadCloudSimulated() {
        let trace = SimulatedControlRun.run(scenario: .tracking(seed: 2, steps: 300), settings: ControlSettings(mode: .futureStateAsync),
                                            policy: ScriptedExpert(), latency: LatencyModel(.constant(steps: 4)), failAfterStep: 100)
        #expect(trace.steps.count == 300)
        #expect(trace.failures > 0)
        #expect(trace.degradedSteps > 150)
        // Actions already buffered are still executed after the failure, then the robot holds.
        #expect(trace.steps[101..<110].contains { !$0.idle })
        #expect(trace.steps[200..<300].allSatisfy { $0.idle })
    }

    @Test("the bundled policy loads with its input projection and action head and imitates the expert")
    func bundledPolicy() throws {
        let (file, model) = try Self.policyModel()
        #expect(file.configuration.isPolicy)
        #expect(file.configuration.actionHorizon == 16)
        let policy = try TransformerPolicy(model: model)
        let expert = ScriptedExpert()
        var worst = 0.0
        for (p, g) in [(Point2(0, 0), Point2(0.5, 0.3)), (Point2(-0.6, 0.2), Point2(0.4, -0.7)), (Point2(0.3, 0.3), Point2(0.32, 0.29))] {
            let state = RobotState(position: p)
            let learned = try policy.chunk(state: state, target: g)
            for (a, b) in zip(learned, expert.chunk(state: state, target: g)) { worst = max(worst, length(a - b)) }
        }
        #expect(worst < 0.05, "largest difference from the expert \(worst)")
    }

    @Test("split at every layer returns exactly the local policy's chunk", arguments: 0...4)
    func splitEqualsLocal(splitLayer: Int) throws {
        let (file, model) = try Self.policyModel()
        let local = try TransformerPolicy(model: model)
        let tokens = PolicyInput.tokens(state: RobotState(position: Point2(-0.2, 0.4), velocity: Point2(0.5, -0.1)),
                                        target: Point2(0.6, -0.3))
        let edgeWorkspace = Workspace()
        var hidden = try model.project(tokens, rows: 2)
        try model.forward(&hidden, rows: 2, startPosition: 0, layers: 0..<splitLayer,
                          cache: model.makeCache(layers: 0..<splitLayer, maxPositions: 2), workspace: edgeWorkspace)
        let tail = try file.load(.init(layers: splitLayer..<file.configuration.layerCount, embedding: false, head: true))
        let store = CloudSessionStore(model: tail, modelIdentity: try file.identity())
        let peer: [UInt8] = [1, 2, 3]
        _ = store.handle(.hello(.init(modelIdentity: try file.identity(), splitLayer: UInt32(splitLayer),
                                      activationEncoding: .f32, clientName: "test")), from: peer)
        for requestID: UInt64 in 1...2 {  // the same session twice: each act is a fresh sequence
            let request = WireMessage.ForwardRequest(
                sessionID: 7, requestID: requestID, startPosition: 0,
                activations: try EncodedActivations(encoding: .f32, rows: 2, hiddenSize: file.configuration.hiddenSize, values: hidden))
            guard case .actions(let chunk) = store.handle(.prefill(request), from: peer) else {
                Issue.record("the cloud did not answer with actions")
                return
            }
            #expect(chunk.horizon == 16 && chunk.dimensions == 2)
            let expected = try local.output(tokens)
            #expect(chunk.values == expected)
        }
    }

    @Test("act requests with a wrong state size, NaN or a chunk length of 0 get clear errors naming the field")
    func badActRequests() throws {
        let cases: [(ActRequest, String, String)] = [
            (ActRequest(state: [0, 0, 0], target: [0, 0]), "state", "4 numbers"),
            (ActRequest(state: [0, .nan, 0, 0], target: [0, 0]), "state", "finite"),
            (ActRequest(state: [0, 0, 0, 0], target: [.infinity, 0]), "target", "finite"),
            (ActRequest(state: [0, 0, 0, 0], target: [0, 0], horizon: 0), "horizon", "1 … 16"),
            (ActRequest(state: [0, 0, 0, 0], target: [0, 0], horizon: 17), "horizon", "1 … 16"),
            (ActRequest(state: [0, 0, 0, 0], target: [0, 0, 0.5, 0]), "target", "not trained with a next waypoint"),
        ]
        let training = PolicyTraining(try ModelFile(path: Self.policyPath).configuration)
        for (request, parameter, text) in cases {
            do {
                _ = try request.validated(policyHorizon: 16, training: training)
                Issue.record("accepted \(request)")
            } catch let error as ClientAPIError {
                #expect(error.code == .invalidRequest)
                #expect(error.parameter == parameter)
                #expect(error.message.contains(text), "\(error.message)")
            }
        }
    }

    @Test("the act API answers a chunk through the socket handler, and refuses bad input without stopping")
    func actThroughHandler() async throws {
        let policy = try PolicyService(configuration: .init(modelPath: Self.policyPath, splitLayer: nil, link: nil, workers: 1))
        let handler = ClientRequestHandler(service: EchoCompletionService(), policy: policy)
        func replies(_ message: String) async -> [ClientReply] {
            let recorded = Locked<[ClientReply]>([])
            await handler.handle(Data(message.utf8)) { reply in recorded.withLock { $0.append(reply) } }
            return recorded.current
        }
        let bad = await replies(#"{"type":"act","id":"a1","state":[0,0,0],"target":[0.5,0.5]}"#)
        guard case .error("a1", let error) = bad.first else {
            Issue.record("no error for a 3-number state: \(bad)")
            return
        }
        #expect(error.parameter == "state")
        let nan = await replies(#"{"type":"act","id":"a2","state":[0,NaN,0,0],"target":[0.5,0.5]}"#)
        // NaN is not JSON: refused as such (a Swift client's NaN is refused by `validated`, above).
        guard case .error(_, let nanError) = nan.first else {
            Issue.record("no error for NaN: \(nan)")
            return
        }
        #expect(nanError.code == .invalidJSON)
        let good = await replies(#"{"type":"act","id":"a3","state":[0,0,0,0],"target":[0.5,0.5],"horizon":8}"#)
        guard case .actions("a3", let reply) = good.first else {
            Issue.record("no actions: \(good)")
            return
        }
        #expect(reply.actions.count == 8)
        #expect(reply.strategy == "local")
        #expect(try ClientReply.decode(ClientReply.actions(id: "a3", reply).encoded()) == .actions(id: "a3", reply))
    }
}
