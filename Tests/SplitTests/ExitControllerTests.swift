import Foundation
import Testing
@testable import Split

@Suite("The split-exit controller and confidence rule")
struct ExitControllerTests {
    static let d = 8

    /// A controller file whose layer-2 head's biases favour `favoured`.
    static func controllerFile(favoured: ExitController.Outcome, thresholds: [Float] = [0.5, 0.9]) throws -> GGUFFile {
        var writer = GGUFWriter()
        var bias: [Float] = [0, 0, 0]
        bias[favoured.rawValue] = 10
        try writer.addTensor(name: "split.exit_controller.2.weight", shape: [3, d + 2], values: Array(repeating: 0, count: 3 * (d + 2)))
        try writer.addTensor(name: "split.exit_controller.2.bias", shape: [3], values: bias)
        try writer.addTensor(name: "split.exit_controller.thresholds", shape: [2], values: thresholds)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }  // the mapping outlives the unlinked file
        let path = directory.write(writer.serialized(), to: "c.gguf")
        return try GGUFFile(path: path)
    }

    @Test("a controller is read from its tensors; its stop ends the completion, otherwise the confidence rule decides", arguments: [
        (ExitController.Outcome.exit, ExitPolicy.Decision.exit), (.stop, .stop), (.continue, .exit),
    ])
    func decides(favoured: ExitController.Outcome, decision: ExitPolicy.Decision) throws {
        let controller = try #require(try ExitController.load(from: try Self.controllerFile(favoured: favoured), hiddenSize: Self.d, layerCount: 4))
        let hidden = [Float](repeating: 0.5, count: Self.d), logits: [Float] = [1, 2, 3]
        hidden.withUnsafeBufferPointer { h in
            logits.withUnsafeBufferPointer { l in
                #expect(controller.decide(layer: 2, hidden: h, logits: l) == (favoured == .exit ? .exit : favoured == .stop ? .stop : .continue))
                #expect(ExitPolicy(threshold: 0.01, minLayer: 1, controller: controller).decide(layer: 2, hidden: h, logits: l) == decision)
                // A high τ: exits only by the confidence rule, which now says continue.
                #expect(ExitPolicy(threshold: 0.99, minLayer: 1, controller: controller).decide(layer: 2, hidden: h, logits: l)
                        == (favoured == .stop ? .stop : .continue))
                // No head for layer 3: no stop.
                #expect(ExitPolicy(threshold: 0.01, minLayer: 1, controller: controller).decide(layer: 3, hidden: h, logits: l) == .exit)
            }
        }
    }

    @Test("controller tensors with bad thresholds or a layer outside the model are refused")
    func malformedRefused() throws {
        #expect(throws: ModelError.self) {
            _ = try ExitController.load(from: try Self.controllerFile(favoured: .exit, thresholds: [0.5, 3]), hiddenSize: Self.d, layerCount: 4)
        }
        #expect(throws: ModelError.self) {
            _ = try ExitController.load(from: try Self.controllerFile(favoured: .exit), hiddenSize: Self.d, layerCount: 1)
        }
        #expect(throws: (any Error).self) {
            _ = try ExitController.load(from: try Self.controllerFile(favoured: .exit), hiddenSize: Self.d + 1, layerCount: 4)
        }
        #expect(ExitController.sidecarPath(forModel: "models/m.gguf") == "models/m.controller.gguf")
    }

    @Test("confidence is the top probability and the top-1/top-2 margin; the threshold rule uses both")
    func confidence() {
        let logits: [Float] = [log(0.6), log(0.3), log(0.1)]
        logits.withUnsafeBufferPointer { l in
            let c = ExitPolicy.confidence(l)
            #expect(abs(c.top - 0.6) < 1e-5 && abs(c.margin - 0.3) < 1e-5)
            let hidden: [Float] = []
            hidden.withUnsafeBufferPointer { h in
                #expect(ExitPolicy(threshold: 0.5, minLayer: 1).decide(layer: 1, hidden: h, logits: l) == .exit)
                #expect(ExitPolicy(threshold: 0.7, minLayer: 1).decide(layer: 1, hidden: h, logits: l) == .continue)
                #expect(ExitPolicy(threshold: 0.5, margin: 0.4, minLayer: 1).decide(layer: 1, hidden: h, logits: l) == .continue)
            }
        }
    }
}
