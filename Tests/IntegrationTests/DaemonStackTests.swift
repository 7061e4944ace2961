import Foundation
import Testing
@testable import Split

/// `cloud-node serve` and `edge-node serve` as processes over TCP with CURVE (keys from the
/// `keygen` commands), reached the way users reach them: `edge-node complete` and `curl`.
@Suite("The whole stack as processes", .serialized)
struct DaemonStackTests {
    static let prompt = "Hello, Split! the edge and"
    static let maxTokens = 16

    @Test("edge-node complete through edge-node serve and cloud-node serve prints what edge-node generate prints, for every split layer")
    func everySplitLayerThroughTheDaemons() throws {
        let (cloud, edge) = try DaemonStack.startCloudAndEdge(splitLayer: 1)
        defer { edge.daemon.kill9(); cloud.kill9() }
        let expected = try DaemonStack.localCompletion(prompt: Self.prompt, maxTokens: Self.maxTokens)
        #expect(!expected.isEmpty)
        for k in 0...3 {
            let run = try runTool("edge-node", ["complete", "--connect", edge.socketEndpoint, "--prompt", Self.prompt,
                                                "--max-tokens", "\(Self.maxTokens)", "--strategy", "split(k=\(k),f32)"])
            #expect(run.status == 0, "k = \(k): \(run.standardError)")
            #expect(try DaemonStack.completion(of: run.standardOutput, prompt: Self.prompt) == expected, "split layer \(k)")
            // The summary line names the strategy that served it, not a degraded fallback.
            #expect(run.standardError.contains("[split(k=\(k),f32)]"), "k = \(k): \(run.standardError)")
        }
        // The edge's default strategy (its --split-layer) too.
        let run = try runTool("edge-node", ["complete", "--connect", edge.socketEndpoint, "--prompt", Self.prompt,
                                            "--max-tokens", "\(Self.maxTokens)"])
        #expect(try DaemonStack.completion(of: run.standardOutput, prompt: Self.prompt) == expected)
        #expect(run.standardError.contains("[split(k=1,f32)]"), "\(run.standardError)")
    }

    @Test("curl against the edge daemon's /v1/completions returns the local completion, whole and streamed")
    func curlThroughTheDaemons() throws {
        let (cloud, edge) = try DaemonStack.startCloudAndEdge(splitLayer: 2)
        defer { edge.daemon.kill9(); cloud.kill9() }
        let expected = try DaemonStack.localCompletion(prompt: Self.prompt, maxTokens: Self.maxTokens)

        let whole = try DaemonStack.curl(edge.completionsURL, body: try DaemonStack.completionBody(
            prompt: Self.prompt, maxTokens: Self.maxTokens, stream: false))
        #expect(whole.status == 200, "\(whole.body)")
        #expect(DaemonStack.field(whole.body, "object") as? String == "text_completion")
        #expect(DaemonStack.field(whole.body, "choices", 0, "text") as? String == expected)
        #expect(DaemonStack.field(whole.body, "split", "strategy") as? String == "split(k=2,f32)")
        #expect(DaemonStack.field(whole.body, "split", "degraded") as? Bool == false)
        #expect(DaemonStack.field(whole.body, "usage", "completion_tokens") as? Int == Self.maxTokens)

        let streamed = try DaemonStack.curl(edge.completionsURL, body: try DaemonStack.completionBody(
            prompt: Self.prompt, maxTokens: Self.maxTokens, stream: true))
        #expect(streamed.status == 200, "\(streamed.body)")
        let events = DaemonStack.streamedText(streamed.body)
        #expect(events.text == expected)
        #expect(events.done)
        #expect(events.last.flatMap { DaemonStack.field($0, "choices", 0, "finish_reason") as? String } == "length")

        // A strategy override in the HTTP body reaches the split too.
        let overridden = try DaemonStack.curl(edge.completionsURL, body: try DaemonStack.completionBody(
            prompt: Self.prompt, maxTokens: Self.maxTokens, stream: false, extra: ["strategy": "split(k=0,f16)"]))
        #expect(DaemonStack.field(overridden.body, "split", "strategy") as? String == "split(k=0,f16)")
        #expect(DaemonStack.field(overridden.body, "choices", 0, "text") as? String != nil)
    }

