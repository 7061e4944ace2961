import Foundation
import Testing
@testable import Split

@Suite("Profiles")
struct ProfileStoreTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let store = ProfileStore(directory: repository + "/profiles")

    static let validDevice = """
        name: test-device
        description: a device for tests
        cores: {value: 4, source: "spec sheet"}
        memory_gib: {value: 2, source: "spec sheet"}
        gemm_gflop_per_second: {value: 10, source: "measured"}
        memory_bandwidth_gb_per_second: {value: 5, source: "measured"}
        """

    @Test("every committed device profile loads, with a source for each figure")
    func committedDevicesLoad() throws {
        let names = Self.store.names(in: "devices")
        for required in ["raspberry-pi-4", "raspberry-pi-5", "jetson-orin-nano", "laptop-x86", "cloud-cpu-32core", "cloud-gpu-a100"] {
            #expect(names.contains(required), "profiles/devices/\(required).yaml is missing")
        }
        for name in names {
            let profile = try Self.store.device(name)
            #expect(profile.name == name)
            #expect(profile.gemmFLOPPerSecond > 0 && profile.gemvBytesPerSecond > 0 && profile.memoryBytes > 0)
        }
    }

    @Test("every committed network profile loads")
    func committedNetworksLoad() throws {
        let names = Self.store.names(in: "networks")
        for required in ["ethernet-lan", "wifi", "lte", "5g", "satellite"] {
            #expect(names.contains(required), "profiles/networks/\(required).yaml is missing")
        }
        for name in names {
            let profile = try Self.store.network(name)
            #expect(profile.name == name)
            #expect(profile.uplinkBitsPerSecond > 0 && profile.roundTripSeconds >= 0)
        }
        #expect(try Self.store.network("satellite").roundTripSeconds > Self.store.network("ethernet-lan").roundTripSeconds)
    }

    @Test("a missing figure is named in the error")
    func missingFieldIsNamed() {
        let text = Self.validDevice.replacingOccurrences(of: "gemm_gflop_per_second: {value: 10, source: \"measured\"}\n", with: "")
        #expect(throws: ProfileError.missingField(path: "x.yaml", field: "gemm_gflop_per_second")) {
            try ProfileStore.device(yaml: text, path: "x.yaml")
        }
        let noSource = Self.validDevice.replacingOccurrences(of: "memory_gib: {value: 2, source: \"spec sheet\"}", with: "memory_gib: {value: 2}")
        #expect(throws: ProfileError.missingField(path: "x.yaml", field: "memory_gib.source")) {
            try ProfileStore.device(yaml: noSource, path: "x.yaml")
        }
    }

    @Test("a figure that is not a number, not positive or without a source is refused")
    func invalidFiguresAreRefused() throws {
        _ = try ProfileStore.device(yaml: Self.validDevice, path: "ok.yaml")
        let word = Self.validDevice.replacingOccurrences(of: "{value: 10,", with: "{value: fast,")
        #expect(throws: ProfileError.self) { try ProfileStore.device(yaml: word, path: "x.yaml") }
        do {
            _ = try ProfileStore.device(yaml: word, path: "x.yaml")
        } catch {
            #expect(error.description.contains("gemm_gflop_per_second.value"), "\(error)")
        }
        let negative = Self.validDevice.replacingOccurrences(of: "{value: 5,", with: "{value: -5,")
        #expect(throws: ProfileError.invalidField(path: "x.yaml", field: "memory_bandwidth_gb_per_second.value",
                                                  reason: "must be positive, is -5.0")) {
            try ProfileStore.device(yaml: negative, path: "x.yaml")
        }
        let emptySource = Self.validDevice.replacingOccurrences(of: "source: \"measured\"}", with: "source: \"\"}")
        #expect(throws: ProfileError.self) { try ProfileStore.device(yaml: emptySource, path: "x.yaml") }
        let network = """
            name: n
            description: d
            round_trip_ms: {value: 10, source: s}
            jitter_ms: {value: 1, source: s}
            uplink_mbit_per_second: {value: 0, source: s}
            downlink_mbit_per_second: {value: 10, source: s}
            """
        #expect(throws: ProfileError.invalidField(path: "n.yaml", field: "uplink_mbit_per_second.value",
                                                  reason: "must be positive, is 0.0")) {
            try ProfileStore.network(yaml: network, path: "n.yaml")
        }
        #expect(throws: ProfileError.self) { try ProfileStore.network(yaml: "just: [text", path: "n.yaml") }
    }

    @Test("a calibration with a layer list of the wrong length is refused")
    func calibrationLengthsMustAgree() throws {
        var profile = try ProfileStore.device(yaml: Self.validDevice, path: "ok.yaml")
        profile.calibrations = [LayerCalibration(modelShape: "s", source: "m", promptTokens: 8, decodeContext: 8, embedSeconds: 0,
                                                 headSeconds: 0, layerPrefillSeconds: [1, 2], layerDecodeSeconds: [1])]
        #expect(throws: ProfileError.self) { try profile.validate(path: "x") }
    }

    @Test("a written profile reads back the same, calibrations included")
    func writtenProfileReadsBack() throws {
        var profile = try ProfileStore.device(yaml: Self.validDevice, path: "ok.yaml")
        profile.gemvBandwidthGBPerSecond = ProfileFigure(4.5, source: "edge-node profile")
        profile.calibrations = [LayerCalibration(modelShape: "L2 d8", source: "edge-node profile --model m", promptTokens: 8,
                                                 decodeContext: 8, embedSeconds: 1e-6, headSeconds: 2e-5,
                                                 layerPrefillSeconds: [1e-3, 2e-3], layerDecodeSeconds: [1e-4, 2e-4])]
        let text = try ProfileStore.yaml(profile)
        #expect(try ProfileStore.device(yaml: text, path: "round-trip.yaml") == profile)
    }

    @Test("an unknown name lists the profiles there are")
    func unknownNameListsKnownOnes() {
        do {
            _ = try Self.store.network("carrier-pigeon")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("carrier-pigeon") && error.description.contains("lte"), "\(error)")
        }
    }
}
