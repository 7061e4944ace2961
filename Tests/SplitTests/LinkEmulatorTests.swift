import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Split
@testable import SplitBench

/// A TCP echo server on loopback, on threads of its own, for relaying through the emulator.
private final class EchoServer: Sendable {
    let port: UInt16
    private let listener: Int32
    private let stopping = Locked(false)
    private let done = DispatchGroup()

    init() throws {
        (listener, port) = try TCPSocket.listen(host: "127.0.0.1", port: 0)
        done.enter()
        Thread { [self] in
            while !stopping.current {
                guard let fd = try? TCPSocket.accept(listener, timeoutMilliseconds: 20) else { continue }
                Thread {
                    while let bytes = try? TCPSocket.read(fd, capacity: 65536), !bytes.isEmpty {
                        guard (try? TCPSocket.write(fd, bytes)) != nil else { break }
                    }
                    close(fd)
                }.start()
            }
            done.leave()
        }.start()
    }

    func stop() {
        stopping.withLock { $0 = true }
        done.wait()
        close(listener)
    }
}

/// Reads exactly `count` bytes (fewer only if the peer closes).
private func readExactly(_ fd: Int32, _ count: Int) throws -> [UInt8] {
    var received: [UInt8] = []
    while received.count < count {
        let bytes = try TCPSocket.read(fd, capacity: count - received.count)
        if bytes.isEmpty { break }
        received += bytes
    }
    return received
}

/// Runs `body` with a socket connected through an emulator (configured by `configure`) to an
/// echo server, and the emulator itself; tears everything down afterwards.
private func throughLink(
    _ configure: (inout LinkEmulatorConfiguration) -> Void, _ body: (Int32, LinkEmulator) throws -> Void
) throws {
    let echo = try EchoServer()
    defer { echo.stop() }
    var configuration = LinkEmulatorConfiguration(targetPort: echo.port)
    configure(&configuration)
    let link = LinkEmulator(configuration: configuration)
    let port = try link.start()
    defer { link.stop() }
    let fd = try TCPSocket.connect(host: "127.0.0.1", port: port)
    defer { close(fd) }
    try body(fd, link)
}

private func seconds(since start: UInt64) -> Double { Double(MonotonicClock.nanoseconds() - start) / 1e9 }

@Test("A round trip through the link emulator takes at least twice the one-way delay")
func emulatorAddsDelay() throws {
    try throughLink({ $0.oneWayDelaySeconds = 0.04 }) { fd, link in
        for round in 0..<5 {
            let start = MonotonicClock.nanoseconds()
            try TCPSocket.write(fd, [UInt8(round)])
            #expect(try readExactly(fd, 1) == [UInt8(round)])
            let roundTrip = seconds(since: start)
            #expect(roundTrip >= 0.08)
            #expect(roundTrip < 1.0)
        }
        let statistics = link.statistics
        #expect(statistics.connections == 1)
        #expect(statistics.bytesToTarget == 5)
        #expect(statistics.bytesToClient == 5)
    }
}

@Test("The link emulator caps throughput near the configured bandwidth")
func emulatorCapsBandwidth() throws {
    let rate = 4_000_000.0  // bits per second, each direction
    try throughLink({ $0.bandwidthBitsPerSecond = rate }) { fd, _ in
        let payload = (0..<400_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let start = MonotonicClock.nanoseconds()
        let writer = Thread { try? TCPSocket.write(fd, payload) }
        writer.start()
        let echoed = try readExactly(fd, payload.count)
        let elapsed = seconds(since: start)
        #expect(echoed == payload)
        // Both directions are capped but pipelined: ≈ 400 kB × 8 / 4 Mbit/s = 0.8 s.
        let measured = Double(payload.count * 8) / elapsed
        #expect(measured <= rate * 1.25, "measured \(measured) bit/s in \(elapsed) s")
        #expect(measured >= rate * 0.3, "measured \(measured) bit/s in \(elapsed) s")
    }
}

@Test("Jitter never reorders the byte stream")
func jitterKeepsOrder() throws {
    try throughLink({ $0.oneWayDelaySeconds = 0.005; $0.jitterSeconds = 0.005; $0.seed = 9 }) { fd, _ in
        let sent = (0..<200).map { UInt8($0) }
        for byte in sent {
            try TCPSocket.write(fd, [byte])
            usleep(500)
        }
        #expect(try readExactly(fd, sent.count) == sent)
    }
}

@Test("Stopping the emulator with a connection open ends promptly and closes it")
func emulatorStopsCleanly() throws {
    let echo = try EchoServer()
    defer { echo.stop() }
    let link = LinkEmulator(configuration: .init(targetPort: echo.port, oneWayDelaySeconds: 0.01))
    let port = try link.start()
    let fd = try TCPSocket.connect(host: "127.0.0.1", port: port)
    defer { close(fd) }
    try TCPSocket.write(fd, [1, 2, 3])
    #expect(try readExactly(fd, 3) == [1, 2, 3])
    let start = MonotonicClock.nanoseconds()
    link.stop()
    #expect(seconds(since: start) < 2)
    #expect(try TCPSocket.read(fd, capacity: 16).isEmpty)
    link.stop()  // Stopping twice is harmless.
    let again = try link.start()  // and it can be started again
    let second = try TCPSocket.connect(host: "127.0.0.1", port: again)
    defer { close(second) }
    try TCPSocket.write(second, [4])
    #expect(try readExactly(second, 1) == [4])
    link.stop()
}

@Test("The shaper delivers in order, at the token-bucket rate, with repeatable jitter")
func shaperSchedule() {
    // 8 Mbit/s is 1 byte per microsecond; no burst beyond one chunk.
    var shaper = LinkShaper(delaySeconds: 0.001, jitterSeconds: 0, bandwidthBitsPerSecond: 8e6, burstBytes: 1000, seed: 1)
    #expect(shaper.deliveryTime(ofChunk: 1000, arrivingAt: 0) == 1_000_000)  // burst covers it
    #expect(shaper.deliveryTime(ofChunk: 1000, arrivingAt: 0) == 2_000_000)  // waits 1 ms for tokens
    var a = LinkShaper(delaySeconds: 0.01, jitterSeconds: 0.009, bandwidthBitsPerSecond: nil, burstBytes: 1, seed: 5)
    var b = a
    var last: UInt64 = 0
    for step in 0..<1000 {
        let time = a.deliveryTime(ofChunk: 10, arrivingAt: UInt64(step) * 100_000)
        #expect(time == b.deliveryTime(ofChunk: 10, arrivingAt: UInt64(step) * 100_000))
        #expect(time >= last)
        #expect(time >= UInt64(step) * 100_000 + 1_000_000)
        last = time
    }
}
