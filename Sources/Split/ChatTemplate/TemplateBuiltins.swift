import Foundation

/// Jinja's operators, attribute and item access, and the filters, tests and string and
/// mapping methods that chat templates use, with Python's results. A filter, test or method
/// outside these is refused with an error naming it, never skipped.
enum TemplateBuiltins {
    /// The filters `filter` implements; the parser refuses a template naming another, so a
    /// configured template fails at start-up, not at its first request.
    static let filterNames: Set<String> = [
        "trim", "length", "count", "string", "lower", "upper", "title", "capitalize", "safe", "list", "first", "last",
        "reverse", "default", "d", "join", "tojson", "items", "int", "float", "abs", "replace", "indent",
        "selectattr", "rejectattr", "select", "reject", "map",
    ]
    /// The tests `test` implements (`x is defined`), refused by the parser likewise.
    static let testNames: Set<String> = [
        "defined", "undefined", "none", "string", "boolean", "true", "false", "number", "integer", "float", "mapping",
        "iterable", "sequence", "callable", "equalto", "eq", "==", "sameas", "ne", "!=", "lt", "<", "gt", ">", "le", "<=",
        "ge", ">=", "in", "divisibleby", "even", "odd", "lower", "upper",
    ]

    // MARK: Access

    /// `value.name`: a mapping's method (`items`, `keys`, `values`, `get`) or entry, a string's
    /// method, a namespace's field; undefined when absent (and an error on an undefined value,
    /// as Jinja's default `Undefined` raises).
    static func attribute(_ name: String, of value: TemplateValue, line: Int?) throws -> TemplateValue {
        switch value {
        case .object(let object):
            if let method = mappingMethod(name, object) { return method }
            return object[name] ?? .undefined(name)
        case .namespace(let namespace):
            return namespace.object[name] ?? .undefined(name)
        case .string(let s):
            guard let method = stringMethod(name, s) else {
                throw ChatTemplateError.unsupported("the string method .\(name)()", line: line)
            }
            return method
        case .undefined(let base):
            throw ChatTemplateError.runtime("\(base) is undefined, so it has no attribute \"\(name)\"", line: line)
        default:
            return .undefined(name)
        }
    }

    /// `value[key]`: a mapping's entry, a list's or string's item (negative from the end);
    /// undefined when absent.
    static func item(_ key: TemplateValue, of value: TemplateValue, line: Int?) throws -> TemplateValue {
        switch (value, key) {
        case (.object(let object), .string(let name)):
            return object[name] ?? .undefined(name)
        case (.namespace(let namespace), .string(let name)):
            return namespace.object[name] ?? .undefined(name)
        case (.array(let items), .int(let i)):
            let index = i < 0 ? items.count + i : i
            return items.indices.contains(index) ? items[index] : .undefined("[\(i)]")
        case (.string(let s), .int(let i)):
            let characters = Array(s)
            let index = i < 0 ? characters.count + i : i
            return characters.indices.contains(index) ? .string(String(characters[index])) : .undefined("[\(i)]")
        case (.undefined(let base), _):
            throw ChatTemplateError.runtime("\(base) is undefined, so it has no item \(key.repr)", line: line)
        default:
            return .undefined("[\(key.repr)]")
        }
    }

    /// `value[start:stop:step]` on a list or string, with Python's bounds.
    static func slice(_ value: TemplateValue, _ start: TemplateValue?, _ stop: TemplateValue?, _ step: TemplateValue?,
                      line: Int?) throws -> TemplateValue {
        func integer(_ bound: TemplateValue?) throws -> Int? {
            switch bound {
            case nil, .none?: return nil
            case .int(let i)?: return i
            case let other?: throw ChatTemplateError.runtime("slice bounds must be integers, not \(other.kindName)", line: line)
            }
        }
        let step = try integer(step) ?? 1
        guard step != 0 else { throw ChatTemplateError.runtime("slice step must not be zero", line: line) }
        func indices(count: Int) throws -> [Int] {
            func clamp(_ i: Int?, _ fallback: Int) -> Int {
                guard let i else { return fallback }
                let j = i < 0 ? i + count : i
                return step > 0 ? min(max(j, 0), count) : min(max(j, -1), count - 1)
            }
            let from = clamp(try integer(start), step > 0 ? 0 : count - 1)
            let to = clamp(try integer(stop), step > 0 ? count : -1)
            return Array(stride(from: from, to: to, by: step))
        }
        switch value {
        case .array(let items):
            return .array(try indices(count: items.count).map { items[$0] })
        case .string(let s):
            let characters = Array(s)
            return .string(String(try indices(count: characters.count).map { characters[$0] }))
        default:
            throw ChatTemplateError.runtime("cannot slice \(value.kindName)", line: line)
        }
    }

