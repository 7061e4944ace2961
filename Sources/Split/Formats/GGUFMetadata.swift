/// Typed access to a GGUF file's metadata (`llama.block_count`, `tokenizer.ggml.tokens`, ...).
extension GGUFFile {
    /// The model architecture (`general.architecture`), e.g. "llama", "qwen2", "gpt2".
    public var architecture: String? { string("general.architecture") }

    /// An integer entry of any integer type, when present and representable as `Int`.
    public func int(_ key: String) -> Int? { value(forKey: key)?.intValue }

    /// A floating-point (or integer) entry as `Float`.
    public func float(_ key: String) -> Float? { value(forKey: key)?.doubleValue.map(Float.init) }

    /// A boolean entry.
    public func bool(_ key: String) -> Bool? {
        if case let .bool(value)? = value(forKey: key) { return value }
        return nil
    }

    /// A string entry.
    public func string(_ key: String) -> String? { value(forKey: key)?.stringValue }

    /// An array-of-strings entry.
    public func stringArray(_ key: String) -> [String]? { array(key, \.stringValue) }

    /// An array-of-integers entry (any integer element type).
    public func intArray(_ key: String) -> [Int]? { array(key, \.intValue) }

    /// An array-of-floats entry (float or integer elements).
    public func floatArray(_ key: String) -> [Float]? { array(key) { $0.doubleValue.map(Float.init) } }

    /// The elements of the array entry `key`, each converted by `convert`; nil when the entry is
    /// missing, not an array, or any element does not convert.
    private func array<Element>(_ key: String, _ convert: (GGUFValue) -> Element?) -> [Element]? {
        guard let elements = value(forKey: key)?.arrayValue else { return nil }
        var converted: [Element] = []
        converted.reserveCapacity(elements.count)
        for element in elements {
            guard let value = convert(element) else { return nil }
            converted.append(value)
        }
        return converted
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
