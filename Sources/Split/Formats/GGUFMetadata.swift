/// Typed access to a GGUF file's metadata (`llama.block_count`, `tokenizer.ggml.tokens`, ...).
extension GGUFFile {
    /// The model architecture (`general.architecture`), e.g. "llama", "qwen2", "gpt2".
    public var architecture: String? { string("general.architecture") }

    /// An integer entry of any integer type, when present and representable as `Int`.
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }

    /// A floating-point (or integer) entry as `Float`.
    public func float(_ key: String) -> Float? { metadata[key]?.doubleValue.map(Float.init) }

    /// A boolean entry.
    public func bool(_ key: String) -> Bool? {
        if case let .bool(value)? = metadata[key] { return value }
        return nil
    }

    /// A string entry.
    public func string(_ key: String) -> String? { metadata[key]?.stringValue }

    /// An array-of-strings entry.
    public func stringArray(_ key: String) -> [String]? {
        guard let elements = metadata[key]?.arrayValue else { return nil }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for element in elements {
            guard let string = element.stringValue else { return nil }
            strings.append(string)
        }
        return strings
    }

    /// An array-of-integers entry (any integer element type).
    public func intArray(_ key: String) -> [Int]? {
        guard let elements = metadata[key]?.arrayValue else { return nil }
        var values: [Int] = []
        values.reserveCapacity(elements.count)
        for element in elements {
            guard let value = element.intValue else { return nil }
            values.append(value)
        }
        return values
    }

    /// An array-of-floats entry (float or integer elements).
    public func floatArray(_ key: String) -> [Float]? {
        guard let elements = metadata[key]?.arrayValue else { return nil }
        var values: [Float] = []
        values.reserveCapacity(elements.count)
        for element in elements {
            guard let value = element.doubleValue else { return nil }
            values.append(Float(value))
        }
        return values
    }

    /// An integer entry the caller cannot do without.
    /// - Throws: `GGUFError.missingMetadata` naming the key.
    public func requiredInt(_ key: String) throws -> Int {
        guard let value = int(key) else { throw GGUFError.missingMetadata(key: key, expected: "an integer") }
        return value
    }

    /// A float entry the caller cannot do without.
    /// - Throws: `GGUFError.missingMetadata` naming the key.
    public func requiredFloat(_ key: String) throws -> Float {
        guard let value = float(key) else { throw GGUFError.missingMetadata(key: key, expected: "a number") }
        return value
    }

    /// A string entry the caller cannot do without.
    /// - Throws: `GGUFError.missingMetadata` naming the key.
    public func requiredString(_ key: String) throws -> String {
        guard let value = string(key) else { throw GGUFError.missingMetadata(key: key, expected: "a string") }
        return value
    }
}
