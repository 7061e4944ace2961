import Foundation

/// Rotary position embedding.
///
/// Two layouts exist in the wild for the same model: HF checkpoints rotate the pair
/// `(x[i], x[i + d/2])` ("NeoX", `rotate_half`), while llama.cpp's GGUF Llama files permute the
/// Q/K weights at conversion so that the pair is `(x[2i], x[2i+1])` ("normal"/GPT-J layout).
public struct RotaryEmbedding: Sendable {
    /// Which elements of a head form a rotated pair.
    public enum Layout: String, Sendable, Codable { case interleaved, neox }

    public let layout: Layout
    public let dimensions: Int
    public let headDimension: Int
    private let inverseFrequencies: [Float]

    /// - Parameters:
    ///   - dimensions: how many leading dimensions of each head rotate (≤ headDimension).
    public init(layout: Layout, dimensions: Int, headDimension: Int, theta: Float) {
        self.layout = layout
        self.dimensions = dimensions
        self.headDimension = headDimension
        inverseFrequencies = (0..<(dimensions / 2)).map { i in
            Float(1.0 / Foundation.pow(Double(theta), Double(2 * i) / Double(dimensions)))
        }
    }

    /// Rotates `headCount` heads of one row in place for position `position`.
    public func apply(_ row: UnsafeMutablePointer<Float>, headCount: Int, position: Int) {
        let half = dimensions / 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: half * 2) { table in
            for i in 0..<half {
                let angle = Float(position) * inverseFrequencies[i]
                table[i] = Foundation.cos(angle)
                table[half + i] = Foundation.sin(angle)
            }
            for head in 0..<headCount {
                let v = row + head * headDimension
                switch layout {
                case .interleaved:
                    for i in 0..<half {
                        let c = table[i], s = table[half + i]
                        let a = v[2 * i], b = v[2 * i + 1]
                        v[2 * i] = a * c - b * s
                        v[2 * i + 1] = a * s + b * c
                    }
                case .neox:
                    for i in 0..<half {
                        let c = table[i], s = table[half + i]
                        let a = v[i], b = v[i + half]
                        v[i] = a * c - b * s
                        v[i + half] = a * s + b * c
                    }
                }
            }
        }
    }
}
