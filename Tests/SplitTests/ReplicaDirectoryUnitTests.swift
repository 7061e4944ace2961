import Foundation
import Testing
@testable import Split

@Suite("Replica directory")
struct ReplicaDirectoryUnitTests {
    @Test("only tcp endpoints that name a host are resolved; addresses, IPv6 literals, wildcards and ipc pass through",
          arguments: [
              ("tcp://cloud.example:5555", true), ("tcp://127.0.0.1:5555", false), ("tcp://[::1]:5555", false),
              ("tcp://*:5555", false), ("ipc:///tmp/cloud.sock", false), ("tcp://10.0.0.7:1", false),
          ])
    func whatIsResolved(address: String, named: Bool) {
        #expect((ReplicaDirectory.hostName(in: address) != nil) == named)
    }

    @Test("a name expands to every address it resolves to, sorted, IPv6 in brackets, keys kept; literals stay")
    func expansion() throws {
        let key = try CurveKeyPair.generate().publicKey
        let directory = ReplicaDirectory(
            endpoints: [CloudEndpoint(address: "tcp://replicas:5555", serverKey: key),
                        CloudEndpoint(address: "tcp://192.0.2.9:6000", serverKey: nil)],
            resolver: { _ in ["10.0.0.2", "fd00::1", "10.0.0.1", "10.0.0.2"] })
        #expect(directory.refresh())
        let current = directory.current
        #expect(current.endpoints.map(\.address) == [
            "tcp://10.0.0.1:5555", "tcp://10.0.0.2:5555", "tcp://[fd00::1]:5555", "tcp://192.0.2.9:6000"])
        #expect(current.endpoints.prefix(3).allSatisfy { $0.serverKey == key })
        #expect(current.version == 1)
        // Nothing changed: same version.
        #expect(!directory.refresh())
        #expect(directory.current.version == 1)
    }

    @Test("a failed or empty resolution keeps the last good list; before any, the name itself is used")
    func dnsTroubleKeepsReplicas() {
        let answer = Locked<[String]?>(nil)
        let directory = ReplicaDirectory(
            endpoints: [CloudEndpoint(address: "tcp://replicas:5555", serverKey: nil)],
            resolver: { host in
                guard let addresses = answer.current else { throw ReplicaDirectoryError.resolution(host, "timeout") }
                return addresses
            })
        #expect(!directory.refresh())
        #expect(directory.current.endpoints.map(\.address) == ["tcp://replicas:5555"])
        answer.withLock { $0 = ["10.0.0.1"] }
        #expect(directory.refresh())
        answer.withLock { $0 = [] }
        #expect(!directory.refresh())
        answer.withLock { $0 = nil }
        #expect(!directory.refresh())
        #expect(directory.current.endpoints.map(\.address) == ["tcp://10.0.0.1:5555"])
    }

    @Test("the system resolver finds localhost")
    func systemResolverResolvesLocalhost() throws {
        let addresses = try ReplicaDirectory.systemResolver("localhost")
        #expect(addresses.contains("127.0.0.1") || addresses.contains("::1"))
        #expect(throws: ReplicaDirectoryError.self) { try ReplicaDirectory.systemResolver("no-such-host.invalid") }
    }

    @Test("a replica still listed after a change keeps its quarantine; a new one starts healthy")
    func quarantineSurvivesUpdates() {
        let a = CloudEndpoint(address: "tcp://10.0.0.1:5555", serverKey: nil)
        let b = CloudEndpoint(address: "tcp://10.0.0.2:5555", serverKey: nil)
        let c = CloudEndpoint(address: "tcp://10.0.0.3:5555", serverKey: nil)
        var selector = ReplicaSelector(endpoints: [a, b])
        selector.markFailed(0, now: 1_000)
        let updated = selector.updating(endpoints: [c, a])
        for session in UInt64(1)...50 {
            // a (index 1 now) is quarantined, so it is last for every session.
            #expect(updated.order(for: session, now: 2_000).last == 1)
        }
    }
}
