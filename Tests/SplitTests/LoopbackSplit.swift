import Foundation
import Logging
@testable import Split

/// A model (the bundled one unless told) served by an in-process cloud node on loopback (no CURVE), and edge
/// generators for it: the split with real sockets, in one test process.
final class LoopbackSplit {
    static let modelPath = BundledModelTests.models.appendingPathComponent("split-code-7m.gguf").path
    let file: ModelFile
    let model: TransformerModel
    let tokenizer: BPETokenizer
    let store: CloudSessionStore
    let server: CloudServer
    let context: ZMQContext
    let link: EdgeLinkConfiguration
    private var stopped = false

    /// Serves `modelPath` (by default the bundled model).
    init(modelPath: String = LoopbackSplit.modelPath) throws {
        file = try ModelFile(path: modelPath)
        guard let tokenizer = file.tokenizer else { throw ModelError.missingMetadata("tokenizer") }
        self.tokenizer = tokenizer
        model = try file.load()
        var quiet = Logger(label: "split.test")
        quiet.logLevel = .critical
        store = CloudSessionStore(model: model, modelIdentity: try file.identity())
        server = try CloudServer(configuration: .init(endpoints: ["tcp://127.0.0.1:*"], serverKeys: nil, allowedClients: []),
                                 store: store, logger: quiet)
        try server.start()
        context = try ZMQContext()
        link = EdgeLinkConfiguration(endpoints: [CloudEndpoint(address: server.boundEndpoints[0], serverKey: nil)],
                                     clientKeys: nil, deadAfterSeconds: 10)
    }

    func generator(splitLayer k: Int, encoding: ActivationEncoding = .f32) throws -> SplitGenerator {
        var quiet = Logger(label: "split.test")
        quiet.logLevel = .critical
        return try SplitGenerator(model: model, tokenizer: tokenizer, splitLayer: k, encoding: encoding,
                                  modelIdentity: try file.identity(), link: link, context: context, logger: quiet)
    }

    /// Stops the server; afterwards its store may be read from this thread.
    func stop() {
        guard !stopped else { return }
        stopped = true
        server.stop()
    }

    deinit { stop() }

    /// A few held-out line-completion prompts (deterministic).
    func heldOutPrompts(_ count: Int) throws -> [String] {
        let list = BundledModelTests.models.deletingLastPathComponent().appendingPathComponent("tools/train/splits/valid.txt").path
        return try LineCompletionSet(listPath: list, root: try LineCompletionSet.standardLibraryPath(), count: count,
                                     tokenizer: tokenizer).cases.map(\.prompt)
    }
}
