import Foundation

/// Runs a parsed template: statements write text, expressions are evaluated with Python's
/// semantics (see `TemplateValue`). Scopes follow Jinja: a `for` body and a macro call have
/// their own, so a `set` inside a loop is gone after it (a `namespace` carries values out).
struct TemplateRenderer {
    /// Output past this many bytes stops the rendering (a template looping without bound).
    static let maxOutputBytes = 4 << 20
    /// Loop iterations over the whole rendering, for the same reason.
    static let maxIterations = 100_000
    /// Macro calls inside macro calls (a macro calling itself would otherwise exhaust the stack).
    static let maxCallDepth = 16

    private var scopes: [[String: TemplateValue]]
    private var output = ""
    /// The time `strftime_now` formats.
    let now: Date
    /// Shared by a rendering and every macro call inside it.
    private let budget: Budget

    /// What a whole rendering may still spend: loop iterations and nested macro calls.
    /// A class, so that the renderers of macro calls draw on their caller's; never shared
    /// between threads (a rendering runs on one).
    private final class Budget {
        var iterations = 0
        var callDepth = 0
    }

    init(globals: [String: TemplateValue], now: Date) {
        self.init(globals: globals, now: now, budget: Budget())
    }

    private init(globals: [String: TemplateValue], now: Date, budget: Budget) {
        self.now = now
        self.budget = budget
        scopes = [globals]
    }

    /// Renders `nodes` and returns the text.
    /// - Throws: `ChatTemplateError`.
    mutating func render(_ nodes: [TemplateNode]) throws -> String {
        scopes[0].merge(builtins(), uniquingKeysWith: { given, _ in given })
        _ = try run(nodes)
        return output
    }

    /// How a run of statements ended: normally, or by `break`/`continue` inside a loop.
    private enum Flow { case normal, breakLoop, continueLoop }

    private mutating func run(_ nodes: [TemplateNode]) throws -> Flow {
        for node in nodes {
            switch node {
            case .text(let text):
                try write(text)
            case .output(let expression, let line):
                try write(try evaluate(expression, line: line).text)
            case .branches(let branches, let otherwise):
                var taken: [TemplateNode] = otherwise
                for branch in branches where try evaluate(branch.condition, line: nil).isTruthy {
                    taken = branch.body
                    break
                }
                let flow = try run(taken)
                if flow != .normal { return flow }
            case .loop(let targets, let sequence, let filter, let body, let otherwise, let line):
                try runLoop(targets: targets, over: sequence, filter: filter, body: body, otherwise: otherwise, line: line)
            case .assign(let targets, let field, let expression, let line):
                let value = try evaluate(expression, line: line)
                if let field {
                    guard case .namespace(let namespace) = lookup(targets[0]) else {
                        throw ChatTemplateError.runtime("\(targets[0]) is not a namespace; set \(targets[0]).\(field) needs one", line: line)
                    }
                    namespace.object[field] = value
                } else if targets.count == 1 {
                    scopes[scopes.count - 1][targets[0]] = value
                } else {
                    let items = try TemplateBuiltins.iterate(value, line: line)
                    guard items.count == targets.count else {
                        throw ChatTemplateError.runtime("cannot unpack \(items.count) values into \(targets.count) names", line: line)
                    }
                    for (name, item) in zip(targets, items) { scopes[scopes.count - 1][name] = item }
                }
            case .assignBlock(let name, let body):
                let saved = output
                output = ""
                _ = try run(body)
                let captured = output
                output = saved
                scopes[scopes.count - 1][name] = .string(captured)
            case .macro(let name, let parameters, let body):
                scopes[scopes.count - 1][name] = macro(name, parameters: parameters, body: body)
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
        }
        return .normal
    }

    private mutating func write(_ text: String) throws {
        output += text
        guard output.utf8.count <= Self.maxOutputBytes else {
            throw ChatTemplateError.runtime("the template wrote more than \(Self.maxOutputBytes) bytes", line: nil)
        }
    }

    private mutating func runLoop(targets: [String], over sequence: TemplateExpression, filter: TemplateExpression?,
                                  body: [TemplateNode], otherwise: [TemplateNode], line: Int) throws {
        let all = try TemplateBuiltins.iterate(try evaluate(sequence, line: line), line: line)
        var items: [TemplateValue] = []
        for item in all {
            guard let filter else {
                items.append(item)
                continue
            }
            scopes.append(try bind(targets, to: item, line: line))
            defer { scopes.removeLast() }
            if try evaluate(filter, line: line).isTruthy { items.append(item) }
        }
        if items.isEmpty {
            _ = try run(otherwise)
            return
        }
        for (position, item) in items.enumerated() {
            budget.iterations += 1
            guard budget.iterations <= Self.maxIterations else {
                throw ChatTemplateError.runtime("the template ran more than \(Self.maxIterations) loop iterations", line: line)
            }
            var scope = try bind(targets, to: item, line: line)
            scope["loop"] = .object(TemplateObject([
                ("index", .int(position + 1)), ("index0", .int(position)),
                ("revindex", .int(items.count - position)), ("revindex0", .int(items.count - position - 1)),
                ("first", .bool(position == 0)), ("last", .bool(position == items.count - 1)),
                ("length", .int(items.count)),
                ("previtem", position > 0 ? items[position - 1] : .undefined("loop.previtem")),
                ("nextitem", position + 1 < items.count ? items[position + 1] : .undefined("loop.nextitem")),
            ]))
            scopes.append(scope)
            let flow = try run(body)
            scopes.removeLast()
            if flow == .breakLoop { break }
        }
    }

    /// The loop variables for one item (`for a, b in pairs` unpacks it).
    private func bind(_ targets: [String], to item: TemplateValue, line: Int) throws -> [String: TemplateValue] {
        guard targets.count > 1 else { return [targets[0]: item] }
        let parts = try TemplateBuiltins.iterate(item, line: line)
        guard parts.count == targets.count else {
            throw ChatTemplateError.runtime("cannot unpack \(parts.count) values into \(targets.count) loop variables", line: line)
        }
        return Dictionary(uniqueKeysWithValues: zip(targets, parts))
    }

    private func lookup(_ name: String) -> TemplateValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return .undefined(name)
    }

