import Testing
@testable import Split

@Test("Q8_0 sizes are whole blocks of 34 bytes per 32 values")
func q8SizesAreWholeBlocks() {
    #expect(WeightType.q8_0.byteCount(elements: 64) == 68)
    #expect(WeightType.q8_0.byteCount(elements: 33) == nil)
    #expect(WeightType.f16.byteCount(elements: 10) == 20)
}
