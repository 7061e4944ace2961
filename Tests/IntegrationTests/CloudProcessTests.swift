import Foundation
import Testing
@testable import Split

/// The edge runs in the test; cloud nodes are real `cloud-node` processes over TCP with CURVE.
@Suite("Split against cloud-node processes", .serialized)
struct CloudProcessTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")
    static let prompt = "Hello, Split! the edge and"

    /// Keys written to a temporary directory: the cloud's pair, the edge's pair, the allow-list.
    struct Keys {
        let directory: URL
        let cloud: CurveKeyPair
        let edge: CurveKeyPair
        var cloudSecret: String { directory.appendingPathComponent("cloud.key").path }
        var allowList: String { directory.appendingPathComponent("edges.pub").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("split-keys-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            cloud = try CurveKeyPair.generate()
            edge = try CurveKeyPair.generate()
            try cloud.write(secretFile: directory.appendingPathComponent("cloud.key").path)
            try edge.write(secretFile: directory.appendingPathComponent("edge.key").path, publicFile: allowList)
        }
    }

    func startCloud(_ keys: Keys, port: Int) throws -> Daemon {
        let daemon = try Daemon("cloud-node", [
            "serve", "--model", Self.modelPath, "--bind", "tcp://127.0.0.1:\(port)",
            "--key", keys.cloudSecret, "--allow", keys.allowList, "--threads", "1"], name: "cloud-\(port)")
        try daemon.waitFor("serving")
        return daemon
    }

    func generator(k: Int, ports: [Int], keys: Keys) throws -> SplitGenerator {
        let file = try ModelFile(path: Self.modelPath)
        return try SplitGenerator(
            model: try file.load(), tokenizer: file.tokenizer!, splitLayer: k, encoding: .f32,
            modelIdentity: try file.identity(),
            link: EdgeLinkConfiguration(
                endpoints: ports.map { CloudEndpoint(address: "tcp://127.0.0.1:\($0)", serverKey: keys.cloud.publicKey) },
                clientKeys: keys.edge, heartbeatIntervalSeconds: 0.1, deadAfterSeconds: 1.0),
            context: try ZMQContext())
    }

    func localTokens(maxTokens: Int) throws -> [Int32] {
        let file = try ModelFile(path: Self.modelPath)
        return try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
            .generate(CompletionRequest(prompt: Self.prompt, maxTokens: maxTokens)).tokens
    }

    @Test("greedy generation through a cloud-node process equals local generation for every split layer")
    func everySplitLayer() throws {
        let keys = try Keys()
        let port = freePort()
        let cloud = try startCloud(keys, port: port)
        defer { cloud.kill9() }
        let expected = try localTokens(maxTokens: 16)
        for k in 0...3 {
            let report = try generator(k: k, ports: [port], keys: keys).generate(CompletionRequest(prompt: Self.prompt, maxTokens: 16))
            #expect(report.result.tokens == expected, "split layer \(k)")
        }
    }

    @Test("greedy generation of the bundled model through a cloud-node process equals local generation for every split layer")
    func bundledModelEverySplitLayer() throws {
        let path = TestPaths.repository.appendingPathComponent("models/split-code-7m.gguf").path
        let keys = try Keys()
        let port = freePort()
        let cloud = try Daemon("cloud-node", [
            "serve", "--model", path, "--bind", "tcp://127.0.0.1:\(port)",
            "--key", keys.cloudSecret, "--allow", keys.allowList, "--threads", "1"], name: "cloud-bundled-\(port)")
        try cloud.waitFor("serving")
        defer { cloud.kill9() }
        let file = try ModelFile(path: path)
        let prompt = "def read_lines(path):\n    with open(path) as f:\n        "
        let expected = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
            .generate(CompletionRequest(prompt: prompt, maxTokens: 12)).tokens
        for k in 0...file.configuration.layerCount {
            let generator = try SplitGenerator(
                model: try file.load(), tokenizer: file.tokenizer!, splitLayer: k, encoding: .f32,
                modelIdentity: try file.identity(),
                link: EdgeLinkConfiguration(
                    endpoints: [CloudEndpoint(address: "tcp://127.0.0.1:\(port)", serverKey: keys.cloud.publicKey)],
                    clientKeys: keys.edge, heartbeatIntervalSeconds: 0.1, deadAfterSeconds: 5),
                context: try ZMQContext())
            let report = try generator.generate(CompletionRequest(prompt: prompt, maxTokens: 12))
            #expect(report.result.tokens == expected, "split layer \(k)")
        }
    }

    @Test("killing the serving cloud node mid-generation fails over to the second, output unchanged")
    func killNineFailover() throws {
        let keys = try Keys()
        let ports = [freePort(), freePort()]
        let clouds = try ports.map { try startCloud(keys, port: $0) }
        defer { clouds.forEach { $0.kill9() } }
        let expected = try localTokens(maxTokens: 24)
        var pieces = 0
        var killed: Int?
        // Sessions spread over the clouds by id: kill whichever one this session is on.
        let generator = try generator(k: 2, ports: ports, keys: keys)
        let report = try generator.generate(CompletionRequest(prompt: Self.prompt, maxTokens: 24)) { _ in
            pieces += 1
            if pieces == 8, let serving = ports.firstIndex(where: { generator.connectedEndpoint == "tcp://127.0.0.1:\($0)" }) {
                clouds[serving].kill9()
                killed = serving
            }
        }
        let victim = try #require(killed)
        #expect(!clouds[victim].process.isRunning)
        #expect(report.failovers >= 1)
        #expect(report.endpoint == "tcp://127.0.0.1:\(ports[1 - victim])")
        #expect(report.result.tokens == expected)
    }
}
