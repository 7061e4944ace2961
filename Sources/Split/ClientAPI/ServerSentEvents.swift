import Foundation
import Hummingbird

/// Server-sent event framing as OpenAI streams it: `data: <json>\n\n`, ending with `data: [DONE]\n\n`.
enum ServerSentEvents {
    /// One event carrying `value` as JSON.
    static func event(_ value: some Encodable) -> ByteBuffer {
        event(json: ClientAPIJSON.encode(value))
    }

    /// One event carrying `json`, already encoded.
    static func event(json: Data) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }

    /// The end of the stream.
    static let done = ByteBuffer(string: "data: [DONE]\n\n")
}
