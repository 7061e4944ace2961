import Foundation
import Testing
@testable import Split

/// What tools/fixtures/make_gguf_fixtures.py recorded next to reference.gguf.
private struct Reference: Decodable {
    struct Tensor: Decodable {
        let shape: [Int]
        let values: [Float]
    }
    let tensors: [String: Tensor]
    let ggmlTypes: [String: [StringOrInt]]
    enum CodingKeys: String, CodingKey {
        case tensors
        case ggmlTypes = "ggml_types"
    }
}

private enum StringOrInt: Decodable, Equatable {
    case string(String), int(Int)
    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) { self = .int(value) } else { self = .string(try container.decode(String.self)) }
    }
}

private func loadReference() throws -> (GGUFFile, Reference) {
    let file = try GGUFFile(path: fixturePath("gguf/reference.gguf"))
    let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("gguf/reference.json")))
    return (file, try JSONDecoder().decode(Reference.self, from: data))
}

@Test("metadata written by the reference gguf package reads back with every value type")
func referenceMetadata() throws {
    let (file, _) = try loadReference()
    #expect(file.architecture == "llama")
    #expect(file.metadata["test.uint8"] == .uint8(250) && file.metadata["test.int8"] == .int8(-100))
    #expect(file.metadata["test.uint16"] == .uint16(60000) && file.metadata["test.int16"] == .int16(-30000))
    #expect(file.metadata["test.uint32"] == .uint32(4_000_000_000) && file.metadata["test.int32"] == .int32(-2_000_000_000))
    #expect(file.metadata["test.uint64"] == .uint64((1 << 63) + 5) && file.int("test.uint64") == nil)
    #expect(file.metadata["test.int64"] == .int64(-(1 << 62)))
    #expect(file.metadata["test.float32"] == .float32(0.15625) && file.metadata["test.float64"] == .float64(-2.5e-300))
    #expect(file.bool("test.bool") == true && file.string("test.string") == "héllo → 世界 🙂")
    #expect(file.intArray("test.int_array") == [1, -2, 3] && file.floatArray("test.float_array") == [0.5, -1.25])
    #expect(file.stringArray("test.string_array") == ["a", "", "Ġthe"])
    #expect(file.metadata["test.nested_array"] == .array(.array, [.int32s([1, 2]), .int32s([3])]))
}

@Test("tensors written by the reference gguf package read back, and Split's encoders give the same bytes")
func referenceTensors() throws {
    let (file, reference) = try loadReference()
    let expectedTypes: [String: WeightType] = [
        "f32.weight": .f32, "f16.weight": .f16, "bf16.weight": .bf16, "q8_0.weight": .q8_0,
    ]
    for (name, type) in expectedTypes {
        let source = try #require(reference.tensors[name])
        let view = try file.weight(name)
        #expect(view.shape == source.shape && view.type == type, "\(name)")
        let encoded = try #require(WeightEncoding.encode(source.values, as: type))
        #expect(view.withBytes { Array($0) } == encoded, "\(name) bytes differ from Split's \(type) encoding")
    }
    // Q4_0, which Split reads but does not write: the values come back to within half a step
    // (the step is max|x| / 8).
    let q4 = try file.weight("q4_0.weight")
    let source = try #require(reference.tensors["q4_0.weight"])
    #expect(q4.type == .q4_0 && q4.shape == [1, 32] && q4.bytes.count == 18)
    let matrix = WeightMatrix(rows: 1, columns: 32, storage: .blocks(.q4_0, q4.bytes.baseAddress!), owner: q4.owner)
    var values = [Float](repeating: .nan, count: 32)
    values.withUnsafeMutableBufferPointer { matrix.copyRow(0, into: $0.baseAddress!) }
    let step = (source.values.map(abs).max() ?? 0) / 8
    #expect(zip(values, source.values).allSatisfy { abs($0 - $1) <= step / 2 + 1e-6 })
}

@Test("Split's ggml type table agrees with the reference package's block sizes")
func ggmlTypeTableMatchesReference() throws {
    let (_, reference) = try loadReference()
    for (code, entry) in reference.ggmlTypes {
        // gguf-py still lists Q8_1 with the old 40-byte block; ggml's block_q8_1 is 36 bytes.
        guard let code = UInt32(code), entry.first != .string("Q8_1") else { continue }
        let type = try #require(GGMLType.named(code: code), "type \(code)")
        #expect([StringOrInt.string(type.name), .int(type.blockSize), .int(type.blockBytes)] == entry)
    }
}
