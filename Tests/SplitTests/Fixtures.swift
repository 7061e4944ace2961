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
        let data = try Data(contentsOf: URL(fileURLWithPath: path("models/\(model)/golden.json")))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Golden.self, from: data)
    }
}
