import Foundation
import Testing
@testable import Split

/// One peer sending as fast as it can while another generates.
@Suite("A cloud node under a flood from one peer", .serialized)
struct FloodTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")

    @Test("a flood of pings from one peer does not hold back another edge's results")
    func floodDoesNotStarveResults() throws {
        let file = try ModelFile(path: Self.modelPath)
        let keys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: Self.modelPath, allowed: [keys.publicKey])
        defer { cloud.stop() }
        let expected = try LocalGenerator(model: try file.load(), tokenizer: file.tokenizer!)
            .generate(CompletionRequest(prompt: "Hello, Split!", maxTokens: 12)).tokens
        let stop = Locked(false)
        let flooded = DispatchSemaphore(value: 0)
        let pingsSent = Locked(0)
        let endpoint = cloud.endpoint
        Thread {
            defer { flooded.signal() }
            guard let raw = try? RawPeer(endpoint: endpoint, keys: keys),
                  let ping = try? WireEncoder().encode(.heartbeat(.init(kind: .ping, timestampNanoseconds: 1))) else { return }
            while !stop.current {
                for _ in 0..<200 { _ = try? raw.socket.send(ping, flags: .dontWait) }
                pingsSent.withLock { $0 += 200 }
                while (try? raw.socket.receive(flags: .dontWait)) != nil {}
            }
        }.start()
        defer {
            stop.withLock { $0 = true }
            flooded.wait()
        }
        // The flood is under way before the generation starts.
        #expect(eventually(10) { pingsSent.current >= 2_000 }, "the flooding peer did not get going")
        let generator = try SplitGenerator(
            model: try file.load(), tokenizer: file.tokenizer!, splitLayer: 1, encoding: .f32, modelIdentity: try file.identity(),
            link: EdgeLinkConfiguration(endpoints: [cloud.endpoint], clientKeys: keys), context: try ZMQContext())
        let box = UncheckedBox(generator)
        let outcome = Locked<Result<SplitReport, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let result = Result { try box.value.generate(CompletionRequest(prompt: "Hello, Split!", maxTokens: 12)) }
            outcome.withLock { $0 = result }
            done.signal()
        }.start()
        let servedUnderFlood = done.wait(timeout: .now() + 5) == .success
        stop.withLock { $0 = true }
        if !servedUnderFlood { _ = done.wait(timeout: .now() + 10) }
        #expect(servedUnderFlood, "the generation did not finish in 5 s while the flood lasted")
        #expect(try outcome.current?.get().result.tokens == expected)
    }
}