    /// The items a `for` visits: a list's items, a mapping's keys, a string's characters;
    /// nothing for an undefined value.
    static func iterate(_ value: TemplateValue, line: Int?) throws -> [TemplateValue] {
        switch value {
        case .undefined: return []
        case .array(let items): return items
        case .object(let object): return object.keys.map { .string($0) }
        case .string(let s): return s.map { .string(String($0)) }
        default: throw ChatTemplateError.runtime("cannot iterate over \(value.kindName)", line: line)
        }
    }

    // MARK: Operators

    static func binary(_ op: String, _ left: TemplateValue, _ right: TemplateValue, line: Int?) throws -> TemplateValue {
        switch op {
        case "==": return .bool(left.equals(right))
        case "!=": return .bool(!left.equals(right))
        case "~": return .string(left.text + right.text)
        case "in": return .bool(try contains(right, left, line: line))
        case "<", ">", "<=", ">=":
            let order: ComparisonResult
            switch (left, right) {
            case (.string(let a), .string(let b)): order = a < b ? .orderedAscending : (a == b ? .orderedSame : .orderedDescending)
            default:
                guard let a = left.number, let b = right.number else {
                    throw ChatTemplateError.runtime("cannot compare \(left.kindName) with \(right.kindName)", line: line)
                }
                order = a < b ? .orderedAscending : (a == b ? .orderedSame : .orderedDescending)
            }
            switch op {
            case "<": return .bool(order == .orderedAscending)
            case ">": return .bool(order == .orderedDescending)
            case "<=": return .bool(order != .orderedDescending)
            default: return .bool(order != .orderedAscending)
            }
        default:
            return try arithmetic(op, left, right, line: line)
        }
    }

