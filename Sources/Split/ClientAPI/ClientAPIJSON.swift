import Foundation

/// The JSON conventions both client APIs share: decoding a bounded message with every failure
/// turned into a `ClientAPIError` that names the field, and the field shapes OpenAI allows.
enum ClientAPIJSON {
    /// Decodes one message of at most `limits.maxMessageBytes` bytes.
    /// - Throws: `ClientAPIError` (`tooLarge`, `invalidJSON`, or `invalidRequest` naming the field).
    static func decode<Message: Decodable>(_ type: Message.Type, from bytes: Data, limits: ClientAPILimits) throws -> Message {
        guard bytes.count <= limits.maxMessageBytes else {
            throw ClientAPIError(.tooLarge, "message is \(bytes.count) bytes; the limit is \(limits.maxMessageBytes)")
        }
        do {
            return try JSONDecoder().decode(Message.self, from: bytes)
        } catch let error as ClientAPIError {
            throw error
        } catch let error as DecodingError {
            throw ClientAPIError(decodingError: error)
        } catch {
            throw ClientAPIError(.invalidJSON, "the body is not valid JSON: \(error)")
        }
    }

    /// Encodes a reply as compact JSON with keys in a stable order.
    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Our reply types hold only strings, numbers, booleans and arrays of them, which
        // JSONEncoder cannot fail on; non-finite numbers are the one exception, and they are
        // sent as strings rather than crash or drop a reply.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? encoder.encode(value)) ?? Data(#"{"type":"error","code":"internal_error","message":"reply could not be encoded"}"#.utf8)
    }

    /// Throws when `decoder`'s object has a key outside `known`, so a misspelt field
    /// (`max_token`) is refused instead of silently ignored.
    /// - Throws: `ClientAPIError.invalidRequest` naming the unknown field.
    static func rejectUnknownKeys(in decoder: any Decoder, known: Set<String>) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw ClientAPIError(.invalidRequest, "unknown field \"\(unknown)\"", parameter: unknown)
        }
    }
}

extension KeyedDecodingContainer {
    /// Decodes an optional field, turning any failure into a `ClientAPIError` that names the
    /// field and the JSON kind it must be (Foundation's own errors do not always say which
    /// field, e.g. for a negative number where an unsigned one is expected).
    /// - Throws: `ClientAPIError.invalidRequest` naming the field, or the decoder's own `ClientAPIError`.
    func decodeField<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value? {
        do {
            return try decodeIfPresent(type, forKey: key)
        } catch let error as ClientAPIError {
            throw error
        } catch {
            throw ClientAPIError(.invalidRequest, "\(key.stringValue) must be \(ClientAPIError.jsonKind(type))",
                                 parameter: key.stringValue)
        }
    }
}

/// A coding key for any string, used to list an object's keys.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// Any JSON value, read and dropped (to count the items of a field whose shape does not matter).
struct IgnoredJSON: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// A field OpenAI lets be either one string or an array of strings (`prompt`, `stop`).
struct StringOrStrings: Codable, Sendable, Equatable {
    var strings: [String]

    init(_ strings: [String]) { self.strings = strings }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            strings = [string]
        } else {
            strings = try container.decode([String].self)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(strings)
    }
}

extension ClientAPIError {
    /// A decoding failure in client terms: which field, and what was wrong with it.
    init(decodingError error: DecodingError) {
        func field(_ path: [any CodingKey]) -> String? {
            let names = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? nil : names.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            self.init(.invalidJSON, "the body is not valid JSON")
        case .dataCorrupted(let context):
            self.init(.invalidRequest, "\(field(context.codingPath) ?? "a field") is invalid: \(context.debugDescription)",
                      parameter: field(context.codingPath))
        case .keyNotFound(let key, let context):
            let name = field(context.codingPath + [key]) ?? key.stringValue
            self.init(.invalidRequest, "\(name) is required", parameter: name)
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            if let name = field(context.codingPath) {
                self.init(.invalidRequest, "\(name) must be \(Self.jsonKind(type))", parameter: name)
            } else {
                self.init(.invalidJSON, "the body must be a JSON object")
            }
        @unknown default:
            self.init(.invalidJSON, "the body could not be decoded: \(error)")
        }
    }

    /// How a Swift type looks in JSON, for messages.
    static func jsonKind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type: return "an integer"
        case is UInt64.Type: return "an integer from 0 to \(UInt64.max)"
        case is Double.Type, is Float.Type: return "a number"
        case is [String].Type, is StringOrStrings.Type: return "a string or an array of strings"
        default: return "of type \(type)"
        }
    }
}
