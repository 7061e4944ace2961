import Foundation
import Yams

/// A daemon's YAML configuration file, turned into command-line options.
///
/// Each key is an option's long name (`bind`, `split-layer`, `cloud-key`, …); a list gives a
/// repeatable option several values; `true` turns a flag on. The file's options come first and
/// the command line's after them, so a flag given on the command line wins for single-valued
/// options and adds to repeatable ones.
public enum ConfigurationFile {
    /// Errors naming the file and the key that could not be used.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The options `path` stands for, e.g. `["--bind", "tcp://…", "--insecure"]`.
    /// - Throws: `Failure` for unreadable files, YAML errors, non-mapping documents or nested values.
    public static func arguments(fromFile path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failure(description: "cannot read configuration file \(path)")
        }
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw Failure(description: "\(path) is not valid YAML: \(error)")
        }
        guard let mapping = document as? [String: Any] else {
            throw Failure(description: "\(path) must be a mapping of option names to values")
        }
        var arguments: [String] = []
        for key in mapping.keys.sorted() {
            let option = "--" + key.replacingOccurrences(of: "_", with: "-")
            switch mapping[key] {
            case let flag as Bool:
                if flag { arguments.append(option) }
            case let list as [Any]:
                for item in list {
                    guard let scalar = scalarText(item) else {
                        throw Failure(description: "\(path): '\(key)' must list plain values")
                    }
                    arguments += [option, scalar]
                }
            case let value?:
                guard let scalar = scalarText(value) else {
                    throw Failure(description: "\(path): '\(key)' must be a plain value or a list of them")
                }
                arguments += [option, scalar]
            case nil:
                continue
            }
        }
        return arguments
    }

    /// Expands `--config FILE` in a command line into the file's options, placed before the rest.
    /// - Throws: `Failure` when the file cannot be used or `--config` has no value.
    public static func expand(_ commandLine: [String]) throws -> [String] {
        guard let index = commandLine.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) else {
            return commandLine
        }
        var rest = commandLine
        let path: String
        if rest[index].hasPrefix("--config=") {
            path = String(rest[index].dropFirst("--config=".count))
            rest.remove(at: index)
        } else {
            guard index + 1 < rest.count else { throw Failure(description: "--config needs a file") }
            path = rest[index + 1]
            rest.removeSubrange(index...(index + 1))
        }
        // Keep a leading subcommand name in front of the file's options.
        let insertAt = rest.first.map { !$0.hasPrefix("-") } == true ? 1 : 0
        rest.insert(contentsOf: try arguments(fromFile: path), at: insertAt)
        return rest
    }

    private static func scalarText(_ value: Any) -> String? {
        switch value {
        case let text as String: return text
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        case let flag as Bool: return String(flag)
        default: return nil
        }
    }
}
