import Foundation

/// The KV memory budget: making room for a request by evicting idle sessions.
extension CloudSessionStore {
    /// Makes room under the KV budget for what `request` will add to its session's cache,
    /// evicting idle sessions, least recently used first. Returns false when the request still
    /// does not fit because the budget is held by sessions being computed (the caller waits);
    /// true when it fits, or when the request is one `begin` will refuse or answer anyway.
    public func makeRoom(for request: WireMessage.ForwardRequest, from peer: [UInt8]) -> Bool {
        guard let settings = peers[peer] else { return true }
        let c = model.configuration
        let end = Int(request.startPosition) + request.positionCount
        guard end <= maxPositions else { return true }
        let key = Key(peer: peer, session: request.sessionID)
        let current = sessions[key]?.budgetedBytes ?? 0
        return evictIdleSessions(toFit: max(0, projectedBytes(end: end, splitLayer: settings.splitLayer) - current), keeping: key)
    }

    /// KV bytes a session's cache has allocated once it holds `end` positions (it starts at
    /// `KVCache.initialCapacity` and doubles).
    func projectedBytes(end: Int, splitLayer: Int) -> Int {
        let c = model.configuration
        return KVCache.byteCount(holding: end, layerCount: c.layerCount - splitLayer, kvWidth: c.kvWidth, maxPositions: maxPositions)
    }

    /// Bytes all sessions count against the budget: what they hold, or what a request being
    /// computed will make them hold.
    var budgetedBytes: Int { sessions.values.reduce(0) { $0 + $1.budgetedBytes } }

    /// Evicts least recently used sessions (never `keeping`) until under the budget.
    func enforceBudget(keeping: Key) {
        _ = evictIdleSessions(toFit: 0, keeping: keeping)
    }

    /// Evicts the least recently used idle session of `peer` while it holds `maxSessionsPerPeer`,
    /// and of anyone while all hold `maxSessions`; false when only busy sessions are left.
    func makeRoomForSession(of peer: [UInt8]) -> Bool {
        func evictIdlest(where belongs: (Key) -> Bool) -> Bool {
            guard let victim = sessions.filter({ belongs($0.key) && !$0.value.busy })
                .min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { return false }
            sessions[victim.key] = nil
            evictions += 1
            return true
        }
        while sessions.count >= maxSessions {
            guard evictIdlest(where: { _ in true }) else { return false }
        }
        var held = sessions.keys.reduce(0) { $0 + ($1.peer == peer ? 1 : 0) }
        while held >= maxSessionsPerPeer {
            guard evictIdlest(where: { $0.peer == peer }) else { return false }
            held -= 1
        }
        return true
    }

    /// Evicts idle sessions (never `keeping`, never one being computed), least recently used
    /// first, until `needed` more bytes fit under the budget; false when they cannot.
    func evictIdleSessions(toFit needed: Int, keeping: Key) -> Bool {
        var total = budgetedBytes
        while total + needed > memoryBudgetBytes {
            guard let victim = sessions.filter({ $0.key != keeping && !$0.value.busy })
                .min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { return false }
            total -= victim.value.budgetedBytes
            sessions[victim.key] = nil
            evictions += 1
        }
        return true
    }
}
