import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Split
@testable import SplitBench

/// A CURVE ROUTER on loopback guarded by a ZAP allow-list, as a cloud node runs it.
private struct CurveServer {
    let context: ZMQContext
    let authenticator: ZAPAuthenticator
    let router: ZMQSocket
    let endpoint: String
    let serverKeys: CurveKeyPair

    init(allowing allowed: Set<CurveKey>) throws {
        context = try ZMQContext()
        serverKeys = try CurveKeyPair.generate()
        authenticator = ZAPAuthenticator(context: context, allowed: allowed)
        try authenticator.start()
        router = try context.socket(.router)
        try router.setOption(.curveServer(true))
        try router.setOption(.curveSecretKey(serverKeys.secretKey))
        try router.setOption(.receiveTimeout(milliseconds: 3000))
        try router.bind("tcp://127.0.0.1:*")
        endpoint = try router.lastEndpoint
    }

    /// A DEALER with CURVE keys (or none) connected to the server; `monitor` gets to watch it
    /// before it connects, so that no event is missed.
    func client(keys: CurveKeyPair?, monitor: ((ZMQSocket) throws -> Void)? = nil) throws -> ZMQSocket {
        let dealer = try context.socket(.dealer)
        if let keys {
            try dealer.setOption(.curveServerKey(serverKeys.publicKey))
            try dealer.setOption(.curvePublicKey(keys.publicKey))
            try dealer.setOption(.curveSecretKey(keys.secretKey))
        }
        try dealer.setOption(.receiveTimeout(milliseconds: 3000))
        try monitor?(dealer)
        try dealer.connect(endpoint)
        return dealer
    }

    /// Answers one request, echoing it with "reply:" in front; false when none arrived.
    func answerOne() throws -> Bool {
        guard let frames = try router.receiveMultipart(), frames.count == 2 else { return false }
        return try router.send(multipart: [frames[0], Array("reply:".utf8) + frames[1]])
    }

    func stop() {
        router.close()
        authenticator.stop()
    }
}

@Test("An allow-listed CURVE client gets replies from a CURVE server")
func allowListedClientGetsReplies() throws {
    let clientKeys = try CurveKeyPair.generate()
    let server = try CurveServer(allowing: [clientKeys.publicKey])
    defer { server.stop() }
    let client = try server.client(keys: clientKeys)
    defer { client.close() }

    try client.send(Array("ping".utf8))
    #expect(try server.answerOne())
    let reply = try #require(try client.receive())
    #expect(reply.frame == Array("reply:ping".utf8))
    #expect(!reply.more)
    #expect(server.authenticator.statistics.admitted >= 1)
}

@Test("A client whose key is not on the allow-list, or without CURVE, gets nothing")
func strangersGetNothing() throws {
    let server = try CurveServer(allowing: [])
    defer { server.stop() }
    try server.router.setOption(.receiveTimeout(milliseconds: 700))

    let stranger = try server.client(keys: try CurveKeyPair.generate())
    defer { stranger.close() }
    try stranger.setOption(.receiveTimeout(milliseconds: 700))
    _ = try stranger.send(Array("ping".utf8), flags: .dontWait)
    #expect(try server.answerOne() == false)
    #expect(try stranger.receive() == nil)
    #expect(server.authenticator.statistics.denied >= 1)

    let plain = try server.client(keys: nil)
    defer { plain.close() }
    try plain.setOption(.receiveTimeout(milliseconds: 700))
    _ = try plain.send(Array("ping".utf8), flags: .dontWait)
    #expect(try server.answerOne() == false)
    #expect(try plain.receive() == nil)
}

@Test("A key added to the allow-list at run time is admitted on its next connection")
func allowListChangesAtRunTime() throws {
    let clientKeys = try CurveKeyPair.generate()
    let server = try CurveServer(allowing: [])
    defer { server.stop() }
    server.authenticator.allow(clientKeys.publicKey)
    #expect(server.authenticator.allowedKeys == [clientKeys.publicKey])
    let client = try server.client(keys: clientKeys)
    defer { client.close() }
    try client.send(Array("hi".utf8))
    #expect(try server.answerOne())
    #expect(try client.receive()?.frame == Array("reply:hi".utf8))
    server.authenticator.revoke(clientKeys.publicKey)
    #expect(server.authenticator.allowedKeys.isEmpty)
}

