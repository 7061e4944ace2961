/// A template as a tree: statements holding expressions.
indirect enum TemplateNode {
    case text(String)
    case output(TemplateExpression, line: Int)
    case branches([(condition: TemplateExpression, body: [TemplateNode])], otherwise: [TemplateNode])
    case loop(targets: [String], over: TemplateExpression, filter: TemplateExpression?, body: [TemplateNode],
              otherwise: [TemplateNode], line: Int)
    /// `set name = …`, `set ns.field = …`, `set a, b = …`.
    case assign(target: [String], field: String?, TemplateExpression, line: Int)
    /// `{% set name %}…{% endset %}`.
    case assignBlock(String, [TemplateNode])
    case macro(name: String, parameters: [(String, TemplateExpression?)], body: [TemplateNode])
    case breakLoop, continueLoop
}

/// An expression inside a tag.
indirect enum TemplateExpression {
    case literal(TemplateValue)
    case name(String)
    case list([TemplateExpression])
    case dictionary([(TemplateExpression, TemplateExpression)])
    case attribute(TemplateExpression, String)
    case subscript_(TemplateExpression, TemplateExpression)
    case slice(TemplateExpression, start: TemplateExpression?, stop: TemplateExpression?, step: TemplateExpression?)
    case call(TemplateExpression, [TemplateExpression], [(String, TemplateExpression)])
    case filter(TemplateExpression, String, [TemplateExpression], [(String, TemplateExpression)])
    case test(TemplateExpression, String, [TemplateExpression], negated: Bool)
    case not(TemplateExpression)
    case negate(TemplateExpression)
    case binary(String, TemplateExpression, TemplateExpression)
    case conditional(then: TemplateExpression, condition: TemplateExpression, otherwise: TemplateExpression?)
}

extension TemplateExpression {
    /// Levels from this node to its deepest leaf.
    var depth: Int {
        func deepest(_ children: [TemplateExpression?]) -> Int { 1 + (children.compactMap { $0?.depth }.max() ?? 0) }
        switch self {
        case .literal, .name: return 1
        case .list(let items): return deepest(items)
        case .dictionary(let pairs): return deepest(pairs.flatMap { [$0.0, $0.1] })
        case .attribute(let base, _), .not(let base), .negate(let base): return deepest([base])
        case .subscript_(let base, let key): return deepest([base, key])
        case .slice(let base, let start, let stop, let step): return deepest([base, start, stop, step])
        case .call(let callee, let arguments, let keywords): return deepest([callee] + arguments + keywords.map(\.1))
        case .filter(let base, _, let arguments, let keywords): return deepest([base] + arguments + keywords.map(\.1))
        case .test(let base, _, let arguments, _): return deepest([base] + arguments)
        case .binary(_, let left, let right): return deepest([left, right])
        case .conditional(let then, let condition, let otherwise): return deepest([then, condition, otherwise])
        }
    }
}

/// Parses the lexer's pieces into nodes: the statements `if`/`elif`/`else`, `for` (with an
/// `if` filter and `else`), `set` (plain, namespace field, block), `macro`, `break`,
/// `continue`, `generation`; the expressions of Jinja's grammar with its precedence. Anything
/// else (`include`, `extends`, `call`, `filter` blocks, ...) is refused, naming it.
struct TemplateParser {
    /// Bounds that keep a hostile template (it comes from a model file) from exhausting the
    /// stack through recursion: real templates use a few levels and a few dozen tokens a tag.
    static let maxBlockNesting = 24
    static let maxExpressionNesting = 24
    static let maxTokensPerTag = 256

    private let pieces: [TemplateLexer.Piece]
    private var index = 0
    private var blockNesting = 0

    /// Parses `source` into its nodes.
    /// - Throws: `ChatTemplateError.syntax` or `.unsupported` naming the construct and line.
    static func parse(_ source: String) throws -> [TemplateNode] {
        var parser = TemplateParser(pieces: try TemplateLexer.pieces(of: source))
        let (nodes, end) = try parser.parseBlock(until: [])
        if let end { throw ChatTemplateError.syntax("unexpected {% \(end.keyword) %}", line: end.line) }
        return nodes
    }

    private init(pieces: [TemplateLexer.Piece]) { self.pieces = pieces }

