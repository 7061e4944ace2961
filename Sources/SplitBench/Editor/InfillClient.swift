import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Split

/// What an editor plugin sees of one streamed `POST /infill`: when the first text arrived,
/// when the first line was complete, and what the server reported at the end.
public struct InfillExchange: Sendable, Codable {
    /// Seconds from sending the request to the first non-empty text event (nil: no text).
    public var firstTextSeconds: Double?
    /// Seconds to the end of the first non-blank line of the suggestion (its line break, or
    /// the end of the answer when it has none).
    public var lineSeconds: Double
    public var totalSeconds: Double
    public var text: String
    /// The server's counts: prompt tokens, those continued from a kept session, generated.
    public var promptTokens: Int
    public var cachedTokens: Int
    public var generatedTokens: Int
    /// The edge's own time to first token (from its worker taking the request).
    public var edgeFirstTokenSeconds: Double?
    /// llama.cpp's `stop_type`: "eos", "word" or "limit" (the budget or a time limit).
    public var stopType: String?

    /// Whether `other`, an answer to the same prompt, agrees with this one: the same text, or,
    /// where a limit ended one of them (`t_max_predict_ms` is a time limit, so it ends generation
    /// at a different token from run to run), the shorter is the start of the longer.
    public func agrees(with other: InfillExchange) -> Bool {
        if text == other.text { return true }
        let (short, long) = text.count < other.text.count ? (self, other) : (other, self)
        return short.stopType == "limit" && long.text.hasPrefix(short.text)
    }
}

/// A plain HTTP/1.1 client for streamed `/infill` requests over one TCP connection each (as
/// llama.vim's curl makes them), timing server-sent events as they arrive.
public enum InfillClient {
    /// Sends `body` to `POST /infill` on `127.0.0.1:port` with `"stream": true` and reads the
    /// events to the last one.
    /// - Throws: `SystemCallError` from the socket; `BenchmarkError` for a refused request or a
    ///   malformed answer.
    public static func infill(port: UInt16, body: [String: Any]) throws -> InfillExchange {
        var body = body
        body["stream"] = true
        let payload = try JSONSerialization.data(withJSONObject: body)
        let head = "POST /infill HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        let fd = try TCPSocket.connect(host: "127.0.0.1", port: port)
        defer { close(fd) }
        let start = DispatchTime.now()
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
        try TCPSocket.write(fd, Array(head.utf8) + Array(payload))

        var received: [UInt8] = []
        var scanned = 0
        var text = ""
        var firstText: Double?
        var line: Double?
        var last: [String: Any]?
        reading: while last == nil {
            let chunk = try TCPSocket.read(fd, capacity: 65_536)
            if chunk.isEmpty { break }
            received += chunk
            // Events are `data: {json}\n\n`; chunked-encoding size lines fall between them.
            while let event = nextEvent(in: received, from: &scanned) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(event)) as? [String: Any] else {
                    throw BenchmarkError("malformed event: \(String(decoding: event, as: UTF8.self))")
                }
                if let error = object["error"] as? [String: Any] {
                    throw BenchmarkError("the edge answered an error: \(error["message"] ?? error)")
                }
                if let piece = object["content"] as? String, !piece.isEmpty {
                    if firstText == nil { firstText = elapsed() }
                    text += piece
                    if line == nil, Self.hasCompleteLine(text) { line = elapsed() }
                }
                if object["stop"] as? Bool == true {
                    last = object
                    break reading
                }
            }
        }
        guard let last else {
            let answer = String(decoding: received.prefix(300), as: UTF8.self)
            throw BenchmarkError("the stream ended without its last event: \(answer)")
        }
        let total = elapsed()
        let timings = last["timings"] as? [String: Any]
        let split = last["split"] as? [String: Any]
        return InfillExchange(firstTextSeconds: firstText, lineSeconds: line ?? total, totalSeconds: total, text: text,
                              promptTokens: last["tokens_evaluated"] as? Int ?? 0,
                              cachedTokens: timings?["cache_n"] as? Int ?? 0,
                              generatedTokens: last["tokens_predicted"] as? Int ?? 0,
                              edgeFirstTokenSeconds: split?["time_to_first_token_seconds"] as? Double,
                              stopType: last["stop_type"] as? String)
    }

    /// Whether `text` holds a non-blank line ended by a line break.
    static func hasCompleteLine(_ text: String) -> Bool {
        var sawContent = false
        for character in text {
            if character == "\n" {
                if sawContent { return true }
            } else if !character.isWhitespace {
                sawContent = true
            }
        }
        return false
    }

    /// The JSON of the next complete `data: ` event at or after `from`, moving `from` past it.
    private static func nextEvent(in bytes: [UInt8], from: inout Int) -> ArraySlice<UInt8>? {
        let marker = Array("data: ".utf8)
        var index = from
        while index + marker.count <= bytes.count {
            if bytes[index..<(index + marker.count)].elementsEqual(marker) {
                let start = index + marker.count
                var end = start
                while end + 1 < bytes.count, !(bytes[end] == 10 && bytes[end + 1] == 10) { end += 1 }
                guard end + 1 < bytes.count else { return nil }  // not complete yet
                from = end + 2
                return bytes[start..<end]
            }
            index += 1
        }
        return nil
    }
}

/// A benchmark that could not run as asked, with the reason.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
