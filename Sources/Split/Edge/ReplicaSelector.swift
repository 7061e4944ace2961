/// Which cloud replica each session uses, and where it goes when that one fails: rendezvous
/// (highest-random-weight) hashing of the session id over the endpoint addresses. Sessions
/// spread evenly over the replicas; adding or removing one moves only the sessions that hashed
/// to it; and every edge computes the same order for a session without talking to the others.
/// A replica that failed recently goes to the end of every order until its quarantine ends, so
/// new sessions do not each wait out a dead node's timeout before failing over.
public struct ReplicaSelector: Sendable {
    public let endpoints: [CloudEndpoint]
    /// How long a failed replica is tried last.
    public var quarantineNanoseconds: UInt64
    /// The replica directory's version `endpoints` came from (0 without a directory).
    public private(set) var directoryVersion = 0
    private var failedAt: [Int: UInt64] = [:]

    /// Selects among `endpoints` (at least one).
    public init(endpoints: [CloudEndpoint], quarantineSeconds: Double = 30) {
        self.endpoints = endpoints
        quarantineNanoseconds = UInt64(max(0, quarantineSeconds) * 1e9)
    }

    /// The replicas `link` names now: its directory's when it has one, else its endpoints.
    public init(link: EdgeLinkConfiguration) {
        let current = link.replicaDirectory?.current ?? (endpoints: link.endpoints, version: 0)
        self.init(endpoints: current.endpoints)
        directoryVersion = current.version
    }

    /// Re-reads `link`'s replica directory; true when the replicas changed (a replica still
    /// listed keeps its quarantine).
    public mutating func refresh(from link: EdgeLinkConfiguration) -> Bool {
        guard let directory = link.replicaDirectory else { return false }
        let current = directory.current
        guard current.version != directoryVersion else { return false }
        self = updating(endpoints: current.endpoints)
        directoryVersion = current.version
        return true
    }

    /// Endpoint indices in the order `sessionID` should try them: healthy replicas by score,
    /// then quarantined ones by score.
    public func order(for sessionID: UInt64, now: UInt64 = MonotonicClock.nanoseconds()) -> [Int] {
        let scored = endpoints.indices.map { index -> (index: Int, quarantined: Bool, score: UInt64) in
            let quarantined = failedAt[index].map { now &- $0 < quarantineNanoseconds } ?? false
            return (index, quarantined, Self.score(sessionID: sessionID, address: endpoints[index].address))
        }
        return scored.sorted { a, b in
            a.quarantined != b.quarantined ? !a.quarantined : (a.score != b.score ? a.score > b.score : a.index < b.index)
        }.map(\.index)
    }

    /// The same selector over a new endpoint list (replicas added or gone); a replica that is
    /// still listed keeps its quarantine.
    public func updating(endpoints newEndpoints: [CloudEndpoint]) -> ReplicaSelector {
        var updated = ReplicaSelector(endpoints: newEndpoints)
        updated.quarantineNanoseconds = quarantineNanoseconds
        for (index, time) in failedAt {
            if let moved = newEndpoints.firstIndex(where: { $0.address == endpoints[index].address }) {
                updated.failedAt[moved] = time
            }
        }
        return updated
    }

    /// Records that the replica at `index` failed now.
    public mutating func markFailed(_ index: Int, now: UInt64 = MonotonicClock.nanoseconds()) {
        failedAt[index] = now
    }

    /// Records that the replica at `index` served a request.
    public mutating func markHealthy(_ index: Int) {
        failedAt[index] = nil
    }

    /// The weight of (session, replica): a 64-bit mix of the session id and the address's
    /// FNV-1a hash (stable across processes and runs, unlike `Hasher`).
    static func score(sessionID: UInt64, address: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in address.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        var mixer = SplitMix64(state: hash ^ sessionID)
        return mixer.next()
    }
}
