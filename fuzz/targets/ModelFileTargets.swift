/// GGUF reader: any file opens or throws; every tensor it lists lies inside the file with the
/// byte count its type and shape need, and the configuration and tokenizer readers built on
/// its metadata throw rather than trap.
func fuzzGGUFReader(_ bytes: UnsafeRawBufferPointer) {
    withScratchFile(bytes, suffix: ".gguf") { path in
        guard let file = try? GGUFFile(path: path) else { return }
        for info in file.tensors {
            guard let view = try? file.weight(info.name) else { continue }
            checkInside(view, fileBytes: bytes)
        }
        if let configuration = try? ModelConfiguration(gguf: file) { _ = try? configuration.validate() }
        if let tokenizer = try? BPETokenizer(gguf: file) {
            let ids = tokenizer.encode("def main():\n    return 0")
            _ = tokenizer.decode(ids + [-1, Int32.max])
        }
    }
}

/// Safetensors reader: the same promises for its JSON header and data section.
func fuzzSafetensorsReader(_ bytes: UnsafeRawBufferPointer) {
    withScratchFile(bytes, suffix: ".safetensors") { path in
        guard let file = try? SafetensorsFile(path: path) else { return }
        for name in file.tensorNames {
            guard let view = try? file.weight(name) else { continue }
            checkInside(view, fileBytes: bytes)
        }
    }
}

/// A weight view holds exactly the bytes its shape needs, and reading them stays in the file
/// (AddressSanitizer checks the first and last byte).
private func checkInside(_ view: WeightView, fileBytes: UnsafeRawBufferPointer) {
    fuzzCheck(view.bytes.count == view.type.byteCount(elements: view.elementCount),
              "tensor \(view.name) has \(view.bytes.count) bytes for \(view.elementCount) \(view.type) values")
    view.withBytes { raw in
        guard raw.count > 0 else { return }
        _ = raw[0] &+ raw[raw.count - 1]
    }
}
