import Hummingbird

/// An error as OpenAI clients expect it: `{"error":{"message","type","param","code"}}`, sent
/// with the status code that `ClientAPIError.httpStatus` gives.
public struct OpenAIErrorBody: Sendable, Codable, Equatable {
    /// The inner object.
    public struct Detail: Sendable, Codable, Equatable {
        public var message: String
        /// `invalid_request_error`, `service_unavailable` or `server_error`.
        public var type: String
        /// The request field at fault, or null.
        public var param: String?
        /// The `ClientAPIError.Code` raw value (`invalid_json`, `cloud_unavailable`, ...).
        public var code: String?

        /// Writes `param` and `code` as explicit nulls, as OpenAI does.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)
            try c.encode(code, forKey: .code)
        }

        enum CodingKeys: String, CodingKey { case message, type, param, code }
    }

    public var error: Detail

    /// The body for `error`.
    public init(_ error: ClientAPIError) {
        self.error = Detail(message: error.message, type: error.openAIType, param: error.parameter, code: error.code.rawValue)
    }
}

extension ClientAPIError {
    /// The HTTP status this error is sent with.
    public var httpStatus: HTTPResponse.Status {
        switch code {
        case .invalidJSON, .invalidRequest, .unsupported: return .badRequest
        case .tooLarge: return .contentTooLarge
        case .notFound: return .notFound
        case .cloudUnavailable, .overloaded: return .serviceUnavailable
        case .requestTimeout: return .requestTimeout
        case .internalError: return .internalServerError
        case .cancelled: return .conflict
        }
    }

    /// OpenAI's error `type` for this error.
    var openAIType: String {
        switch code {
        case .invalidJSON, .invalidRequest, .unsupported, .tooLarge, .notFound, .requestTimeout: return "invalid_request_error"
        case .cloudUnavailable, .overloaded: return "service_unavailable"
        case .internalError: return "server_error"
        case .cancelled: return "cancelled"
        }
    }
}
