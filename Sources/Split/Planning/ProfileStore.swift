import Foundation
import Yams

/// Reads device and network profiles from a `profiles/` directory (`devices/NAME.yaml`,
/// `networks/NAME.yaml`), or from a YAML file named directly, and writes them back.
public struct ProfileStore: Sendable {
    /// The directory holding `devices/` and `networks/`.
    public var directory: String

    /// A store rooted at `directory` (default: `profiles` in the working directory).
    public init(directory: String = "profiles") {
        self.directory = directory
    }

    /// The device profile `name`: a file path if one exists, else `devices/name.yaml`.
    /// - Throws: `ProfileError` naming the file and the field that is missing or invalid.
    public func device(_ name: String) throws(ProfileError) -> DeviceProfile {
        let path = try resolve(name, folder: "devices")
        let profile = try Self.decode(DeviceProfile.self, path: path)
        try profile.validate(path: path)
        return profile
    }

    /// The network profile `name`: a file path if one exists, else `networks/name.yaml`.
    /// - Throws: `ProfileError` naming the file and the field that is missing or invalid.
    public func network(_ name: String) throws(ProfileError) -> NetworkProfile {
        let path = try resolve(name, folder: "networks")
        let profile = try Self.decode(NetworkProfile.self, path: path)
        try profile.validate(path: path)
        return profile
    }

    /// Names of the profiles in `devices/` or `networks/`, sorted.
    public func names(in folder: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + folder)) ?? []
        return entries.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// YAML text of a profile, in the layout the store reads.
    /// - Throws: `ProfileError.unreadable` when it cannot be encoded.
    public static func yaml<T: Encodable>(_ profile: T) throws(ProfileError) -> String {
        do {
            return try YAMLEncoder().encode(profile)
        } catch {
            throw .unreadable(path: "(new profile)", reason: "cannot encode: \(error)")
        }
    }

    /// Decodes and validates a device profile from YAML text (`path` names it in errors).
    /// - Throws: `ProfileError`.
    public static func device(yaml text: String, path: String) throws(ProfileError) -> DeviceProfile {
        let profile = try decode(DeviceProfile.self, yaml: text, path: path)
        try profile.validate(path: path)
        return profile
    }

    /// Decodes and validates a network profile from YAML text (`path` names it in errors).
    /// - Throws: `ProfileError`.
    public static func network(yaml text: String, path: String) throws(ProfileError) -> NetworkProfile {
        let profile = try decode(NetworkProfile.self, yaml: text, path: path)
        try profile.validate(path: path)
        return profile
    }

    private func resolve(_ name: String, folder: String) throws(ProfileError) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory), !isDirectory.boolValue { return name }
        let path = "\(directory)/\(folder)/\(name).yaml"
        guard FileManager.default.fileExists(atPath: path) else {
            let known = names(in: folder)
            throw .notFound(name: name, searched: "\(directory)/\(folder)/; known: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
        }
        return path
    }

    private static func decode<T: Decodable>(_ type: T.Type, path: String) throws(ProfileError) -> T {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        return try decode(type, yaml: text, path: path)
    }

    /// Turns Codable's errors into messages naming the YAML field.
    private static func decode<T: Decodable>(_ type: T.Type, yaml text: String, path: String) throws(ProfileError) -> T {
        func field(_ codingPath: [any CodingKey], _ key: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        do {
            return try YAMLDecoder().decode(type, from: text)
        } catch DecodingError.keyNotFound(let key, let context) {
            throw .missingField(path: path, field: field(context.codingPath, key))
        } catch DecodingError.valueNotFound(_, let context) {
            throw .missingField(path: path, field: field(context.codingPath))
        } catch DecodingError.typeMismatch(let expected, let context) {
            throw .invalidField(path: path, field: field(context.codingPath), reason: "is not a \(expected)")
        } catch DecodingError.dataCorrupted(let context) {
            if context.codingPath.isEmpty {
                throw .unreadable(path: path, reason: context.debugDescription)
            }
            throw .invalidField(path: path, field: field(context.codingPath), reason: context.debugDescription)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
    }
}
