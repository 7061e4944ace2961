import Testing
@testable import Split

@Test("Q8_0 sizes are whole blocks of 34 bytes per 32 values")
func q8SizesAreWholeBlocks() {
    #expect(WeightType.q8_0.byteCount(elements: 64) == 68)
    #expect(WeightType.q8_0.byteCount(elements: 33) == nil)
    #expect(WeightType.f16.byteCount(elements: 10) == 20)
}

@Test("every weight type's block layout is ggml's, and a count that is not whole blocks has no size",
      arguments: WeightType.allCases)
func blockLayoutsAreGGMLs(type: WeightType) throws {
    let ggml = try #require(GGMLType.named(code: GGMLType.code(for: type)))
    #expect(GGMLType.weightType(code: ggml.code) == type)
    #expect(type.blockSize == ggml.blockSize && type.blockBytes == ggml.blockBytes, "\(ggml.name)")
    #expect(type.byteCount(elements: 3 * type.blockSize) == 3 * ggml.blockBytes)
    if type.blockSize > 1 { #expect(type.byteCount(elements: type.blockSize + 1) == nil) }
}