    private static func arithmetic(_ op: String, _ left: TemplateValue, _ right: TemplateValue, line: Int?) throws -> TemplateValue {
        switch (op, left, right) {
        case ("+", .string(let a), .string(let b)): return .string(a + b)
        case ("+", .array(let a), .array(let b)): return .array(a + b)
        case ("*", .string(let s), .int(let n)), ("*", .int(let n), .string(let s)):
            guard n <= 0 || s.utf8.count <= TemplateRenderer.maxOutputBytes / n else {
                throw ChatTemplateError.runtime("a string repeated past \(TemplateRenderer.maxOutputBytes) bytes", line: line)
            }
            return .string(String(repeating: s, count: max(0, n)))
        case (_, .int(let a), .int(let b)) where op != "/" && op != "**":
            switch op {
            case "+": return .int(a &+ b)
            case "-": return .int(a &- b)
            case "*": return .int(a &* b)
            case "//", "%":
                guard b != 0 else { throw ChatTemplateError.runtime("division by zero", line: line) }
                // Python floors toward negative infinity.
                let quotient = Int((Double(a) / Double(b)).rounded(.down))
                return op == "//" ? .int(quotient) : .int(a - quotient * b)
            default: break
            }
        default: break
        }
        guard let a = left.number, let b = right.number, !(left.isBool && right.isBool && op == "+") else {
            throw ChatTemplateError.runtime("cannot apply \"\(op)\" to \(left.kindName) and \(right.kindName)", line: line)
        }
        switch op {
        case "+": return .double(a + b)
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/":
            guard b != 0 else { throw ChatTemplateError.runtime("division by zero", line: line) }
            return .double(a / b)
        case "//":
            guard b != 0 else { throw ChatTemplateError.runtime("division by zero", line: line) }
            return .double((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw ChatTemplateError.runtime("division by zero", line: line) }
            return .double(a - (a / b).rounded(.down) * b)
        case "**":
            if case .int(let x) = left, case .int(let y) = right, y >= 0 { return .int(Int(pow(Double(x), Double(y)))) }
            return .double(pow(a, b))
        default:
            throw ChatTemplateError.unsupported("the operator \"\(op)\"", line: line)
        }
    }

    /// `needle in container`.
    private static func contains(_ container: TemplateValue, _ needle: TemplateValue, line: Int?) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let part) = needle else {
                throw ChatTemplateError.runtime("'in <string>' needs a string on the left, not \(needle.kindName)", line: line)
            }
            return part.isEmpty || s.contains(part)
        case .array(let items): return items.contains { $0.equals(needle) }
        case .object(let object): return needle.stringValue.map { object[$0] != nil } ?? false
        case .namespace(let namespace): return namespace.object[needle.text] != nil
        default: throw ChatTemplateError.runtime("cannot look for a value in \(container.kindName)", line: line)
        }
    }

    // MARK: Methods

    private static func mappingMethod(_ name: String, _ object: TemplateObject) -> TemplateValue? {
        switch name {
        case "items":
            return .function(TemplateFunction(name: "items") { _, _ in
                .array(object.keys.map { .array([.string($0), object[$0]!]) })
            })
        case "keys":
            return .function(TemplateFunction(name: "keys") { _, _ in .array(object.keys.map { .string($0) }) })
        case "values":
            return .function(TemplateFunction(name: "values") { _, _ in .array(object.keys.map { object[$0]! }) })
        case "get":
            return .function(TemplateFunction(name: "get") { arguments, _ in
                guard case .string(let key)? = arguments.first else { return arguments.count > 1 ? arguments[1] : .none }
                return object[key] ?? (arguments.count > 1 ? arguments[1] : .none)
            })
        default:
            return nil
        }
    }

    private static func stringMethod(_ name: String, _ s: String) -> TemplateValue? {
        func method(_ body: @escaping ([TemplateValue]) throws -> TemplateValue) -> TemplateValue {
            .function(TemplateFunction(name: name) { arguments, _ in try body(arguments) })
        }
        func argument(_ arguments: [TemplateValue], _ i: Int) -> String? {
            guard arguments.count > i, case .string(let text) = arguments[i] else { return nil }
            return text
        }
        switch name {
        case "strip": return method { .string(strip(s, argument($0, 0), leading: true, trailing: true)) }
        case "lstrip": return method { .string(strip(s, argument($0, 0), leading: true, trailing: false)) }
        case "rstrip": return method { .string(strip(s, argument($0, 0), leading: false, trailing: true)) }
        case "upper": return method { _ in .string(s.uppercased()) }
        case "lower": return method { _ in .string(s.lowercased()) }
        case "title": return method { _ in .string(title(s)) }
        case "capitalize": return method { _ in .string(capitalize(s)) }
        case "startswith": return method { .bool(argument($0, 0).map { s.hasPrefix($0) } ?? false) }
        case "endswith": return method { .bool(argument($0, 0).map { s.hasSuffix($0) } ?? false) }
        case "replace":
            return method { .string(s.replacingOccurrences(of: argument($0, 0) ?? "", with: argument($0, 1) ?? "")) }
        case "split":
            return method { arguments in
                guard let separator = argument(arguments, 0) else {
                    return .array(s.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) })
                }
                return .array(s.components(separatedBy: separator).map { .string($0) })
            }
        case "join":
            return method { arguments in
                guard case .array(let items)? = arguments.first else { return .string("") }
                return .string(items.map(\.text).joined(separator: s))
            }
        default:
            return nil
        }
    }

    /// Python's `str.strip` (whitespace, or the given characters).
    static func strip(_ s: String, _ characters: String?, leading: Bool, trailing: Bool) -> String {
        let set = characters.map { Set($0) }
        let strips: (Character) -> Bool = { set?.contains($0) ?? $0.isWhitespace }
        var slice = Substring(s)
        if leading { slice = slice.drop(while: strips) }
        if trailing { while let last = slice.last, strips(last) { slice = slice.dropLast() } }
        return String(slice)
    }

    private static func title(_ s: String) -> String {
        var out = ""
        var previousIsLetter = false
        for c in s {
            out += previousIsLetter ? c.lowercased() : c.uppercased()
            previousIsLetter = c.isLetter
        }
        return out
    }

    private static func capitalize(_ s: String) -> String {
        guard let first = s.first else { return s }
        return first.uppercased() + s.dropFirst().lowercased()
    }

    // MARK: Filters

    static func filter(_ name: String, _ value: TemplateValue, _ arguments: [TemplateValue],
                       _ keywords: [(String, TemplateValue)], line: Int?) throws -> TemplateValue {
        func keyword(_ key: String, at position: Int) -> TemplateValue? {
            keywords.first { $0.0 == key }?.1 ?? (arguments.count > position ? arguments[position] : nil)
        }
        switch name {
        case "trim":
            return .string(strip(value.text, keyword("chars", at: 0)?.stringValue, leading: true, trailing: true))
        case "length", "count":
            switch value {
            case .string(let s): return .int(s.count)
            case .array(let a): return .int(a.count)
            case .object(let o): return .int(o.keys.count)
            case .undefined: return .int(0)
            default: throw ChatTemplateError.runtime("\(value.kindName) has no length", line: line)
            }
        case "string": return .string(value.text)
        case "lower": return .string(value.text.lowercased())
        case "upper": return .string(value.text.uppercased())
        case "title": return .string(title(value.text))
        case "capitalize": return .string(capitalize(value.text))
        case "safe": return value
        case "list": return .array(try iterate(value, line: line))
        case "first", "last":
            let items = try iterate(value, line: line)
            return (name == "first" ? items.first : items.last) ?? .undefined(name)
        case "reverse":
            if case .string(let s) = value { return .string(String(s.reversed())) }
            return .array(try iterate(value, line: line).reversed())
        case "default", "d":
            let fallback = keyword("default_value", at: 0) ?? .string("")
            let boolean = keyword("boolean", at: 1)?.isTruthy ?? false
            return value.isUndefined || (boolean && !value.isTruthy) ? fallback : value
        case "join":
            let separator = keyword("d", at: 0)?.text ?? ""
            var items = try iterate(value, line: line)
            if let attribute = keywords.first(where: { $0.0 == "attribute" })?.1.text {
                items = try items.map { try self.attribute(attribute, of: $0, line: line) }
            }
            return .string(items.map(\.text).joined(separator: separator))
        case "tojson":
            var indent: Int?
            if case .int(let i)? = keyword("indent", at: 0) { indent = i }
            return .string(try value.json(indent: indent))
        case "items":
            guard case .object(let object) = value else {
                if value.isUndefined { return .array([]) }
                throw ChatTemplateError.runtime("items needs a mapping, not \(value.kindName)", line: line)
            }
            return .array(object.keys.map { .array([.string($0), object[$0]!]) })
        case "int":
            switch value {
            case .int: return value
            case .double(let d): return .int(Int(d))
            case .string(let s): return .int(Int(s.trimmingCharacters(in: .whitespaces)) ?? 0)
            case .bool(let b): return .int(b ? 1 : 0)
            default: return .int(0)
            }
        case "float":
            return .double(value.number ?? Double(value.text.trimmingCharacters(in: .whitespaces)) ?? 0)
        case "abs":
            switch value {
            case .int(let i): return .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: throw ChatTemplateError.runtime("abs needs a number, not \(value.kindName)", line: line)
            }
        case "replace":
            return .string(value.text.replacingOccurrences(of: keyword("old", at: 0)?.text ?? "", with: keyword("new", at: 1)?.text ?? ""))
        case "indent":
            let width = keyword("width", at: 0).flatMap { if case .int(let i) = $0 { return i } else { return nil } } ?? 4
            let first = keyword("first", at: 1)?.isTruthy ?? false
            let pad = String(repeating: " ", count: width)
            let lines = value.text.components(separatedBy: "\n")
            return .string(lines.enumerated().map { i, line in
                (i == 0 && !first) || line.isEmpty ? line : pad + line
            }.joined(separator: "\n"))
        case "selectattr", "rejectattr", "select", "reject":
            return try select(name, value, arguments, line: line)
        case "map":
            let items = try iterate(value, line: line)
            if let attribute = keywords.first(where: { $0.0 == "attribute" })?.1.text {
                let fallback = keywords.first { $0.0 == "default" }?.1
                return .array(try items.map {
                    let found = try self.attribute(attribute, of: $0, line: line)
                    return found.isUndefined ? (fallback ?? found) : found
                })
            }
            guard case .string(let filterName)? = arguments.first else {
                throw ChatTemplateError.runtime("map needs a filter name or attribute=", line: line)
            }
            return .array(try items.map { try filter(filterName, $0, Array(arguments.dropFirst()), [], line: line) })
        default:
            throw ChatTemplateError.unsupported("the filter \"\(name)\"", line: line)
        }
    }

    /// `selectattr`/`rejectattr` (by an attribute, with a test or its truth) and
    /// `select`/`reject` (by a test or truth).
    private static func select(_ name: String, _ value: TemplateValue, _ arguments: [TemplateValue], line: Int?) throws -> TemplateValue {
        let items = try iterate(value, line: line)
        let byAttribute = name.hasSuffix("attr")
        let keeps = name.hasPrefix("select")
        var rest = arguments
        var attributeName: String?
        if byAttribute {
            guard case .string(let a)? = rest.first else {
                throw ChatTemplateError.runtime("\(name) needs an attribute name", line: line)
            }
            attributeName = a
            rest.removeFirst()
        }
        let testName: String? = rest.first.map(\.text)
        let testArguments = Array(rest.dropFirst())
        return .array(try items.filter { item in
            let subject = try attributeName.map { try self.attribute($0, of: item, line: line) } ?? item
            let passes = try testName.map { try test($0, subject, testArguments, line: line) } ?? subject.isTruthy
            return passes == keeps
        })
    }

    // MARK: Tests

    static func test(_ name: String, _ value: TemplateValue, _ arguments: [TemplateValue], line: Int?) throws -> Bool {
        let argument = arguments.first ?? .undefined("test argument")
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "string": return value.isString
        case "boolean": return value.isBool
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "number":
            switch value {
            case .int, .double: return true
            default: return false
            }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "mapping":
            switch value {
            case .object, .namespace: return true
            default: return false
            }
        case "iterable", "sequence":
            switch value {
            case .string, .array, .object: return true
            default: return false
            }
        case "callable": if case .function = value { return true } else { return false }
        case "equalto", "eq", "==", "sameas": return value.equals(argument)
        case "ne", "!=": return !value.equals(argument)
        case "lt", "<", "gt", ">", "le", "<=", "ge", ">=":
            let op = ["lt": "<", "gt": ">", "le": "<=", "ge": ">="][name] ?? name
            return try binary(op, value, argument, line: line).isTruthy
        case "in": return try contains(argument, value, line: line)
        case "divisibleby":
            guard case .int(let a) = value, case .int(let b) = argument, b != 0 else { return false }
            return a % b == 0
        case "even", "odd":
            guard case .int(let a) = value else { return false }
            return (a % 2 == 0) == (name == "even")
        case "lower": return value.text == value.text.lowercased()
        case "upper": return value.text == value.text.uppercased()
        default:
            throw ChatTemplateError.unsupported("the test \"is \(name)\"", line: line)
        }
    }
}

extension TemplateValue {
    var isString: Bool {
        if case .string = self { return true }
        return false
    }

    var isBool: Bool {
        if case .bool = self { return true }
        return false
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