@Test("A poller reports which socket is readable, and a timeout reports none")
func pollerReportsReadiness() throws {
    let context = try ZMQContext()
    let pull = try context.socket(.pull)
    try pull.bind("inproc://poller-test")
    let push = try context.socket(.push)
    try push.connect("inproc://poller-test")
    let poller = ZMQPoller()
    poller.add(pull)
    #expect(try poller.poll(timeoutMilliseconds: 10) == [[]])
    try push.send(multipart: [[1, 2], [3]])
    #expect(try poller.poll(timeoutMilliseconds: 1000) == [.readable])
    #expect(try pull.receiveMultipart() == [[1, 2], [3]])
    try push.send(multipart: [Data([4]), Data([5, 6])])
    #expect(try pull.receiveMultipartData() == [Data([4]), Data([5, 6])])
    push.close()
    pull.close()
}

@Test("Errors from libzmq name the call and the endpoint")
func zmqErrorsNameTheCall() throws {
    let context = try ZMQContext()
    let socket = try context.socket(.router)
    #expect {
        try socket.bind("nonsense://nowhere")
    } throws: { error in
        (error as? ZMQError)?.call == "zmq_bind(nonsense://nowhere)"
    }
    socket.close()
    #expect(throws: ZMQError.self) { try socket.send([UInt8]([1])) }
}

@Test("Every socket option Split uses can be set on a live socket")
func everyOptionCanBeSet() throws {
    let context = try ZMQContext()
    let keys = try CurveKeyPair.generate()
    let router = try context.socket(.router)
    defer { router.close() }
    let options: [ZMQSocketOption] = [
        .linger(milliseconds: 100), .receiveTimeout(milliseconds: 50), .sendTimeout(milliseconds: 50),
        .routingID(Array("edge-1".utf8)), .receiveHighWaterMark(100), .sendHighWaterMark(100),
        .maxMessageSize(bytes: 1 << 20), .heartbeatInterval(milliseconds: 1000), .heartbeatTimeout(milliseconds: 3000),
        .heartbeatTTL(milliseconds: 5000), .curveServer(true), .curvePublicKey(keys.publicKey),
        .curveSecretKey(keys.secretKey), .curveServerKey(keys.publicKey), .zapDomain("split"), .routerMandatory(true),
        .immediate(true), .reconnectInterval(milliseconds: 100), .reconnectIntervalMax(milliseconds: 2000),
    ]
    for option in options {
        try router.setOption(option)
    }
    #expect(throws: ZMQError.self) { try router.setOption(.routingID([])) }
}

@Test("libzmq drops a frame larger than ZMQ_MAXMSGSIZE before the application sees it")
func oversizeFramesAreDroppedByLibzmq() throws {
    let context = try ZMQContext()
    let router = try context.socket(.router)
    defer { router.close() }
    try router.setOption(.maxMessageSize(bytes: 1024))
    try router.setOption(.receiveTimeout(milliseconds: 500))
    try router.bind("tcp://127.0.0.1:*")
    let dealer = try context.socket(.dealer)
    defer { dealer.close() }
    try dealer.connect(try router.lastEndpoint)
    try dealer.send([UInt8](repeating: 7, count: 4096))
    #expect(try router.receiveMultipart() == nil)
}

@Test("A mandatory ROUTER reports an unknown peer instead of dropping silently")
func mandatoryRouterReportsUnknownPeer() throws {
    let context = try ZMQContext()
    let router = try context.socket(.router)
    defer { router.close() }
    try router.setOption(.routerMandatory(true))
    try router.bind("inproc://mandatory")
    #expect {
        try router.send(multipart: [Array("nobody".utf8), [1]])
    } throws: { error in
        (error as? ZMQError)?.code == EHOSTUNREACH
    }
}

