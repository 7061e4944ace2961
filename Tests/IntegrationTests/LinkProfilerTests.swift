import Foundation
import Testing
@testable import Split
@testable import SplitBench

@Suite("Link profiler", .serialized)
struct LinkProfilerTests {
    @Test("measures the round trip and uplink an emulated link imposes (20 ms, 20 Mbit/s)")
    func measuresEmulatedLink() throws {
        let edgeKeys = try CurveKeyPair.generate()
        let cloud = try InProcessCloud(modelPath: TestPaths.fixture("models/llama/model.gguf"), allowed: [edgeKeys.publicKey])
        defer { cloud.stop() }
        guard let port = UInt16(cloud.endpoint.address.split(separator: ":").last ?? "") else {
            Issue.record("no port in \(cloud.endpoint.address)")
            return
        }
        let relay = LinkEmulator(configuration: .init(targetPort: port, oneWayDelaySeconds: 0.01, bandwidthBitsPerSecond: 20e6))
        let relayPort = try relay.start()
        defer { relay.stop() }
        let endpoint = CloudEndpoint(address: "tcp://127.0.0.1:\(relayPort)", serverKey: cloud.endpoint.serverKey)
        let link = EdgeLinkConfiguration(endpoints: [endpoint], clientKeys: edgeKeys, deadAfterSeconds: 10)
        let measurement = try LinkProfiler(endpoint: endpoint, link: link, pingSamples: 15, probeBytes: 512 << 10, probes: 2).measure()
        #expect(measurement.roundTripSeconds >= 0.02 && measurement.roundTripSeconds < 0.1, "\(measurement)")
        #expect(measurement.uplinkBitsPerSecond > 10e6 && measurement.uplinkBitsPerSecond < 30e6, "\(measurement)")
        let profile = LinkProfiler.networkProfile(name: "measured", endpoint: endpoint.address, measurement: measurement)
        try profile.validate(path: "measured")
        // The profile reads back through the store's YAML path.
        #expect(try ProfileStore.network(yaml: try ProfileStore.yaml(profile), path: "x") == profile)
    }
}
