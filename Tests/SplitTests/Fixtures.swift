import Foundation
@testable import Split

/// Paths to committed fixtures (the test target excludes them from resources; read in place).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Reference outputs of a golden model, produced by HF transformers in float32.
    struct Golden: Decodable {
        let promptText: String
        let promptIds: [Int32]
        let logits: [[Float]]
        let greedyContinuation: [Int32]
        let toleranceMaxAbs: Float
    }

    static func golden(_ model: String) throws -> Golden {
        try decode(Golden.self, "models/\(model)/golden.json")
    }

    /// llama.cpp's logits for a golden model's prompt (tools/fixtures/check_with_llamacpp.py --write).
    struct LlamaCppLogits: Decodable {
        struct Generator: Decodable {
            let llamaCppPython: String
            let llamaCppCommit: String
        }
        let generator: Generator
        let promptIds: [Int32]
        let logits: [[Float]]
    }

    static func llamaCppLogits(_ model: String) throws -> LlamaCppLogits {
        try decode(LlamaCppLogits.self, "models/\(model)/llamacpp.json")
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ relative: String) throws -> T {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(relative)))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: data)
    }
}
