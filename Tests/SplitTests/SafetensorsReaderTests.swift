import Foundation
import Testing
@testable import Split

private func sampleSafetensors() throws -> SafetensorsWriter {
    var writer = SafetensorsWriter()
    writer.metadata = ["format": "pt"]
    try writer.addTensor(name: "model.embed_tokens.weight", shape: [3, 2], values: [1, 2, 3, 4, 5, 6])
    try writer.addTensor(name: "model.norm.weight", shape: [2], values: [0.5, -2], type: .f16)
    try writer.addTensor(name: "lm_head.weight", shape: [1, 2], values: [1, 2], type: .bf16)
    return writer
}

/// A file with a hand-written JSON header and `dataSize` zero bytes of data.
private func rawFile(header: String, dataSize: Int = 0) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.appendLittleEndian(UInt64(header.utf8.count))
    bytes += Array(header.utf8) + [UInt8](repeating: 0, count: dataSize)
    return bytes
}

@Test("a safetensors file written by the writer reads back with the same shapes, dtypes and bytes")
func safetensorsRoundTrip() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("model.safetensors")
    try sampleSafetensors().write(to: path)
    let file = try SafetensorsFile(path: path)
    #expect(file.tensorNames == ["lm_head.weight", "model.embed_tokens.weight", "model.norm.weight"])
    #expect(file.dataOffset % 8 == 0)
    let embedding = try file.weight("model.embed_tokens.weight")
    #expect(embedding.shape == [3, 2] && embedding.type == .f32)
    #expect(embedding.withBytes { $0.loadUnaligned(fromByteOffset: 20, as: Float.self) } == 6)
    let norm = try file.weight("model.norm.weight")
    #expect(norm.type == .f16 && norm.withBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) } == 0x3800)
    let head = try file.weight("lm_head.weight")
    #expect(head.type == .bf16 && head.withBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt16.self) } == 0x4000)
    #expect(throws: SafetensorsError.missingTensor("nope")) { try file.weight("nope") }
    // A directory holding model.safetensors opens the same way.
    let store = try SafetensorsDirectory(path: directory.path)
    #expect(store.tensorNames == file.tensorNames)
    #expect(try store.weight("model.norm.weight").bytes.count == 4)
}

@Test("a sharded checkpoint is read through its index as one store")
func safetensorsShards() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    var first = SafetensorsWriter()
    try first.addTensor(name: "a", shape: [2], values: [1, 2])
    var second = SafetensorsWriter()
    try second.addTensor(name: "b", shape: [1], values: [3])
    try first.write(to: directory.file("model-00001-of-00002.safetensors"))
    try second.write(to: directory.file("model-00002-of-00002.safetensors"))
    let index = #"{"metadata": {"total_size": 12}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#
    directory.write(Array(index.utf8), to: "model.safetensors.index.json")
    let store = try SafetensorsDirectory(path: directory.path)
    #expect(store.tensorNames == ["a", "b"] && store.shards.count == 2)
    #expect(try store.weight("b").withBytes { $0.loadUnaligned(as: Float.self) } == 3)

    let wrong = #"{"weight_map": {"c": "model-00001-of-00002.safetensors"}}"#
    let wrongPath = directory.write(Array(wrong.utf8), to: "wrong.index.json")
    #expect(throws: SafetensorsError.invalidIndex(path: wrongPath, reason: "tensor 'c' is not in shard model-00001-of-00002.safetensors")) {
        try SafetensorsDirectory(indexPath: wrongPath)
    }
    let escape = #"{"weight_map": {"a": "../x.safetensors"}}"#
    #expect(throws: SafetensorsError.self) { try SafetensorsDirectory(indexPath: directory.write(Array(escape.utf8), to: "e.json")) }
    let empty = try TemporaryDirectory()
    defer { empty.remove() }
    #expect(throws: SafetensorsError.noWeights(directory: empty.path)) { try SafetensorsDirectory(path: empty.path) }
}

@Test("bad safetensors headers are refused with an error that says what is wrong")
func safetensorsBadHeaders() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    func open(_ bytes: [UInt8]) throws -> SafetensorsFile { try SafetensorsFile(path: directory.write(bytes, to: "bad.safetensors")) }

    #expect(throws: SafetensorsError.truncated(path: directory.file("bad.safetensors"), needed: 8, fileSize: 3)) {
        try open([1, 2, 3])
    }
    var huge: [UInt8] = []
    huge.appendLittleEndian(UInt64(1) << 40)
    #expect(throws: SafetensorsError.headerTooLarge(path: directory.file("bad.safetensors"), length: 1 << 40, limit: 100 << 20)) {
        try open(huge)
    }
    var past: [UInt8] = []
    past.appendLittleEndian(UInt64(100))
    past += Array("{}".utf8)
    #expect(throws: SafetensorsError.truncated(path: directory.file("bad.safetensors"), needed: 108, fileSize: 10)) {
        try open(past)
    }
    #expect(throws: SafetensorsError.self) { try open(rawFile(header: "{not json")) }
    #expect(throws: SafetensorsError.self) { try open(rawFile(header: #"{"a": {"dtype": "F32", "shape": [1]}}"#, dataSize: 4)) }
    #expect(throws: SafetensorsError.tensorOutOfBounds(name: "a", begin: 0, end: 8, dataSize: 4)) {
        try open(rawFile(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, dataSize: 4))
    }
    #expect(throws: SafetensorsError.invalidTensor(name: "a", reason: "shape [3] of F32 needs 3 × 4 bytes but data_offsets span 8")) {
        try open(rawFile(header: #"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, dataSize: 8))
    }
    #expect(throws: SafetensorsError.invalidTensor(name: "a", reason: "shape [-1] is not a valid shape")) {
        try open(rawFile(header: #"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}"#))
    }
    let ints = try open(rawFile(
        header: #"{"__metadata__": {"format": "pt"}, "ids": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}"#,
        dataSize: 8))
    #expect(ints.tensorNames == ["ids"])
    #expect(throws: SafetensorsError.unsupportedDtype(name: "ids", dtype: "I64")) { try ints.weight("ids") }
    #expect("\(SafetensorsError.unsupportedDtype(name: "ids", dtype: "I64"))".contains("I64"))
}
