import Foundation
import Testing
@testable import Split

/// A GGUF and a safetensors file with a few tensors of several types, as bytes.
private func sampleFiles() throws -> [(kind: String, bytes: [UInt8])] {
    var gguf = GGUFWriter()
    gguf.setMetadata("general.architecture", .string("llama"))
    gguf.setMetadata("tokenizer.ggml.tokens", .strings(["a", "b", "ab"]))
    gguf.setMetadata("nested", .array(.array, [.int32s([1, 2])]))
    try gguf.addTensor(name: "w", shape: [2, 32], values: (0..<64).map(Float.init), type: .q8_0)
    try gguf.addTensor(name: "v", shape: [3], values: [1, 2, 3], type: .f16)
    var safetensors = SafetensorsWriter()
    try safetensors.addTensor(name: "w", shape: [2, 2], values: [1, 2, 3, 4])
    try safetensors.addTensor(name: "v", shape: [3], values: [1, 2, 3], type: .bf16)
    return [("gguf", gguf.serialized()), ("safetensors", try safetensors.serialized())]
}

/// What opening a file gave: a store whose every tensor was read through, or the error.
private enum Outcome {
    case opened(tensors: Int)
    case refused(any Error)
}

/// Opens `path` as `kind` and reads every byte of every tensor it lists, so a bad bound would
/// crash here rather than pass.
private func open(_ path: String, as kind: String) -> Outcome {
    do {
        let store: any WeightStore = kind == "gguf" ? try GGUFFile(path: path) : try SafetensorsFile(path: path)
        for name in store.tensorNames {
            _ = try store.weight(name).withBytes { $0.reduce(0 as UInt8, &+) }
        }
        return .opened(tensors: store.tensorNames.count)
    } catch {
        return .refused(error)
    }
}

/// Whether `error` is one of the readers' own errors, whose message says what was wrong.
private func isFormatError(_ error: any Error) -> Bool {
    error is GGUFError || error is SafetensorsError || error is MappedFileError
}

@Test("randomly corrupted GGUF and safetensors files are refused with the reader's own error or read in bounds")
func corruptedFilesAreRefusedOrReadSafely() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    var generator = SplitMix64(state: 3)
    for (kind, original) in try sampleFiles() {
        var refused = 0, opened = 0
        for round in 0..<400 {
            var bytes = original
            for _ in 0...(round % 4) {
                let index = Int(generator.next() % UInt64(bytes.count))
                // Mostly small changes to counts and lengths, sometimes arbitrary bytes.
                bytes[index] = round % 3 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : bytes[index] &+ 1
            }
            if round % 5 == 0 { bytes.removeLast(Int(generator.next() % UInt64(bytes.count))) }
            switch open(directory.write(bytes, to: "corrupt.\(kind)"), as: kind) {
            case .opened:
                opened += 1
            case .refused(let error):
                refused += 1
                #expect(isFormatError(error), "\(kind) round \(round): unexpected error type \(type(of: error)): \(error)")
                #expect(!"\(error)".isEmpty)
            }
        }
        // Both paths were exercised: some corruptions land in tensor data (still a valid file),
        // others in counts, lengths and offsets (refused).
        #expect(refused > 40, "\(kind): only \(refused) of 400 corrupted files refused")
        #expect(opened > 0, "\(kind): no corrupted file opened, so the read-through was never exercised")
    }
}

@Test("a file cut short anywhere before the end of its last tensor is refused, never read past its end")
func truncatedFilesAreRefused() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    for (kind, original) in try sampleFiles() {
        let whole = directory.write(original, to: "whole.\(kind)")
        #expect({ if case .opened(let tensors) = open(whole, as: kind) { return tensors == 2 }
                  return false }(), "the uncorrupted \(kind) file opens with both tensors")
        // A GGUF's writer pads the last tensor to the alignment; cutting only that padding
        // leaves a complete file. Every cut before the last tensor's last byte must be refused.
        var end = original.count
        if kind == "gguf" {
            let file = try GGUFFile(path: whole)
            end = file.tensors.map { $0.fileOffset + ($0.byteCount ?? 0) }.max() ?? end
            #expect(end < original.count, "the sample GGUF ends with padding, so the bound above is the one tested")
        }
        for length in 0..<end {
            let outcome = open(directory.write(Array(original.prefix(length)), to: "cut.\(kind)"), as: kind)
            guard case .refused(let error) = outcome else {
                Issue.record("\(kind) cut to \(length) of \(original.count) bytes was not refused")
                continue
            }
            #expect(isFormatError(error), "\(kind) cut to \(length): \(type(of: error)): \(error)")
        }
    }
}

@Test("a GGUF whose tensor data is cut names the tensor that runs past the end")
func truncatedTensorDataNamesTheTensor() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let gguf = try sampleFiles()[0].bytes
    // The last tensor (`v`, 3 f16 values) is followed only by the writer's padding: cut the
    // file one byte before the tensor's end.
    let v = try #require(try GGUFFile(path: directory.write(gguf, to: "whole.gguf")).tensorInfo("v"))
    let path = directory.write(Array(gguf.prefix(v.fileOffset + 6 - 1)), to: "cut.gguf")
    do {
        _ = try GGUFFile(path: path)
        Issue.record("a GGUF with its last tensor cut opened")
    } catch let error as GGUFError {
        guard case .tensorOutOfBounds(let name, _, _, _) = error else {
            Issue.record("expected tensorOutOfBounds, got \(error)")
            return
        }
        #expect(name == "v")
        #expect("\(error)".contains("tensor 'v'"), "the message names the tensor: \(error)")
    }
}
