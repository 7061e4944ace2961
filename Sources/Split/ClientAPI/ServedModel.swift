import Foundation

/// What a node says about the model it serves in Ollama's `GET /api/tags` and `POST /api/show`:
/// the file's size, time and SHA-256, and the details Ollama lists (format, family, parameter
/// size, quantization level), read from the model file.
public struct ServedModel: Sendable, Equatable {
    /// The name clients use (`GET /v1/models`' id).
    public var name: String
    /// Bytes on disk: the file, or every file of a model directory.
    public var sizeBytes: Int
    /// When the file was last modified, when known.
    public var modifiedAt: Date?
    /// SHA-256 of the weights in hexadecimal (`ModelFile.identity()`, computed at load for the
    /// edge-cloud hello); empty when the service does not know it.
    public var digest: String
    /// "gguf" or "safetensors"; empty when unknown.
    public var format: String
    /// The architecture (`general.architecture`: "llama", "qwen2", "gpt2"); empty when unknown.
    public var family: String
    /// Number of weights, when known.
    public var parameterCount: Int?
    /// The GGUF file type (`general.file_type`) by llama.cpp's name ("Q4_K_M", "F16"), or "unknown".
    public var quantizationLevel: String
    /// Longest context the model was trained for, when known.
    public var contextLength: Int?
    /// Ollama's capabilities: "completion" always, "insert" when the model has FIM tokens.
    public var capabilities: [String]

    /// A model known only by name: what a service that has no file (a test double, a proxy) reports.
    public init(name: String) {
        self.name = name
        sizeBytes = 0
        digest = ""
        format = ""
        family = ""
        quantizationLevel = "unknown"
        capabilities = ["completion"]
    }

    /// The model in `file`, served as `name`, whose weights hash to `digest`.
    public init(file: ModelFile, name: String, digest: SHA256Digest, supportsInfill: Bool) {
        self.init(name: name)
        self.digest = digest.hex
        family = file.configuration.architecture.rawValue
        contextLength = file.configuration.maxPositions
        capabilities = supportsInfill ? ["completion", "insert"] : ["completion"]
        let files = Self.files(of: file.path)
        let attributes = files.compactMap { try? FileManager.default.attributesOfItem(atPath: $0) }
        sizeBytes = attributes.reduce(0) { $0 + (($1[.size] as? NSNumber)?.intValue ?? 0) }
        modifiedAt = attributes.compactMap { $0[.modificationDate] as? Date }.max()
        parameterCount = file.store.tensorNames.reduce(0) { $0 + ((try? file.store.weight($1))?.elementCount ?? 0) }
        if let gguf = file.store as? GGUFFile {
            format = "gguf"
            quantizationLevel = gguf.int("general.file_type").flatMap { Self.fileTypeNames[$0] } ?? "unknown"
        } else {
            format = "safetensors"
        }
    }

    /// The parameter count as Ollama writes it ("8.0B", "135M"), or "" when unknown.
    public var parameterSize: String {
        guard let count = parameterCount, count > 0 else { return "" }
        let value = Double(count)
        switch value {
        case 1e9...: return String(format: "%.1fB", value / 1e9)
        case 1e6...: return String(format: "%.0fM", value / 1e6)
        case 1e3...: return String(format: "%.0fK", value / 1e3)
        default: return "\(count)"
        }
    }

    /// The model's files: `path` itself, or the `.safetensors` files of a directory.
    private static func files(of path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") }.map { (path as NSString).appendingPathComponent($0) }
    }

    /// llama.cpp's `llama_ftype` values (include/llama.h) by the names Ollama shows.
    static let fileTypeNames: [Int: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
        11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M",
        18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S",
        25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M",
        32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    ]
}
