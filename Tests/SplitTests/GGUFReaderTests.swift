import Foundation
import Testing
@testable import Split

/// A small model-like file with metadata of every type and tensors of every supported type.
private func sampleWriter(alignment: Int = 32) throws -> GGUFWriter {
    var writer = GGUFWriter(alignment: alignment)
    writer.setMetadata("general.architecture", .string("llama"))
    writer.setMetadata("llama.block_count", .uint32(2))
    writer.setMetadata("llama.rope.freq_base", .float32(10000))
    writer.setMetadata("test.u8", .uint8(200))
    writer.setMetadata("test.i8", .int8(-3))
    writer.setMetadata("test.u16", .uint16(65000))
    writer.setMetadata("test.i16", .int16(-32000))
    writer.setMetadata("test.i32", .int32(-7))
    writer.setMetadata("test.u64", .uint64(1 << 40))
    writer.setMetadata("test.i64", .int64(-(1 << 40)))
    writer.setMetadata("test.f64", .float64(0.125))
    writer.setMetadata("test.bool", .bool(true))
    writer.setMetadata("test.unicode", .string("héllo → 世界 🙂"))
    writer.setMetadata("test.tokens", .strings(["a", "b", "Ġthe"]))
    writer.setMetadata("test.ids", .int32s([1, -2, 3]))
    writer.setMetadata("test.floats", .float32s([0.5, -1.5]))
    writer.setMetadata("test.empty", .array(.uint64, []))
    writer.setMetadata("test.nested", .array(.array, [.int32s([1, 2]), .strings(["x"]), .array(.bool, [])]))
    try writer.addTensor(name: "token_embd.weight", shape: [3, 4], values: (0..<12).map { Float($0) / 4 })
    try writer.addTensor(name: "blk.0.attn_q.weight", shape: [2, 3], values: [1, -2, 0.5, 65504, -0.25, 3], type: .f16)
    try writer.addTensor(name: "blk.0.ffn.weight", shape: [1, 64], values: (0..<64).map { Float($0) - 32 }, type: .q8_0)
    try writer.addTensor(name: "output_norm.weight", shape: [5], values: [1, 2, 3, 4, 5], type: .bf16)
    return writer
}

private func floats(_ view: WeightView) -> [Float] {
    view.withBytes { bytes in
        stride(from: 0, to: bytes.count, by: 4).map {
            Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0, as: UInt32.self)))
        }
    }
}

@Test("a GGUF file written by the writer reads back with the same metadata and tensors", arguments: [32, 64])
func ggufRoundTrip(alignment: Int) throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let writer = try sampleWriter(alignment: alignment)
    let path = directory.file("model.gguf")
    try writer.write(to: path)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(writer.serialized()))

    let file = try GGUFFile(path: path)
    #expect(file.version == 3)
    #expect(file.alignment == alignment)
    #expect(file.architecture == "llama")
    #expect(file.int("llama.block_count") == 2)
    #expect(file.float("llama.rope.freq_base") == 10000)
    #expect(file.int("test.u8") == 200 && file.int("test.i8") == -3 && file.int("test.u16") == 65000)
    #expect(file.int("test.i16") == -32000 && file.int("test.i32") == -7)
    #expect(file.int("test.u64") == 1 << 40 && file.int("test.i64") == -(1 << 40))
    #expect(file.float("test.f64") == 0.125)
    #expect(file.bool("test.bool") == true)
    #expect(file.string("test.unicode") == "héllo → 世界 🙂")
    #expect(file.stringArray("test.tokens") == ["a", "b", "Ġthe"])
    #expect(file.intArray("test.ids") == [1, -2, 3])
    #expect(file.floatArray("test.floats") == [0.5, -1.5])
    #expect(file.intArray("test.empty") == [])
    #expect(file.metadata["test.nested"] == .array(.array, [.int32s([1, 2]), .strings(["x"]), .array(.bool, [])]))
    for (key, value) in writer.metadata { #expect(file.metadata[key] == value, "metadata \(key)") }
    #expect(file.tensorNames == ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn.weight", "output_norm.weight"])

    let embedding = try file.weight("token_embd.weight")
    #expect(embedding.shape == [3, 4] && embedding.type == .f32)
    #expect(floats(embedding) == (0..<12).map { Float($0) / 4 })
    #expect(file.tensorInfo("token_embd.weight")?.dimensions == [4, 3])  // GGUF stores innermost first
    let query = try file.weight("blk.0.attn_q.weight")
    #expect(query.shape == [2, 3] && query.type == .f16 && query.bytes.count == 12)
    #expect(query.withBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) } == 0x3C00)  // 1.0 in f16
    let ffn = try file.weight("blk.0.ffn.weight")
    #expect(ffn.type == .q8_0 && ffn.bytes.count == 68 && ffn.shape == [1, 64])
    let norm = try file.weight("output_norm.weight")
    #expect(norm.type == .bf16 && norm.withBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt16.self) } == 0x4000)
    for info in file.tensors { #expect((info.fileOffset - file.dataOffset) % alignment == 0) }
    try file.validateTensorTypes()
}

@Test("metadata and tensors read the same after the header's resident pages are released")
func ggufHeaderPagesReleased() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("model.gguf")
    // A vocabulary long enough to stay in the mapping (read lazily) and to fill several pages.
    let vocabulary = (0..<3000).map { "token-\($0)-ĠΩ" }
    var writer = try sampleWriter(alignment: 32)
    writer.setMetadata("test.vocabulary", .strings(vocabulary))
    try writer.write(to: path)
    let file = try GGUFFile(path: path)
    let before = file.metadata
    let tokens = file.stringArray("test.tokens")
    #expect(file.releaseMetadataPages() >= 4096)
    #expect(file.metadata == before)
    #expect(file.stringArray("test.tokens") == tokens && tokens == ["a", "b", "Ġthe"])
    #expect(file.stringArray("test.vocabulary") == vocabulary)
    #expect(floats(try file.weight("token_embd.weight")) == (0..<12).map { Float($0) / 4 })
}

