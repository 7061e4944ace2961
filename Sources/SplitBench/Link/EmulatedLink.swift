import Split

/// The link emulator as a `LoopbackCloud` relay: made from a configuration whose target port is
/// filled in when the cloud's server has bound.
public final class EmulatedLink: LinkRelay {
    /// The link as configured (the target port is replaced at start).
    public let configuration: LinkEmulatorConfiguration
    /// The running emulator, once started.
    public private(set) var emulator: LinkEmulator?

    /// A relay that will play `configuration`.
    public init(_ configuration: LinkEmulatorConfiguration) {
        self.configuration = configuration
    }

    /// Starts the emulator in front of `targetPort`.
    /// - Throws: `SystemCallError` from the relay's sockets.
    public func start(forwardingTo targetPort: UInt16) throws -> UInt16 {
        var configuration = configuration
        configuration.targetPort = targetPort
        let emulator = LinkEmulator(configuration: configuration)
        let port = try emulator.start()
        self.emulator = emulator
        return port
    }

    public func stop() { emulator?.stop() }
}