@Test("The authenticator refuses NULL clients when CURVE is required, and admits them when not")
func authenticatorRefusesNullMechanism() throws {
    for requireCurve in [true, false] {
        let context = try ZMQContext()
        let authenticator = ZAPAuthenticator(context: context, requireCurve: requireCurve)
        try authenticator.start()
        defer { authenticator.stop() }
        let router = try context.socket(.router)
        defer { router.close() }
        try router.setOption(.zapDomain("split"))  // makes libzmq ask ZAP about NULL clients too
        try router.setOption(.receiveTimeout(milliseconds: requireCurve ? 500 : 3000))
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try context.socket(.dealer)
        defer { dealer.close() }
        try dealer.connect(try router.lastEndpoint)
        _ = try dealer.send([UInt8]([1]), flags: .dontWait)
        let received = try router.receiveMultipart()
        #expect((received != nil) == !requireCurve)
        let statistics = authenticator.statistics
        #expect(requireCurve ? statistics.denied >= 1 : statistics.admitted >= 1)
    }
}

@Test("Two authenticators cannot serve one context, and stop() is idempotent")
func authenticatorIsExclusivePerContext() throws {
    let context = try ZMQContext()
    let first = ZAPAuthenticator(context: context)
    try first.start()
    let second = ZAPAuthenticator(context: context)
    #expect(throws: ZMQError.self) { try second.start() }
    #expect(throws: ZMQError.self) { try first.start() }
    first.stop()
    first.stop()
    try second.start()  // the endpoint is free again
    second.stop()
}

@Test("A client can tell from a monitor event that the server refused its key or its lack of CURVE")
func monitorReportsAuthenticationFailure() throws {
    let allowedKeys = try CurveKeyPair.generate()
    let server = try CurveServer(allowing: [allowedKeys.publicKey])
    defer { server.stop() }
    let outcomes: [ZMQSocketEvent.Kind] = [.handshakeFailedAuth, .handshakeFailedProtocol, .handshakeSucceeded]

    /// Connects a client with `keys` and returns the first handshake outcome it observes.
    func outcome(keys: CurveKeyPair?) throws -> ZMQSocketEvent? {
        var monitor: ZMQMonitor?
        let client = try server.client(keys: keys) { monitor = try ZMQMonitor(watching: $0, context: server.context) }
        defer { monitor?.close(); client.close() }
        return try monitor?.wait(for: outcomes, timeoutMilliseconds: 3000)
    }

    let refusal = try outcome(keys: try CurveKeyPair.generate())
    #expect(refusal?.kind == .handshakeFailedAuth)
    #expect(refusal?.value == 400)
    let admission = try outcome(keys: allowedKeys)
    #expect(admission?.kind == .handshakeSucceeded)
    #expect(admission?.endpoint == server.endpoint)
    #expect(try outcome(keys: nil)?.kind == .handshakeFailedProtocol)
}

@Test("CURVE request and reply work through the link emulator and take its delay")
func curveThroughLinkEmulator() throws {
    let clientKeys = try CurveKeyPair.generate()
    let server = try CurveServer(allowing: [clientKeys.publicKey])
    defer { server.stop() }
    let serverPort = try #require(UInt16(server.endpoint.split(separator: ":").last ?? ""))
    let link = LinkEmulator(configuration: .init(targetPort: serverPort, oneWayDelaySeconds: 0.02))
    let linkPort = try link.start()
    defer { link.stop() }

    let client = try server.context.socket(.dealer)
    defer { client.close() }
    try client.setOption(.curveServerKey(server.serverKeys.publicKey))
    try client.setOption(.curvePublicKey(clientKeys.publicKey))
    try client.setOption(.curveSecretKey(clientKeys.secretKey))
    try client.setOption(.receiveTimeout(milliseconds: 3000))
    try client.connect("tcp://127.0.0.1:\(linkPort)")

    try client.send(Array("warm-up".utf8))  // the handshake itself takes several round trips
    #expect(try server.answerOne())
    #expect(try client.receive() != nil)
    let start = MonotonicClock.nanoseconds()
    try client.send(Array("ping".utf8))
    #expect(try server.answerOne())
    #expect(try client.receive()?.frame == Array("reply:ping".utf8))
    let roundTrip = Double(MonotonicClock.nanoseconds() - start) / 1e9
    #expect(roundTrip >= 0.04)
    #expect(roundTrip < 1.5)
}
