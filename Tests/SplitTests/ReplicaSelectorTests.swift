import Testing
@testable import Split

@Suite("Spreading sessions over cloud replicas")
struct ReplicaSelectorTests {
    static let endpoints = (0..<3).map { CloudEndpoint(address: "tcp://10.0.0.\($0 + 1):5555", serverKey: nil) }

    @Test("sessions spread evenly over the replicas, and a session's order is the same every time")
    func spreadsEvenlyAndStably() {
        let selector = ReplicaSelector(endpoints: Self.endpoints)
        var counts = [0, 0, 0]
        for id in 1...3_000 as ClosedRange<UInt64> {
            let order = selector.order(for: id, now: 0)
            #expect(Set(order) == [0, 1, 2])
            #expect(order == ReplicaSelector(endpoints: Self.endpoints).order(for: id, now: 0))
            counts[order[0]] += 1
        }
        for count in counts { #expect((850...1_150).contains(count), "\(counts)") }
    }

    @Test("removing a replica moves only the sessions that were on it")
    func removingMovesOnlyItsSessions() {
        let all = ReplicaSelector(endpoints: Self.endpoints)
        let fewer = ReplicaSelector(endpoints: Array(Self.endpoints.prefix(2)))
        for id in 1...1_000 as ClosedRange<UInt64> {
            let before = all.order(for: id, now: 0)[0]
            let after = fewer.order(for: id, now: 0)[0]
            if before != 2 { #expect(after == before, "session \(id)") }
        }
    }

    @Test("a replica that failed is tried last until its quarantine ends")
    func failedReplicaGoesLast() {
        var selector = ReplicaSelector(endpoints: Self.endpoints, quarantineSeconds: 30)
        let id: UInt64 = 42
        let first = selector.order(for: id, now: 0)[0]
        selector.markFailed(first, now: 1_000_000_000)
        let during = selector.order(for: id, now: 2_000_000_000)
        #expect(during.last == first)
        #expect(during.count == 3)
        #expect(selector.order(for: id, now: 32_000_000_000)[0] == first)
        selector.markFailed(first, now: 40_000_000_000)
        selector.markHealthy(first)
        #expect(selector.order(for: id, now: 41_000_000_000)[0] == first)
    }
}
