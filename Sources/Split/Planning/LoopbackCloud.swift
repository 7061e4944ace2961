import Foundation
import Logging

/// A cloud server on this process's threads (real ZeroMQ sockets and CURVE on loopback),
/// optionally reached through a relay that plays a network (the harness's link emulator), for
/// calibration and benchmarks that need a cloud without a second process. `stop()` ends both.
public final class LoopbackCloud {
    public let server: CloudServer
    /// The server's sessions (for tests that inspect the cloud's caches; only while it is idle).
    public let store: CloudSessionStore
    /// The relay in front of the server, when a link is played.
    public let relay: (any LinkRelay)?
    /// What an edge needs to reach the server (through the relay when there is one).
    public let link: EdgeLinkConfiguration
    /// The server itself, bypassing the relay (other tenants on their own links).
    public let serverEndpoint: CloudEndpoint
    private var stopped = false

    /// Starts a server for `model` and, when `relay` is given, starts it in front of the server.
    /// - Throws: key, socket or relay errors.
    public init(model: TransformerModel, modelIdentity: SHA256Digest, relay: (any LinkRelay)?) throws {
        var silent = Logger(label: "split.bench")
        silent.logLevel = .critical
        let serverKeys = try CurveKeyPair.generate()
        let edgeKeys = try CurveKeyPair.generate()
        store = CloudSessionStore(model: model, modelIdentity: modelIdentity)
        server = try CloudServer(configuration: .init(endpoints: ["tcp://127.0.0.1:*"], serverKeys: serverKeys,
                                                      allowedClients: [edgeKeys.publicKey]),
                                 store: store, logger: silent)
        try server.start()
        var address = server.boundEndpoints[0]
        serverEndpoint = CloudEndpoint(address: address, serverKey: serverKeys.publicKey)
        if let relay {
            guard let port = UInt16(address.split(separator: ":").last ?? "") else {
                server.stop()
                throw ModelError.invalidConfiguration("cannot read the port of \(address)")
            }
            do {
                address = "tcp://127.0.0.1:\(try relay.start(forwardingTo: port))"
            } catch {
                server.stop()
                throw error
            }
        }
        self.relay = relay
        link = EdgeLinkConfiguration(endpoints: [CloudEndpoint(address: address, serverKey: serverKeys.publicKey)],
                                     clientKeys: edgeKeys, deadAfterSeconds: 10)
    }

    /// Stops the relay and the server (once; later calls do nothing).
    public func stop() {
        guard !stopped else { return }
        stopped = true
        relay?.stop()
        server.stop()
    }

    deinit { stop() }
}

/// Something that stands between an edge and a server on loopback and plays a network: the
/// harness's link emulator. Injected, so the library carries no emulator.
public protocol LinkRelay: AnyObject {
    /// Starts relaying to `targetPort` on loopback and returns the port edges connect to.
    /// - Throws: socket errors.
    func start(forwardingTo targetPort: UInt16) throws -> UInt16
    /// Stops relaying (once; later calls do nothing).
    func stop()
}