@Test("a file with a wrong magic number is refused as not GGUF")
func ggufBadMagic() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    var bytes = try sampleWriter().serialized()
    bytes[0] = UInt8(ascii: "X")
    let path = directory.write(bytes, to: "bad.gguf")
    #expect(throws: GGUFError.badMagic(found: 0x4655_4758)) { try GGUFFile(path: path) }
    #expect("\(GGUFError.badMagic(found: 0x4655_4758))".contains("not a GGUF file"))
}

@Test("a truncated GGUF file is refused with the offset where it ends, at every cut")
func ggufTruncated() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let bytes = try sampleWriter().serialized()
    let header = try GGUFFile(path: directory.write(bytes, to: "whole.gguf"))
    let last = try #require(header.tensors.last)
    let dataEnd = last.fileOffset + (last.byteCount ?? 0)
    // Cuts all through the header and tensor table, and cuts through the tensor data.
    for cut in Array(0..<80) + Array(stride(from: 80, to: header.dataOffset, by: 7)) + [header.dataOffset + 1, dataEnd - 1] {
        let path = directory.write(Array(bytes[..<cut]), to: "cut.gguf")
        do {
            _ = try GGUFFile(path: path)
            Issue.record("a file cut at \(cut) of \(bytes.count) bytes was accepted")
        } catch let error as GGUFError {
            switch error {
            case .truncated, .tensorOutOfBounds: break
            default: Issue.record("cut at \(cut): unexpected \(error)")
            }
        }
    }
}

@Test("a tensor whose offset points past the end of the file is named in the error")
func ggufOffsetPastEnd() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    var writer = GGUFWriter()
    try writer.addTensor(name: "a", shape: [8], values: Array(repeating: 1, count: 8))
    var bytes = writer.serialized()
    // The tensor table's last field is the 8-byte offset just before the padding to 32.
    let tableEnd = 24 + 8 + 1 + 4 + 8 + 4 + 8
    bytes.replaceSubrange((tableEnd - 8)..<tableEnd, with: [0, 1, 0, 0, 0, 0, 0, 0])  // 256
    let path = directory.write(bytes, to: "past.gguf")
    #expect(throws: GGUFError.tensorOutOfBounds(name: "a", offset: 64 + 256, size: 32, fileSize: 96)) {
        try GGUFFile(path: path)
    }
}

