import Foundation
@testable import Split

/// Polls until `condition` holds or `seconds` pass; returns whether it held. Tests wait on the
/// state they need rather than sleeping a fixed time.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ relative: String) -> String {
        repository.appendingPathComponent("Tests/SplitTests/Fixtures").appendingPathComponent(relative).path
    }
}

/// A cloud node running in this process on an ephemeral loopback port, with CURVE.
final class InProcessCloud {
    let server: CloudServer
    let serverKeys: CurveKeyPair
    let endpoint: CloudEndpoint

    /// - Parameters:
    ///   - layers: the layers loaded (a cloud-node's `--min-split-layer`); nil for all.
    ///   - identity: the model identity claimed; nil for the file's own (another one makes a
    ///     cloud that refuses every edge's hello with `modelMismatch`).
    init(modelPath: String, allowed: Set<CurveKey>, curve: Bool = true, memoryBudgetBytes: Int = 1 << 30,
         limits: WireLimits = WireLimits(), maxPeers: Int = 65_536, layers: Range<Int>? = nil,
         identity: SHA256Digest? = nil, maxQueuedBytes: Int = 1 << 30,
         maxBatchSessions: Int = 64, prefillChunkRows: Int = 64, bind: String = "tcp://127.0.0.1:*") throws {
        let file = try ModelFile(path: modelPath)
        let model = try file.load(.init(layers: layers, embedding: false, head: true))
        let store = CloudSessionStore(model: model, modelIdentity: try identity ?? SHA256Digest.ofFile(atPath: modelPath),
                                      limits: limits, memoryBudgetBytes: memoryBudgetBytes, maxPeers: maxPeers)
        serverKeys = try CurveKeyPair.generate()
        server = try CloudServer(
            configuration: .init(endpoints: [bind], serverKeys: curve ? serverKeys : nil, allowedClients: allowed,
                                 limits: limits, maxQueuedBytes: maxQueuedBytes,
                                 maxBatchSessions: maxBatchSessions, prefillChunkRows: prefillChunkRows),
            store: store)
        try server.start()
        endpoint = CloudEndpoint(address: server.boundEndpoints[0], serverKey: curve ? serverKeys.publicKey : nil)
    }

    func stop() { server.stop() }
}

/// Runs `body(index)` for `count` indices at once, one thread each (generations block on their
/// sockets, so a thread pool sized to the cores would serialise them), and returns the results
/// in index order. - Throws: the first index's error, if any failed.
func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let results = Locked<[Int: Result<T, any Error>]>([:])
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            let outcome = Result { try body(index) }
            results.withLock { $0[index] = outcome }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
    group.wait()
    return try (0..<count).map { index in try results.withLock { $0[index]! }.get() }
}