    /// Nodes up to a statement whose keyword is in `ends` (returned with its tokens), or the end.
    private mutating func parseBlock(until ends: Set<String>) throws -> ([TemplateNode], (keyword: String, tokens: TokenStream, line: Int)?) {
        blockNesting += 1
        defer { blockNesting -= 1 }
        guard blockNesting <= Self.maxBlockNesting else {
            throw ChatTemplateError.unsupported("blocks nested more than \(Self.maxBlockNesting) deep", line: nil)
        }
        var nodes: [TemplateNode] = []
        while index < pieces.count {
            let piece = pieces[index]
            index += 1
            switch piece {
            case .text(let text):
                nodes.append(.text(text))
            case .output(let tokens, let line):
                var stream = try TokenStream(checking: tokens, line: line)
                let expression = try stream.parseExpression()
                try stream.expectEnd()
                nodes.append(.output(expression, line: line))
            case .statement(let tokens, let line):
                var stream = try TokenStream(checking: tokens, line: line)
                guard case .name(let keyword)? = stream.next() else {
                    throw ChatTemplateError.syntax("a {% %} tag must start with a statement name", line: line)
                }
                if ends.contains(keyword) { return (nodes, (keyword, stream, line)) }
                if let node = try parseStatement(keyword, &stream, line: line) { nodes.append(node) }
            }
        }
        if let first = ends.sorted().first, !ends.isEmpty {
            throw ChatTemplateError.syntax("the template ends before {% \(first) %}", line: nil)
        }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ keyword: String, _ stream: inout TokenStream, line: Int) throws -> TemplateNode? {
        switch keyword {
        case "if":
            var branches: [(condition: TemplateExpression, body: [TemplateNode])] = []
            var condition = try stream.parseExpression()
            try stream.expectEnd()
            while true {
                let (body, end) = try parseBlock(until: ["elif", "else", "endif"])
                branches.append((condition, body))
                guard var end else { throw ChatTemplateError.syntax("{% if %} without {% endif %}", line: line) }
                switch end.keyword {
                case "elif":
                    condition = try end.tokens.parseExpression()
                    try end.tokens.expectEnd()
                case "else":
                    try end.tokens.expectEnd()
                    let (otherwise, close) = try parseBlock(until: ["endif"])
                    guard close != nil else { throw ChatTemplateError.syntax("{% if %} without {% endif %}", line: line) }
                    return .branches(branches, otherwise: otherwise)
                default:
                    return .branches(branches, otherwise: [])
                }
            }
        case "for":
            var targets: [String] = []
            repeat {
                targets.append(try stream.expectName())
            } while stream.take(.symbol(","))
            guard stream.take(.name("in")) else { throw ChatTemplateError.syntax("expected \"in\" in {% for %}", line: line) }
            let sequence = try stream.parseExpression(allowingConditional: false)
            var filter: TemplateExpression?
            if stream.take(.name("if")) { filter = try stream.parseExpression(allowingConditional: false) }
            if stream.take(.name("recursive")) { throw ChatTemplateError.unsupported("recursive for loops", line: line) }
            try stream.expectEnd()
            let (body, end) = try parseBlock(until: ["else", "endfor"])
            guard let end else { throw ChatTemplateError.syntax("{% for %} without {% endfor %}", line: line) }
            var otherwise: [TemplateNode] = []
            if end.keyword == "else" {
                let (elseBody, close) = try parseBlock(until: ["endfor"])
                guard close != nil else { throw ChatTemplateError.syntax("{% for %} without {% endfor %}", line: line) }
                otherwise = elseBody
            }
            return .loop(targets: targets, over: sequence, filter: filter, body: body, otherwise: otherwise, line: line)
        case "set":
            var targets = [try stream.expectName()]
            var field: String?
            if stream.take(.symbol(".")) {
                field = try stream.expectName()
            } else {
                while stream.take(.symbol(",")) { targets.append(try stream.expectName()) }
            }
            if stream.atEnd, targets.count == 1, field == nil {
                let (body, end) = try parseBlock(until: ["endset"])
                guard end != nil else { throw ChatTemplateError.syntax("{% set %} block without {% endset %}", line: line) }
                return .assignBlock(targets[0], body)
            }
            guard stream.take(.symbol("=")) else { throw ChatTemplateError.syntax("expected \"=\" in {% set %}", line: line) }
            let value = try stream.parseExpression()
            try stream.expectEnd()
            return .assign(target: targets, field: field, value, line: line)
        case "macro":
            let name = try stream.expectName()
            var parameters: [(String, TemplateExpression?)] = []
            try stream.expect(.symbol("("))
            while !stream.take(.symbol(")")) {
                let parameter = try stream.expectName()
                parameters.append((parameter, stream.take(.symbol("=")) ? try stream.parseExpression() : nil))
                if !stream.take(.symbol(",")) {
                    try stream.expect(.symbol(")"))
                    break
                }
            }
            try stream.expectEnd()
            let (body, end) = try parseBlock(until: ["endmacro"])
            guard end != nil else { throw ChatTemplateError.syntax("{% macro %} without {% endmacro %}", line: line) }
            return .macro(name: name, parameters: parameters, body: body)
        case "break", "continue":
            try stream.expectEnd()
            return keyword == "break" ? .breakLoop : .continueLoop
        case "generation", "endgeneration":
            // transformers' marker of the assistant's text (for training masks): renders as nothing.
            return nil
        default:
            throw ChatTemplateError.unsupported("the {% \(keyword) %} statement", line: line)
        }
    }
}

