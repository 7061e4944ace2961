import Foundation

/// A value inside a chat template, with Python's (and so Jinja's) meaning for truth, equality,
/// printing and JSON: what `{{ x }}`, `{% if x %}` and `x | tojson` do with it.
enum TemplateValue {
    /// A name or field that does not exist; prints as "", is false, iterates as empty.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    case object(TemplateObject)
    /// `namespace(...)`: the one mutable object, so `set ns.x = ...` inside a loop is seen after it.
    case namespace(TemplateNamespace)
    /// A global (`range`, `raise_exception`) or a bound method (`"a".strip`).
    case function(TemplateFunction)

    /// Python truth.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.keys.isEmpty
        case .namespace, .function: return true
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The number as a Double, for arithmetic and comparison (booleans count as 0 and 1, as in Python).
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python's `str()`: what `{{ x }}` prints.
    var text: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr
        }
    }

    /// Python's `repr()`: how a value prints inside a list or dict.
    var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return Self.pythonFloat(d)
        case .string(let s):
            let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
            var out = String(quote)
            for c in s {
                switch c {
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                case quote: out += "\\\(quote)"
                default: out.append(c)
                }
            }
            out.append(quote)
            return out
        case .array(let a): return "[" + a.map(\.repr).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.map { "\(TemplateValue.string($0).repr): \(o.values[$0]!.repr)" }.joined(separator: ", ") + "}"
        case .namespace(let n): return "<Namespace \(TemplateValue.object(n.object).repr)>"
        case .function(let f): return "<function \(f.name)>"
        }
    }

    /// The name of the value's kind, for error messages.
    var kindName: String {
        switch self {
        case .undefined(let name): return "undefined (\(name))"
        case .none: return "none"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a float"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "a mapping"
        case .namespace: return "a namespace"
        case .function: return "a function"
        }
    }

    /// Python's float repr for the values templates meet (`1.0`, `0.5`, `1e-05`).
    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e16 { return String(Int(d)) + ".0" }
        return String(d)
    }

    /// Python's `==`: numbers by value across int/float/bool, lists and mappings element by element.
    func equals(_ other: TemplateValue) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.equals($1) }
        case (.object(let a), .object(let b)):
            return a.keys.count == b.keys.count && a.keys.allSatisfy { key in b.values[key].map { a.values[key]!.equals($0) } ?? false }
        case (.namespace(let a), .namespace(let b)): return a === b
        default:
            if let x = number, let y = other.number { return x == y }
            return false
        }
    }

    /// JSON as transformers' `tojson` writes it (Python's `json.dumps` with `ensure_ascii=False`):
    /// `", "` and `": "` between items, or with `indent`, one item a line.
    /// - Throws: `ChatTemplateError` for a value JSON cannot hold (a function, undefined).
    func json(indent: Int?, depth: Int = 0) throws -> String {
        switch self {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? Self.pythonFloat(d) : (d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"))
        case .string(let s): return Self.jsonString(s)
        case .array(let items):
            return try Self.jsonContainer(items.map { try $0.json(indent: indent, depth: depth + 1) }, "[", "]", indent: indent, depth: depth)
        case .object(let o):
            let items = try o.keys.map { "\(Self.jsonString($0)): \(try o.values[$0]!.json(indent: indent, depth: depth + 1))" }
            return Self.jsonContainer(items, "{", "}", indent: indent, depth: depth)
        case .namespace(let n): return try TemplateValue.object(n.object).json(indent: indent, depth: depth)
        case .undefined, .function:
            throw ChatTemplateError.runtime("tojson cannot write \(kindName)")
        }
    }

    private static func jsonContainer(_ items: [String], _ open: String, _ close: String, indent: Int?, depth: Int) -> String {
        guard !items.isEmpty else { return open + close }
        guard let indent else { return open + items.joined(separator: ", ") + close }
        let inner = "\n" + String(repeating: " ", count: indent * (depth + 1))
        return open + inner + items.joined(separator: "," + inner) + "\n" + String(repeating: " ", count: indent * depth) + close
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// A mapping that keeps its keys in insertion order, as Python's dict does (and so `tojson` and
/// `items()` do).
struct TemplateObject {
    private(set) var keys: [String] = []
    private(set) var values: [String: TemplateValue] = [:]

    init() {}

    init(_ pairs: [(String, TemplateValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    subscript(key: String) -> TemplateValue? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }
}

/// The object `namespace()` makes; a class, so that assignments through it outlive a loop's scope.
final class TemplateNamespace {
    var object: TemplateObject

    init(_ object: TemplateObject) { self.object = object }
}

/// A callable value: positional and keyword arguments in, a value out.
struct TemplateFunction {
    let name: String
    let call: (_ arguments: [TemplateValue], _ keywords: [(String, TemplateValue)]) throws -> TemplateValue
}
