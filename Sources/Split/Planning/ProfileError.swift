/// Why a device or network profile could not be read or used.
public enum ProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read or is not YAML.
    case unreadable(path: String, reason: String)
    /// A required field is absent (`field` is a dotted path such as `gemm_gflop_per_second.value`).
    case missingField(path: String, field: String)
    /// A field is present but its value is unusable.
    case invalidField(path: String, field: String, reason: String)
    /// No profile of that name in the store.
    case notFound(name: String, searched: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read profile \(path): \(reason)"
        case .missingField(let path, let field): return "profile \(path): missing field '\(field)'"
        case .invalidField(let path, let field, let reason): return "profile \(path): field '\(field)' \(reason)"
        case .notFound(let name, let searched): return "no profile named '\(name)' (looked in \(searched))"
        }
    }
}