/// The tokens of one tag, read by a recursive-descent expression parser with Jinja's precedence:
/// conditional, `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**`, unary
/// minus, then postfix (`.a`, `[i]`, `[a:b]`, `(…)`) with filters `|f` and tests `is t`.
struct TokenStream {
    private let tokens: [TemplateLexer.Token]
    private var index = 0
    private var nesting = 0
    let line: Int

    /// The tokens of one tag.
    /// - Throws: `ChatTemplateError.unsupported` past `TemplateParser.maxTokensPerTag` tokens.
    init(checking tokens: [TemplateLexer.Token], line: Int) throws {
        guard tokens.count <= TemplateParser.maxTokensPerTag else {
            throw ChatTemplateError.unsupported("a tag of more than \(TemplateParser.maxTokensPerTag) tokens", line: line)
        }
        self.tokens = tokens
        self.line = line
    }

    /// Counts one level of recursion for the duration of `body`.
    private mutating func nested<Value>(_ body: (inout TokenStream) throws -> Value) throws -> Value {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= TemplateParser.maxExpressionNesting else {
            throw ChatTemplateError.unsupported("expressions nested more than \(TemplateParser.maxExpressionNesting) deep", line: line)
        }
        return try body(&self)
    }

    var atEnd: Bool { index >= tokens.count }

    mutating func next() -> TemplateLexer.Token? {
        defer { index += 1 }
        return atEnd ? nil : tokens[index]
    }

    private func peek(_ offset: Int = 0) -> TemplateLexer.Token? {
        index + offset < tokens.count ? tokens[index + offset] : nil
    }

    /// Consumes `token` if it comes next.
    mutating func take(_ token: TemplateLexer.Token) -> Bool {
        guard peek() == token else { return false }
        index += 1
        return true
    }

    mutating func expect(_ token: TemplateLexer.Token) throws {
        guard take(token) else { throw ChatTemplateError.syntax("expected \(Self.describe(token)), found \(describeNext())", line: line) }
    }

    mutating func expectName() throws -> String {
        guard case .name(let name)? = peek() else { throw ChatTemplateError.syntax("expected a name, found \(describeNext())", line: line) }
        index += 1
        return name
    }

    func expectEnd() throws {
        guard atEnd else { throw ChatTemplateError.syntax("unexpected \(describeNext()) in a tag", line: line) }
    }

    private func describeNext() -> String { peek().map(Self.describe) ?? "the end of the tag" }

    private static func describe(_ token: TemplateLexer.Token) -> String {
        switch token {
        case .name(let n): return "\"\(n)\""
        case .string(let s): return "the string \(TemplateValue.string(s).repr)"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .symbol(let s): return "\"\(s)\""
        }
    }

    mutating func parseExpression(allowingConditional: Bool = true) throws -> TemplateExpression {
        let expression = try nested { try $0.parseConditional(allowingConditional: allowingConditional) }
        // Chains (`a + b + c …`) nest without parentheses; evaluation recurses as deep as the tree.
        guard expression.depth <= TemplateParser.maxExpressionNesting else {
            throw ChatTemplateError.unsupported("expressions nested more than \(TemplateParser.maxExpressionNesting) deep", line: line)
        }
        return expression
    }

