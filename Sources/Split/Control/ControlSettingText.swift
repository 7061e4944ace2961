/// A control setting written as text in flags and JSON ("4", "adaptive"): encoded as its
/// description, decoded by `init(parsing:)`.
public protocol ControlSettingText: Codable, CustomStringConvertible {
    /// Parses `description`'s forms.
    /// - Throws: `ControlError` for text that is not such a setting.
    init(parsing text: String) throws(ControlError)
}

extension ControlSettingText {
    /// Encoded as its description, as the tables print it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Decodes `description`'s forms.
    /// - Throws: `DecodingError.dataCorrupted` for text that is not such a setting.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do {
            self = try Self(parsing: try container.decode(String.self))
        } catch let error as ControlError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }
}