@Test("a tensor of a type Split cannot load is reported by its ggml name, and the rest of the file still opens")
func ggufUnsupportedType() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    var writer = GGUFWriter()
    try writer.addTensor(name: "ok", shape: [4], values: [1, 2, 3, 4])
    writer.addTensor(name: "iq2", shape: [2, 256], typeCode: 16, data: [UInt8](repeating: 0, count: 132))
    writer.addTensor(name: "mystery", shape: [4], typeCode: 200, data: [UInt8](repeating: 0, count: 4))
    let file = try GGUFFile(path: directory.write(writer.serialized(), to: "q.gguf"))
    #expect(try file.weight("ok").shape == [4])
    #expect(throws: GGUFError.unsupportedTensorType(name: "iq2", typeCode: 16, typeName: "IQ2_XXS")) {
        try file.weight("iq2")
    }
    #expect(throws: GGUFError.unsupportedTensorType(name: "mystery", typeCode: 200, typeName: "unknown type 200")) {
        try file.weight("mystery")
    }
    #expect(file.unsupportedTensors.map(\.name) == ["iq2", "mystery"])
    #expect(throws: GGUFError.unsupportedTensorTypes(counts: ["IQ2_XXS": 1, "unknown type 200": 1], firstName: "iq2")) {
        try file.validateTensorTypes()
    }
    #expect("\(GGUFError.unsupportedTensorType(name: "iq2", typeCode: 16, typeName: "IQ2_XXS"))".contains("IQ2_XXS"))
}

@Test("asking for a tensor the file does not have names the missing tensor")
func ggufMissingTensor() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let file = try GGUFFile(path: directory.write(try sampleWriter().serialized(), to: "m.gguf"))
    #expect(throws: GGUFError.missingTensor("output.weight")) { try file.weight("output.weight") }
    #expect("\(GGUFError.missingTensor("output.weight"))".contains("output.weight"))
}

@Test("hostile counts, lengths, shapes and duplicates are refused before anything is allocated")
func ggufHostileHeaders() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    func header(tensors: UInt64, metadata: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(UInt32(0x4655_4747))
        bytes.appendLittleEndian(UInt32(3))
        bytes.appendLittleEndian(tensors)
        bytes.appendLittleEndian(metadata)
        return bytes
    }
    func open(_ bytes: [UInt8]) throws -> GGUFFile { try GGUFFile(path: directory.write(bytes, to: "h.gguf")) }

    #expect(throws: GGUFError.limitExceeded(what: "tensor count", value: UInt64.max, limit: 1 << 20)) {
        try open(header(tensors: .max, metadata: 0))
    }
    #expect(throws: GGUFError.truncated(at: 16, needed: 24 * 1000)) { try open(header(tensors: 1000, metadata: 0)) }
    var longKey = header(tensors: 0, metadata: 1)
    longKey.appendLittleEndian(UInt64(1) << 60)
    longKey += [UInt8](repeating: 0, count: 16)
    #expect(throws: GGUFError.limitExceeded(what: "string length", value: 1 << 60, limit: 1 << 24)) { try open(longKey) }
    var badUTF8 = header(tensors: 0, metadata: 1)
    badUTF8.appendLittleEndian(UInt64(2))
    badUTF8 += [0xC3, 0x28, 4, 0, 0, 0, 1, 0, 0, 0]
    #expect(throws: GGUFError.invalidUTF8(at: 32)) { try open(badUTF8) }
    var hugeArray = header(tensors: 0, metadata: 1)
    hugeArray.appendLittleEndian(UInt64(1))
    hugeArray += [UInt8(ascii: "k")]
    hugeArray.appendLittleEndian(UInt32(9))
    hugeArray.appendLittleEndian(UInt32(8))  // array of strings
    hugeArray.appendLittleEndian(UInt64(1_000_000))
    #expect(throws: GGUFError.truncated(at: 49, needed: 8_000_000)) { try open(hugeArray) }

    var writer = GGUFWriter()
    try writer.addTensor(name: "same", shape: [1], values: [1])
    try writer.addTensor(name: "same", shape: [1], values: [2])
    #expect(throws: GGUFError.duplicateTensor(name: "same")) { try open(writer.serialized()) }
    var zero = GGUFWriter()
    zero.addTensor(name: "z", shape: [0, 4], typeCode: 0, data: [])
    #expect(throws: GGUFError.invalidShape(name: "z", dimensions: [4, 0], reason: "every dimension must be positive")) {
        try open(zero.serialized())
    }
    var fiveD = GGUFWriter()
    fiveD.addTensor(name: "5d", shape: [1, 1, 1, 1, 1], typeCode: 0, data: [0, 0, 0, 0])
    #expect(throws: GGUFError.limitExceeded(what: "dimension count of tensor '5d'", value: 5, limit: 4)) {
        try open(fiveD.serialized())
    }
    var oddAlignment = GGUFWriter()
    oddAlignment.setMetadata("general.alignment", .uint32(24))
    #expect(throws: GGUFError.invalidAlignment(24)) { try open(oddAlignment.serialized()) }
    #expect(throws: GGUFError.badMagic(found: 0)) { try open([0, 0, 0, 0, 3, 0, 0, 0]) }
    #expect(throws: GGUFError.truncated(at: 0, needed: 4)) { try open([]) }
    var version1 = header(tensors: 0, metadata: 0)
    version1[4] = 1
    #expect(throws: GGUFError.unsupportedVersion(1)) { try open(version1) }
}