    private mutating func parseConditional(allowingConditional: Bool) throws -> TemplateExpression {
        let value = try parseOr()
        guard allowingConditional, take(.name("if")) else { return value }
        let condition = try parseOr()
        let otherwise = take(.name("else")) ? try parseExpression() : nil
        return .conditional(then: value, condition: condition, otherwise: otherwise)
    }

    private mutating func parseOr() throws -> TemplateExpression {
        var left = try parseAnd()
        while take(.name("or")) { left = .binary("or", left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> TemplateExpression {
        var left = try parseNot()
        while take(.name("and")) { left = .binary("and", left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> TemplateExpression {
        if take(.name("not")) { return .not(try nested { try $0.parseNot() }) }
        return try parseComparison()
    }

    private mutating func parseComparison() throws -> TemplateExpression {
        var left = try parseSum()
        while true {
            if case .symbol(let op)? = peek(), ["==", "!=", "<", ">", "<=", ">="].contains(op) {
                index += 1
                left = .binary(op, left, try parseSum())
            } else if take(.name("in")) {
                left = .binary("in", left, try parseSum())
            } else if peek() == .name("not"), peek(1) == .name("in") {
                index += 2
                left = .not(.binary("in", left, try parseSum()))
            } else {
                return left
            }
        }
    }

    private mutating func parseSum() throws -> TemplateExpression {
        var left = try parseConcat()
        while case .symbol(let op)? = peek(), op == "+" || op == "-" {
            index += 1
            left = .binary(op, left, try parseConcat())
        }
        return left
    }

    private mutating func parseConcat() throws -> TemplateExpression {
        var left = try parseProduct()
        while take(.symbol("~")) { left = .binary("~", left, try parseProduct()) }
        return left
    }

    private mutating func parseProduct() throws -> TemplateExpression {
        var left = try parsePower()
        while case .symbol(let op)? = peek(), ["*", "/", "//", "%"].contains(op) {
            index += 1
            left = .binary(op, left, try parsePower())
        }
        return left
    }

    private mutating func parsePower() throws -> TemplateExpression {
        var left = try parseUnary(withFilters: true)
        while take(.symbol("**")) { left = .binary("**", left, try parseUnary(withFilters: true)) }
        return left
    }

    private mutating func parseUnary(withFilters: Bool) throws -> TemplateExpression {
        var value: TemplateExpression
        if take(.symbol("-")) {
            value = .negate(try nested { try $0.parseUnary(withFilters: false) })
        } else if take(.symbol("+")) {
            value = try nested { try $0.parseUnary(withFilters: false) }
        } else {
            value = try parsePostfix(try parsePrimary())
        }
        return withFilters ? try parseFiltersAndTests(value) : value
    }

    private mutating func parsePrimary() throws -> TemplateExpression {
        guard let token = next() else { throw ChatTemplateError.syntax("an expression is missing", line: line) }
        switch token {
        case .string(var s):
            while case .string(let more)? = peek() {  // adjacent strings join, as in Python
                s += more
                index += 1
            }
            return .literal(.string(s))
        case .int(let i): return .literal(.int(i))
        case .double(let d): return .literal(.double(d))
        case .name(let name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name)
            }
        case .symbol("("):
            let first = try parseExpression()
            if take(.symbol(")")) { return first }
            var items = [first]
            while take(.symbol(",")) {
                if peek() == .symbol(")") { break }
                items.append(try parseExpression())
            }
            try expect(.symbol(")"))
            return .list(items)  // a tuple behaves as a list here
        case .symbol("["):
            var items: [TemplateExpression] = []
            while !take(.symbol("]")) {
                items.append(try parseExpression())
                if !take(.symbol(",")) {
                    try expect(.symbol("]"))
                    break
                }
            }
            return .list(items)
        case .symbol("{"):
            var pairs: [(TemplateExpression, TemplateExpression)] = []
            while !take(.symbol("}")) {
                let key = try parseExpression()
                try expect(.symbol(":"))
                pairs.append((key, try parseExpression()))
                if !take(.symbol(",")) {
                    try expect(.symbol("}"))
                    break
                }
            }
            return .dictionary(pairs)
        default:
            throw ChatTemplateError.syntax("unexpected \(Self.describe(token)) in an expression", line: line)
        }
    }

    private mutating func parsePostfix(_ base: TemplateExpression) throws -> TemplateExpression {
        var value = base
        while true {
            if take(.symbol(".")) {
                guard let token = next() else { throw ChatTemplateError.syntax("a name must follow \".\"", line: line) }
                switch token {
                case .name(let name): value = .attribute(value, name)
                case .int(let i): value = .subscript_(value, .literal(.int(i)))
                default: throw ChatTemplateError.syntax("a name must follow \".\"", line: line)
                }
            } else if take(.symbol("[")) {
                value = try parseSubscript(of: value)
            } else if peek() == .symbol("(") {
                index += 1
                let (arguments, keywords) = try parseArguments()
                value = .call(value, arguments, keywords)
            } else {
                return value
            }
        }
    }

    /// After `[`: an index or a slice `[a:b:c]`, up to `]`.
    private mutating func parseSubscript(of value: TemplateExpression) throws -> TemplateExpression {
        var parts: [TemplateExpression?] = []
        var current: TemplateExpression?
        var isSlice = false
        while true {
            if take(.symbol("]")) {
                parts.append(current)
                break
            }
            if take(.symbol(":")) {
                isSlice = true
                parts.append(current)
                current = nil
                continue
            }
            guard current == nil else { throw ChatTemplateError.syntax("expected \"]\"", line: line) }
            current = try parseExpression()
        }
        guard isSlice else {
            guard let only = parts.first ?? nil else { throw ChatTemplateError.syntax("empty subscript []", line: line) }
            return .subscript_(value, only)
        }
        guard parts.count <= 3 else { throw ChatTemplateError.syntax("a slice has at most three parts", line: line) }
        let padded = parts + Array(repeating: nil, count: 3 - parts.count)
        return .slice(value, start: padded[0], stop: padded[1], step: padded[2])
    }

    /// After `(`: positional and keyword arguments, up to `)`.
    private mutating func parseArguments() throws -> ([TemplateExpression], [(String, TemplateExpression)]) {
        var arguments: [TemplateExpression] = []
        var keywords: [(String, TemplateExpression)] = []
        while !take(.symbol(")")) {
            if case .name(let name)? = peek(), peek(1) == .symbol("=") {
                index += 2
                keywords.append((name, try parseExpression()))
            } else {
                arguments.append(try parseExpression())
            }
            if !take(.symbol(",")) {
                try expect(.symbol(")"))
                break
            }
        }
        return (arguments, keywords)
    }

    private mutating func parseFiltersAndTests(_ base: TemplateExpression) throws -> TemplateExpression {
        var value = base
        while true {
            if take(.symbol("|")) {
                let name = try expectName()
                guard TemplateBuiltins.filterNames.contains(name) else {
                    throw ChatTemplateError.unsupported("the filter \"\(name)\"", line: line)
                }
                var arguments: [TemplateExpression] = []
                var keywords: [(String, TemplateExpression)] = []
                if take(.symbol("(")) { (arguments, keywords) = try parseArguments() }
                value = try parsePostfix(.filter(value, name, arguments, keywords))
            } else if take(.name("is")) {
                let negated = take(.name("not"))
                let name = try expectName()
                guard TemplateBuiltins.testNames.contains(name) else {
                    throw ChatTemplateError.unsupported("the test \"is \(name)\"", line: line)
                }
                var arguments: [TemplateExpression] = []
                if take(.symbol("(")) {
                    arguments = try parseArguments().0
                } else if let token = peek(), Self.startsTestArgument(token) {
                    arguments = [try parsePostfix(try parsePrimary())]
                }
                value = .test(value, name, arguments, negated: negated)
            } else {
                return value
            }
        }
    }

    /// Whether `token` starts a test's argument written without parentheses (`is equalto 'a'`).
    private static func startsTestArgument(_ token: TemplateLexer.Token) -> Bool {
        switch token {
        case .string, .int, .double: return true
        case .name(let name): return !["and", "or", "else", "if", "in", "not", "is"].contains(name)
        case .symbol(let s): return s == "[" || s == "{"
        }
    }
}