    private func macro(_ name: String, parameters: [(String, TemplateExpression?)], body: [TemplateNode]) -> TemplateValue {
        let (globals, now, budget) = (scopes[0], self.now, self.budget)
        return .function(TemplateFunction(name: name) { arguments, keywords in
            budget.callDepth += 1
            defer { budget.callDepth -= 1 }
            guard budget.callDepth <= Self.maxCallDepth else {
                throw ChatTemplateError.unsupported("macro calls nested more than \(Self.maxCallDepth) deep (\(name))")
            }
            var renderer = TemplateRenderer(globals: globals, now: now, budget: budget)
            var scope: [String: TemplateValue] = [:]
            for (position, (parameter, fallback)) in parameters.enumerated() {
                if position < arguments.count {
                    scope[parameter] = arguments[position]
                } else if let given = keywords.first(where: { $0.0 == parameter }) {
                    scope[parameter] = given.1
                } else if let fallback {
                    scope[parameter] = try renderer.evaluate(fallback, line: nil)
                } else {
                    scope[parameter] = .undefined(parameter)
                }
            }
            renderer.scopes.append(scope)
            _ = try renderer.run(body)
            return .string(renderer.output)
        })
    }

    // MARK: Expressions

    mutating func evaluate(_ expression: TemplateExpression, line: Int?) throws -> TemplateValue {
        switch expression {
        case .literal(let value):
            return value
        case .name(let name):
            return lookup(name)
        case .list(let items):
            return .array(try items.map { try evaluate($0, line: line) })
        case .dictionary(let pairs):
            var object = TemplateObject()
            for (key, value) in pairs {
                guard case .string(let name) = try evaluate(key, line: line) else {
                    throw ChatTemplateError.unsupported("dictionary keys other than strings", line: line)
                }
                object[name] = try evaluate(value, line: line)
            }
            return .object(object)
        case .attribute(let base, let name):
            return try TemplateBuiltins.attribute(name, of: try evaluate(base, line: line), line: line)
        case .subscript_(let base, let key):
            return try TemplateBuiltins.item(try evaluate(key, line: line), of: try evaluate(base, line: line), line: line)
        case .slice(let base, let start, let stop, let step):
            let bounds = try [start, stop, step].map { try $0.map { try evaluate($0, line: line) } }
            return try TemplateBuiltins.slice(try evaluate(base, line: line), bounds[0], bounds[1], bounds[2], line: line)
        case .call(let callee, let arguments, let keywords):
            let function = try evaluate(callee, line: line)
            guard case .function(let f) = function else {
                throw ChatTemplateError.runtime("\(Self.describe(callee)) is \(function.kindName), not a function", line: line)
            }
            let values = try arguments.map { try evaluate($0, line: line) }
            let named = try keywords.map { ($0.0, try evaluate($0.1, line: line)) }
            do {
                return try f.call(values, named)
            } catch var error as ChatTemplateError {
                error.setLineIfMissing(line)
                throw error
            }
        case .filter(let base, let name, let arguments, let keywords):
            let value = try evaluate(base, line: line)
            let values = try arguments.map { try evaluate($0, line: line) }
            let named = try keywords.map { ($0.0, try evaluate($0.1, line: line)) }
            return try TemplateBuiltins.filter(name, value, values, named, line: line)
        case .test(let base, let name, let arguments, let negated):
            let value = try evaluate(base, line: line)
            let values = try arguments.map { try evaluate($0, line: line) }
            return .bool(try TemplateBuiltins.test(name, value, values, line: line) != negated)
        case .not(let operand):
            return .bool(!(try evaluate(operand, line: line).isTruthy))
        case .negate(let operand):
            switch try evaluate(operand, line: line) {
            case .int(let i): return .int(-i)
            case .double(let d): return .double(-d)
            case let other: throw ChatTemplateError.runtime("cannot negate \(other.kindName)", line: line)
            }
        case .binary("and", let left, let right):
            let l = try evaluate(left, line: line)
            return l.isTruthy ? try evaluate(right, line: line) : l
        case .binary("or", let left, let right):
            let l = try evaluate(left, line: line)
            return l.isTruthy ? l : try evaluate(right, line: line)
        case .binary(let op, let left, let right):
            return try TemplateBuiltins.binary(op, try evaluate(left, line: line), try evaluate(right, line: line), line: line)
        case .conditional(let then, let condition, let otherwise):
            if try evaluate(condition, line: line).isTruthy { return try evaluate(then, line: line) }
            return try otherwise.map { try evaluate($0, line: line) } ?? .undefined("conditional without else")
        }
    }

