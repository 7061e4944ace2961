import Foundation
import Testing
@testable import Split

/// Clouds that accept the hello and then fail every request with a code that warrants trying
/// another node (overloaded, internal).
@Suite("Split generation when every cloud is up but cannot serve", .serialized)
struct CloudsThatCannotServeTests {
    static let modelPath = TestPaths.fixture("models/llama/model.gguf")

    /// Runs `body` on its own thread; nil when it has not returned after `seconds`.
    func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping () throws -> T) -> Result<T, any Error>? {
        let outcome = Locked<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let box = UncheckedBox(body)
        Thread {
            let result = Result { try box.value() }
            outcome.withLock { $0 = result }
            done.signal()
        }.start()
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return outcome.current
    }

    @Test("when every cloud fails each request (overloaded, internal, or losing the session each time), a generation ends as cloud unavailable (or degraded when allowed) instead of retrying forever",
          arguments: [FakeCloud.Answer.error(.overloaded), .error(.internal), .rebuildNeeded])
    func boundedFailover(answer: FakeCloud.Answer) throws {
        let file = try ModelFile(path: Self.modelPath)
        let c = file.configuration
        let clouds = try (0..<2).map { _ in try FakeCloud(hiddenSize: c.hiddenSize, layerCount: c.layerCount, answering: answer) }
        defer { clouds.forEach { $0.stop() } }
        let generator = try SplitGenerator(
            model: try file.load(), tokenizer: file.tokenizer!, splitLayer: 1, encoding: .f32,
            modelIdentity: try file.identity(),
            link: EdgeLinkConfiguration(endpoints: clouds.map(\.endpoint), clientKeys: nil, heartbeatIntervalSeconds: 0.1,
                                        deadAfterSeconds: 1),
            context: try ZMQContext())
        let box = UncheckedBox(generator)
        let request = CompletionRequest(prompt: "Hello, Split!", maxTokens: 4)

        let strict = withDeadline(seconds: 10) { try box.value.generate(request) }
        guard let strict else {
            Issue.record("the generation was still cycling between the clouds after 10 s")
            return
        }
        #expect(throws: CompletionError.self) { _ = try strict.get() }
        if case .failure(CompletionError.cloudUnavailable(let message)) = strict {
            #expect(message.contains("\(answer)") || message.contains("lost the session"), "\(message)")
        } else {
            Issue.record("expected cloudUnavailable, got \(strict)")
        }
        // Each cloud was given a fair try, not an endless stream of them.
        let fairTry = 1...(1 + SplitGenerator.maxRebuildsPerToken)
        #expect(clouds.allSatisfy { fairTry.contains($0.received.forwards) }, "\(clouds.map(\.received))")

        let lenient = withDeadline(seconds: 10) { try box.value.generate(request, allowDegraded: true) }
        guard case .success(let report)? = lenient else {
            Issue.record("a request allowing degraded answers got \(String(describing: lenient))")
            return
        }
        #expect(report.degraded)
        #expect(report.result.tokens.count == 4)
    }
}
