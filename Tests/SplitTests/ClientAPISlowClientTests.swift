import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Split

/// Clients that hold connections open by sending slowly (slowloris): the HTTP API closes a
/// connection without a whole request head after `idleTimeoutSeconds`, answers a body that
/// trickles in past `bodyTimeoutSeconds` with 408, and serves other clients meanwhile.
@Suite("The OpenAI HTTP API under slow clients", .serialized)
struct ClientAPISlowClientTests {
    static let configuration = OpenAIServerConfiguration(host: "127.0.0.1", port: 0, idleTimeoutSeconds: 1, bodyTimeoutSeconds: 1)

    /// Whether the server closed `fd` (a read would return end of file or a reset).
    static func closedByServer(_ fd: Int32) -> Bool {
        var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    static func port(of baseURL: String) throws -> UInt16 {
        UInt16(try #require(URL(string: baseURL)?.port))
    }

    @Test("32 connections dribbling a request head one byte at a time are all closed after the idle timeout, while a normal client gets its whole completion")
    func slowHeadsAreClosed() async throws {
        try await withOpenAIServer(EchoCompletionService(), configuration: Self.configuration) { baseURL in
            let port = try Self.port(of: baseURL)
            var open: [Int32] = []
            for _ in 0..<32 {
                let fd = try TCPSocket.connect(host: "127.0.0.1", port: port)
                try TCPSocket.write(fd, Array("POST /v1/completions HTTP/1.1\r\nHost: edge\r\nX-Slow: ".utf8))
                open.append(fd)
            }
            defer { for fd in open { close(fd) } }
            let started = Date()
            let body = Data(#"{"prompt":"hi","max_tokens":6}"#.utf8)
            let (status, reply) = try await httpRequest("\(baseURL)/v1/completions", method: "POST", body: body)
            #expect(status == 200)
            #expect(try jsonChoiceText(reply) == EchoCompletionService.words.joined())

            var closed = Set<Int32>()
            while closed.count < open.count, Date().timeIntervalSince(started) < 10 {
                for fd in open where !closed.contains(fd) {
                    if Self.closedByServer(fd) {
                        closed.insert(fd)
                    } else {
                        _ = try? TCPSocket.write(fd, [UInt8(ascii: "a")])
                    }
                }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            let elapsed = Date().timeIntervalSince(started)
            #expect(closed.count == open.count, "\(open.count - closed.count) slow connections still open after \(elapsed) s")
            #expect(elapsed >= 0.9, "closed before the idle timeout: \(elapsed) s")
        }
    }

    @Test("a request body that trickles in is answered 408 request_timeout after the body timeout")
    func slowBodyTimesOut() async throws {
        try await withOpenAIServer(EchoCompletionService(), configuration: Self.configuration) { baseURL in
            let fd = try TCPSocket.connect(host: "127.0.0.1", port: try Self.port(of: baseURL))
            defer { close(fd) }
            try TCPSocket.write(fd, Array("POST /v1/completions HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{".utf8))
            let started = Date()
            var response: [UInt8] = []
            while Date().timeIntervalSince(started) < 10 {
                var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&waiting, 1, 100) > 0 {
                    let chunk = try TCPSocket.read(fd, capacity: 4096)
                    response += chunk
                    if chunk.isEmpty || String(decoding: response, as: UTF8.self).contains("\r\n\r\n") { break }
                } else {
                    _ = try? TCPSocket.write(fd, [UInt8(ascii: " ")])
                }
            }
            let text = String(decoding: response, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 408"), "\(text)")
            let elapsed = Date().timeIntervalSince(started)
            #expect(elapsed >= 0.9 && elapsed < 5, "answered after \(elapsed) s")
        }
    }
}

/// The `choices[0].text` of a non-streamed completion response.
private func jsonChoiceText(_ data: Data) throws -> String? {
    let choices = try jsonObject(data)["choices"] as? [[String: Any]]
    return choices?.first?["text"] as? String
}
