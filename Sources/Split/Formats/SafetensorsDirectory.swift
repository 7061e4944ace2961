import Foundation

/// A Hugging Face checkpoint's weights: a single `model.safetensors`, or shards listed in
/// `model.safetensors.index.json`, presented as one store.
public final class SafetensorsDirectory: WeightStore {
    /// The open shard files (one for an unsharded checkpoint).
    public let shards: [SafetensorsFile]
    /// Names of every tensor across all shards, sorted.
    public let tensorNames: [String]
    private let shardOfTensor: [String: Int]

    /// Opens the checkpoint at `path`: a directory, a `.safetensors` file, or an index `.json` file.
    /// - Throws: `SafetensorsError.noWeights` when a directory has no weights, `.invalidIndex`
    ///   when the index is malformed or disagrees with its shards, and any error of a shard.
    public convenience init(path: String) throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists, isDirectory.boolValue {
            let index = path + "/model.safetensors.index.json"
            let single = path + "/model.safetensors"
            if FileManager.default.fileExists(atPath: index) {
                try self.init(indexPath: index)
            } else if FileManager.default.fileExists(atPath: single) {
                try self.init(files: [SafetensorsFile(path: single)])
            } else {
                throw SafetensorsError.noWeights(directory: path)
            }
        } else if path.hasSuffix(".json") {
            try self.init(indexPath: path)
        } else {
            try self.init(files: [SafetensorsFile(path: path)])
        }
    }

    /// Opens the shards named by the index at `indexPath` (`{"weight_map": {tensor: shard file}}`).
    /// - Throws: `SafetensorsError.invalidIndex` when the index is malformed, names a shard outside
    ///   its directory, or names a tensor its shard lacks.
    public convenience init(indexPath: String) throws {
        let indexFile = try MappedFile(path: indexPath)
        // Copy while the mapping is certainly alive: a temporary may be released right after `.bytes`.
        let data = withExtendedLifetime(indexFile) { Data(indexFile.bytes) }
        let index: ShardIndex
        do {
            index = try JSONDecoder().decode(ShardIndex.self, from: data)
        } catch {
            throw SafetensorsError.invalidIndex(path: indexPath, reason: "\(error)")
        }
        let directory = (indexPath as NSString).deletingLastPathComponent
        var files: [SafetensorsFile] = []
        var fileOfShard: [String: Int] = [:]
        for shard in Set(index.weightMap.values).sorted() {
            guard !shard.contains("/"), shard != "..", !shard.isEmpty else {
                throw SafetensorsError.invalidIndex(path: indexPath, reason: "shard name '\(shard)' is not a plain file name")
            }
            fileOfShard[shard] = files.count
            files.append(try SafetensorsFile(path: directory + "/" + shard))
        }
        for (name, shard) in index.weightMap {
            guard let position = fileOfShard[shard], files[position].tensors[name] != nil else {
                throw SafetensorsError.invalidIndex(path: indexPath, reason: "tensor '\(name)' is not in shard \(shard)")
            }
        }
        try self.init(files: files)
    }

    /// Presents already opened files as one store.
    /// - Throws: `SafetensorsError.invalidIndex` when two files hold a tensor of the same name.
    public init(files: [SafetensorsFile]) throws {
        var owner: [String: Int] = [:]
        for (position, file) in files.enumerated() {
            for name in file.tensorNames {
                guard owner.updateValue(position, forKey: name) == nil else {
                    throw SafetensorsError.invalidIndex(path: file.path, reason: "tensor '\(name)' is in two shards")
                }
            }
        }
        shards = files
        shardOfTensor = owner
        tensorNames = owner.keys.sorted()
    }

    /// A view of the tensor called `name`, from whichever shard holds it.
    /// - Throws: `SafetensorsError.missingTensor`, or the shard's error for that tensor.
    public func weight(_ name: String) throws -> WeightView {
        guard let position = shardOfTensor[name] else { throw SafetensorsError.missingTensor(name) }
        return try shards[position].weight(name)
    }

    private struct ShardIndex: Decodable {
        let weightMap: [String: String]
        enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }
}