    /// A short spelling of an expression for error messages.
    private static func describe(_ expression: TemplateExpression) -> String {
        switch expression {
        case .name(let name): return name
        case .attribute(let base, let name): return describe(base) + "." + name
        default: return "the expression"
        }
    }

    /// Jinja's globals that chat templates use: `range`, `namespace`, `dict`,
    /// `raise_exception` (transformers'), `strftime_now` (transformers', in UTC).
    private func builtins() -> [String: TemplateValue] {
        let now = self.now
        return [
            "range": .function(TemplateFunction(name: "range") { arguments, _ in
                let bounds = try arguments.map { value -> Int in
                    guard case .int(let i) = value else { throw ChatTemplateError.runtime("range() takes integers, not \(value.kindName)") }
                    return i
                }
                let (start, stop, step) = switch bounds.count {
                case 1: (0, bounds[0], 1)
                case 2: (bounds[0], bounds[1], 1)
                case 3: (bounds[0], bounds[1], bounds[2])
                default: throw ChatTemplateError.runtime("range() takes 1 to 3 arguments, not \(bounds.count)")
                }
                guard step != 0 else { throw ChatTemplateError.runtime("range() step must not be zero") }
                guard abs((stop - start) / step) <= Self.maxIterations else {
                    throw ChatTemplateError.runtime("range() of more than \(Self.maxIterations) items")
                }
                return .array(stride(from: start, to: stop, by: step).map { .int($0) })
            }),
            "namespace": .function(TemplateFunction(name: "namespace") { arguments, keywords in
                var object = TemplateObject()
                if case .object(let initial)? = arguments.first { object = initial }
                for (key, value) in keywords { object[key] = value }
                return .namespace(TemplateNamespace(object))
            }),
            "dict": .function(TemplateFunction(name: "dict") { _, keywords in
                .object(TemplateObject(keywords))
            }),
            "raise_exception": .function(TemplateFunction(name: "raise_exception") { arguments, _ in
                throw ChatTemplateError.raised(arguments.first?.text ?? "raise_exception() was called")
            }),
            "strftime_now": .function(TemplateFunction(name: "strftime_now") { arguments, _ in
                guard case .string(let format)? = arguments.first else {
                    throw ChatTemplateError.runtime("strftime_now() takes a format string")
                }
                return .string(Self.formatted(now, format))
            }),
        ]
    }

    /// C's `strftime` of `date` in UTC.
    static func formatted(_ date: Date, _ format: String) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 256)
        let count = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
