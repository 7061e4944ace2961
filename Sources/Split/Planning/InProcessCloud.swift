import Foundation
import Logging

/// A cloud node on its own threads in this process (CURVE on, real sockets), optionally behind
/// the link emulator: what the split benchmarks measure against.
public final class InProcessCloud {
    public let server: CloudServer
    public let store: CloudSessionStore
    /// What an edge needs to reach this cloud (through the emulator when there is one).
    public let link: EdgeLinkConfiguration
    private var emulator: LinkEmulator?

    /// Starts a cloud for `model`; with `emulatedLink`, its target port is filled in here.
    /// - Throws: key, socket or relay errors.
    public init(model: TransformerModel, identity: SHA256Digest, emulatedLink: LinkEmulatorConfiguration?) throws {
        var silent = Logger(label: "split.bench")
        silent.logLevel = .critical
        let serverKeys = try CurveKeyPair.generate()
        let edgeKeys = try CurveKeyPair.generate()
        store = CloudSessionStore(model: model, modelIdentity: identity)
        server = try CloudServer(configuration: .init(endpoints: ["tcp://127.0.0.1:*"], serverKeys: serverKeys,
                                                      allowedClients: [edgeKeys.publicKey]),
                                 store: store, logger: silent)
        try server.start()
        var address = server.boundEndpoints[0]
        if var configuration = emulatedLink {
            guard let port = UInt16(address.split(separator: ":").last ?? "") else {
                server.stop()
                throw ModelError.invalidConfiguration("cannot read the port of \(address)")
            }
            configuration.targetPort = port
            let relay = LinkEmulator(configuration: configuration)
            do {
                address = "tcp://127.0.0.1:\(try relay.start())"
            } catch {
                server.stop()
                throw error
            }
            emulator = relay
        }
        link = EdgeLinkConfiguration(endpoints: [CloudEndpoint(address: address, serverKey: serverKeys.publicKey)],
                                     clientKeys: edgeKeys, deadAfterSeconds: 10)
    }

    /// Stops the relay and the server.
    public func stop() {
        emulator?.stop()
        emulator = nil
        server.stop()
    }
}
