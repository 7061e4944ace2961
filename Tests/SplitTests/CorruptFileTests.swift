import Foundation
import Testing
@testable import Split

/// Reads every tensor of a store, touching every byte, so a bad bound would crash here.
private func readEverything(_ store: any WeightStore) {
    for name in store.tensorNames {
        guard let view = try? store.weight(name) else { continue }
        _ = view.withBytes { $0.reduce(0 as UInt8, &+) }
    }
}

@Test("randomly corrupted GGUF and safetensors files are refused or read safely, never crash")
func corruptedFilesNeverCrash() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    var gguf = GGUFWriter()
    gguf.setMetadata("general.architecture", .string("llama"))
    gguf.setMetadata("tokenizer.ggml.tokens", .strings(["a", "b", "ab"]))
    gguf.setMetadata("nested", .array(.array, [.int32s([1, 2])]))
    try gguf.addTensor(name: "w", shape: [2, 32], values: (0..<64).map(Float.init), type: .q8_0)
    try gguf.addTensor(name: "v", shape: [3], values: [1, 2, 3], type: .f16)
    var safetensors = SafetensorsWriter()
    try safetensors.addTensor(name: "w", shape: [2, 2], values: [1, 2, 3, 4])
    try safetensors.addTensor(name: "v", shape: [3], values: [1, 2, 3], type: .bf16)
    let originals = [("gguf", gguf.serialized()), ("safetensors", try safetensors.serialized())]
    var generator = SplitMix64(state: 3)
    for (kind, original) in originals {
        for round in 0..<400 {
            var bytes = original
            for _ in 0...(round % 4) {
                let index = Int(generator.next() % UInt64(bytes.count))
                // Mostly small changes to counts and lengths, sometimes arbitrary bytes.
                bytes[index] = round % 3 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : bytes[index] &+ 1
            }
            if round % 5 == 0 { bytes.removeLast(Int(generator.next() % UInt64(bytes.count))) }
            let path = directory.write(bytes, to: "corrupt.\(kind)")
            if kind == "gguf", let file = try? GGUFFile(path: path) {
                readEverything(file)
            } else if kind == "safetensors", let file = try? SafetensorsFile(path: path) {
                readEverything(file)
            }
        }
    }
}
