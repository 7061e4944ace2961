import Foundation
import Testing
@testable import Split

/// A cloud node killed and started again at the same address while an edge is mid-generation:
/// the edge's socket reconnects by itself to a node that has never seen its hello.
@Suite("Split generation across a cloud-node restart", .serialized)
struct CloudRestartTests {
    @Test("a cloud node restarted at the same address mid-generation gets a new hello and the session rebuilt; output unchanged")
    func restartAtTheSameAddress() throws {
        let processes = CloudProcessTests()
        let keys = try CloudProcessTests.Keys()
        let port = freePort()
        var cloud = try processes.startCloud(keys, port: port)
        defer { cloud.kill9() }
        let expected = try processes.localTokens(maxTokens: 16)
        var pieces = 0
        var restartError: (any Error)?
        let report = try processes.generator(k: 1, ports: [port], keys: keys)
            .generate(CompletionRequest(prompt: CloudProcessTests.prompt, maxTokens: 16)) { _ in
                pieces += 1
                guard pieces == 5 else { return }
                cloud.kill9()
                do { cloud = try processes.startCloud(keys, port: port) } catch { restartError = error }
            }
        #expect(restartError == nil)
        #expect(report.result.tokens == expected)
        #expect(report.endpoint == "tcp://127.0.0.1:\(port)")
        #expect(report.rebuilds >= 1)
        #expect(!report.degraded)
    }
}