@Test("opening a file that does not exist names the call and the path")
func mappedFileMissing() {
    #expect(throws: MappedFileError.systemCall(call: "open", path: "/nonexistent/x.gguf", code: ENOENT)) {
        try GGUFFile(path: "/nonexistent/x.gguf")
    }
}

@Test("mapped-file slices refuse ranges that overflow or run past the end")
func mappedFileSlices() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let file = try MappedFile(path: directory.write([1, 2, 3, 4, 5, 6, 7, 8], to: "s.bin"))
    #expect(try file.readLittleEndian(UInt32.self, at: 4) == 0x0807_0605)
    #expect(try file.slice(offset: 8, count: 0).count == 0)
    #expect(throws: MappedFileError.self) { try file.slice(offset: 5, count: 4) }
    #expect(throws: MappedFileError.self) { try file.slice(offset: Int.max, count: 2) }
    #expect(throws: MappedFileError.self) { try file.slice(offset: -1, count: 1) }
    #expect(try MappedFile(path: directory.write([], to: "empty.bin")).bytes.count == 0)
}

@Test("a file of 2 MB or more is mapped whole at a 2 MB boundary, every byte as in the file, and unmapped cleanly")
func mappedFileHugeAlignment() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    // Not a multiple of the page size, so the mapping's last page is partly past the file's end.
    let count = (5 << 20) + 12345
    // No short period: a mapping a page (or 2 MB) off would not read the same bytes.
    let bytes = (0..<count).map { UInt8(truncatingIfNeeded: (UInt64($0) &* 0x9E37_79B9_7F4A_7C15) >> 56) }
    let path = try directory.write(bytes, to: "big.bin")
    for _ in 0..<3 {  // mapped, read and unmapped again
        let file = try MappedFile(path: path)
        #expect(file.bytes.count == count)
        #if os(Linux)
        #expect(Int(bitPattern: file.bytes.baseAddress) % (2 << 20) == 0)
        #endif
        _ = file.adviseHugePages(from: 4096)  // from 2 MB on (advice only: THP may be off)
        #expect(!file.adviseHugePages(from: count) && !file.adviseHugePages(from: -1))
        #expect(file.bytes.elementsEqual(bytes))
        #expect(try file.slice(offset: count - 3, count: 3).elementsEqual(bytes.suffix(3)))
    }
    // Below 2 MB, the plain mapping: still every byte.
    let small = try MappedFile(path: directory.write(Array(bytes.prefix(70_000)), to: "small.bin"))
    #expect(small.bytes.elementsEqual(bytes.prefix(70_000)))
}

@Test("GGUF version 2 files, laid out as version 3, are read too")
func ggufVersion2() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    var bytes = try sampleWriter().serialized()
    bytes[4] = 2
    let file = try GGUFFile(path: directory.write(bytes, to: "v2.gguf"))
    #expect(file.version == 2 && file.tensors.count == 4)
}

@Test("long metadata arrays are checked when the file opens and read back from the mapping")
func ggufLongArrays() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let count = GGUFFile.mappedArrayLength + 5
    let tokens = (0..<count).map { $0 % 7 == 0 ? "Ġa long token spelled past fifteen bytes \($0)" : "t\($0)" }
    let ids = (0..<count).map { Int32($0 * 3 - 100) }
    var writer = try sampleWriter()
    writer.setMetadata("test.long_tokens", .strings(tokens))
    writer.setMetadata("test.long_ids", .int32s(ids))
    let path = directory.file("long.gguf")
    try writer.write(to: path)
    let file = try GGUFFile(path: path)
    #expect(file.stringArray("test.long_tokens") == tokens)
    #expect(file.intArray("test.long_ids") == ids.map(Int.init))
    #expect(file.value(forKey: "test.long_tokens") == .strings(tokens))
    #expect(file.metadata["test.long_ids"] == .int32s(ids))
    #expect(file.stringArray("test.tokens") == ["a", "b", "Ġthe"])  // short arrays as before

    // A bad string deep inside a long array is refused at open, not when the array is first read.
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let needle = Array("Ġa long token spelled past fifteen bytes 700".utf8)
    let at = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
    bytes[at + 3] = 0xFF
    #expect(throws: GGUFError.invalidUTF8(at: at)) { try GGUFFile(path: directory.write(bytes, to: "bad.gguf")) }
}