    @Test("a strategy naming a split layer outside the model is refused as an invalid request, and the edge daemon keeps serving")
    func splitLayerOutsideTheModel() throws {
        let (cloud, edge) = try DaemonStack.startCloudAndEdge(splitLayer: 1)
        defer { edge.daemon.kill9(); cloud.kill9() }
        for strategy in ["split(k=-1)", "split(k=4,f32)", "split(k=99999999999)"] {
            let reply = try DaemonStack.curl(edge.completionsURL, body: try DaemonStack.completionBody(
                prompt: Self.prompt, maxTokens: 4, stream: false, extra: ["strategy": strategy]))
            #expect(reply.status == 400, "\(strategy): \(reply.body)")
            #expect(DaemonStack.field(reply.body, "error", "code") as? String == "invalid_request", "\(strategy): \(reply.body)")
            #expect(edge.daemon.process.isRunning, "\(strategy) stopped the edge: \(edge.daemon.output)")
            guard edge.daemon.process.isRunning else { return }
        }
        let run = try runTool("edge-node", ["complete", "--connect", edge.socketEndpoint, "--prompt", Self.prompt,
                                            "--max-tokens", "4", "--strategy", "split(k=-2)"])
        #expect(run.status != 0)
        #expect(run.standardError.contains("split layer"), "\(run.standardError)")
        let expected = try DaemonStack.localCompletion(prompt: Self.prompt, maxTokens: 4)
        let good = try runTool("edge-node", ["complete", "--connect", edge.socketEndpoint, "--prompt", Self.prompt, "--max-tokens", "4"])
        #expect(try DaemonStack.completion(of: good.standardOutput, prompt: Self.prompt) == expected)
    }

    @Test("a seeded sampled completion through the daemons equals edge-node generate with the same seed")
    func seededSamplingThroughTheDaemons() throws {
        let (cloud, edge) = try DaemonStack.startCloudAndEdge(splitLayer: 2)
        defer { edge.daemon.kill9(); cloud.kill9() }
        let local = try runTool("edge-node", ["generate", "--model", DaemonStack.modelPath, "--prompt", Self.prompt,
                                              "--max-tokens", "\(Self.maxTokens)", "--temperature", "0.8", "--top-p", "0.9",
                                              "--seed", "7", "--threads", "1"])
        let expected = try DaemonStack.completion(of: local.standardOutput, prompt: Self.prompt)
        let reply = try DaemonStack.curl(edge.completionsURL, body: try DaemonStack.completionBody(
            prompt: Self.prompt, maxTokens: Self.maxTokens, stream: false,
            extra: ["temperature": 0.8, "top_p": 0.9, "seed": 7, "strategy": "split(k=2,f32)"]))
        #expect(DaemonStack.field(reply.body, "choices", 0, "text") as? String == expected, "\(reply.body)")
        // It really sampled: the greedy completion is another text.
        #expect(try DaemonStack.localCompletion(prompt: Self.prompt, maxTokens: Self.maxTokens) != expected)
    }

    @Test("an edge daemon whose key is not on the cloud's allow-list, or that talks without CURVE, gets nothing from the cloud daemon", arguments: ["stranger", "plaintext"])
    func refusedEdgeGetsNothing(kind: String) throws {
        let keys = try DaemonStack.KeyFiles()
        let port = freePort()
        let cloud = try DaemonStack.startCloud(keys, port: port)
        defer { cloud.kill9() }
        let identity: DaemonStack.EdgeIdentity
        if kind == "stranger" {
            let secret = keys.directory.appendingPathComponent("stranger.key").path
            let made = try runTool("edge-node", ["keygen", "--secret-file", secret,
                                                 "--public-file", keys.directory.appendingPathComponent("stranger.pub").path])
            #expect(made.status == 0)
            identity = .stranger(secretFile: secret)
        } else {
            identity = .plaintext
        }
        let edge = try DaemonStack.startEdge(keys, splitLayer: 1, cloudPorts: [port], identity: identity)
        defer { edge.daemon.kill9() }
        let run = try runTool("edge-node", ["complete", "--connect", edge.socketEndpoint, "--prompt", Self.prompt,
                                            "--max-tokens", "4"])
        #expect(run.status != 0)
        #expect(run.standardOutput == Self.prompt, "no completion text: \(run.standardOutput)")
        #expect(run.standardError.contains("cloud unavailable"), "\(run.standardError)")
    }
}
