import Foundation
import Testing
@testable import Split
@testable import SplitBench

@Suite("Planning measurements")
struct PlanningMeasurementTests {
    @Test("measuring a model's layers gives one prefill and one decode time per layer, and a valid profile")
    func layerMeasurementFillsTheCalibration() throws {
        let model = try RandomModel.model(.llama, layers: 3)
        let shape = ModelShape(model: model, name: "random")
        #expect(shape.bytesPerWeight == 4)
        let profiler = DeviceProfiler(promptTokens: 8, decodeSteps: 4, repetitions: 1, kernelSeconds: 0.01)
        let calibration = try profiler.measureLayers(model, shape: shape)
        #expect(calibration.layerPrefillSeconds.count == 3 && calibration.layerDecodeSeconds.count == 3)
        #expect(calibration.layerPrefillSeconds.allSatisfy { $0 > 0 } && calibration.layerDecodeSeconds.allSatisfy { $0 > 0 })
        #expect(calibration.modelShape == shape.signature && calibration.promptTokens == 8 && calibration.decodeContext == 10)
        let profile = try profiler.profile(name: "here", model: model, shape: shape)
        try profile.validate(path: "measured")
        #expect(profile.calibration(for: shape) != nil)
        #expect(PlanBenchmark.layerErrors(device: profile, shape: shape).count == 3)
        var other = shape
        other.hiddenSize += 1
        #expect(PlanBenchmark.layerErrors(device: profile, shape: other).isEmpty)
    }

    @Test("f32 transfer agrees with itself everywhere; int8 agrees on most positions and errs by at most half a step")
    func encodingAgreement() throws {
        let model = try RandomModel.model(.llama, layers: 4)
        var rng = SplitMix64(state: 3)
        let sequences = (0..<3).map { _ in (0..<40).map { _ in Int32.random(in: 0..<97, using: &rng) } }
        let rows = try ActivationAgreement(model: model).measure(tokenSequences: sequences, splitLayers: [1, 2, 9])
        #expect(rows.count == 2 * 4, "layer 9 is outside the model and is skipped")
        for row in rows {
            #expect(row.positions == 3 * 40)
            if row.encoding == "f32" {
                #expect(row.agreeing == row.positions && row.maxAbsoluteError == 0)
            } else {
                #expect(row.agreement > 0.8, "\(row)")
                #expect(row.maxAbsoluteError > 0)
            }
        }
        let f32 = rows.first { $0.encoding == "f32" }, q = rows.first { $0.encoding == "int8-32" }
        #expect((f32?.payloadBytesPerToken ?? 0) == 32 * 4 && (q?.payloadBytesPerToken ?? 0) == 32 + 4)
    }
}
