/// Splits a Jinja template into text, `{{ … }}` and `{% … %}` pieces, with the whitespace rules
/// transformers' `apply_chat_template` renders with: `-` on a tag strips the whitespace beside
/// it, `trim_blocks` drops the newline after a block or comment tag, `lstrip_blocks` drops the
/// spaces and tabs before one at the start of a line.
struct TemplateLexer {
    /// One piece of a template.
    enum Piece {
        case text(String)
        /// `{{ … }}`: the expression's tokens.
        case output([Token], line: Int)
        /// `{% … %}`: the statement's tokens.
        case statement([Token], line: Int)
    }

    /// A token inside a tag.
    enum Token: Equatable {
        case name(String)
        case string(String)
        case int(Int)
        case double(Double)
        /// Punctuation and operators: `( ) [ ] { } . , : | ~ + - * / // % ** = == != < > <= >=`.
        case symbol(String)
    }

    private let source: [Character]
    private var position = 0
    private var line = 1

    /// Splits `source`.
    /// - Throws: `ChatTemplateError.syntax` for an unclosed tag, string or comment.
    static func pieces(of source: String) throws -> [Piece] {
        var lexer = TemplateLexer(source: Array(source))
        return try lexer.run()
    }

    private init(source: [Character]) { self.source = source }

    private mutating func run() throws -> [Piece] {
        var pieces: [Piece] = []
        var text = ""
        var stripNextText = false
        var lineStarting = true
        func flush(_ text: String) {
            if !text.isEmpty { pieces.append(.text(text)) }
        }
        while position < source.count {
            guard source[position] == "{", position + 1 < source.count, "{%#".contains(source[position + 1]) else {
                if source[position] == "\n" { line += 1 }
                text.append(source[position])
                position += 1
                continue
            }
            let kind = source[position + 1]
            let tagLine = line
            position += 2
            var pending = text
            text = ""
            if stripNextText { pending = String(pending.drop { $0.isWhitespace }) }
            stripNextText = false
            let modifier = position < source.count ? source[position] : " "
            if modifier == "-" {
                position += 1
                pending = String(pending.reversed().drop { $0.isWhitespace }.reversed())
            } else if modifier == "+" {
                position += 1
            } else if kind != "{" {
                pending = Self.lstripLine(pending, lineStarting: lineStarting)
            }
            flush(pending)
            let stripAfter: Bool
            switch kind {
            case "#":
                stripAfter = try skipComment(from: tagLine)
            default:
                let close: Character = kind == "{" ? "}" : "%"
                var tokens: [Token] = []
                stripAfter = try lexTag(closingWith: close, into: &tokens, from: tagLine)
                pieces.append(kind == "{" ? .output(tokens, line: tagLine) : .statement(tokens, line: tagLine))
            }
            lineStarting = false
            if stripAfter {
                stripNextText = true
            } else if kind != "{", position < source.count, source[position] == "\n" {
                // trim_blocks: the newline right after a block or comment tag goes.
                position += 1
                line += 1
                lineStarting = true
            }
        }
        if stripNextText { text = String(text.drop { $0.isWhitespace }) }
        flush(text)
        return pieces
    }

    /// lstrip_blocks: spaces and tabs between a line's start and a block tag go.
    private static func lstripLine(_ text: String, lineStarting: Bool) -> String {
        guard let newline = text.lastIndex(of: "\n") else {
            return lineStarting && text.allSatisfy({ $0 == " " || $0 == "\t" }) ? "" : text
        }
        let tail = text[text.index(after: newline)...]
        return tail.allSatisfy({ $0 == " " || $0 == "\t" }) ? String(text[...newline]) : text
    }

    /// Skips to the end of a `{# … #}` comment; returns whether it ends with `-#}`.
    private mutating func skipComment(from tagLine: Int) throws -> Bool {
        while position + 1 < source.count {
            if source[position] == "#", source[position + 1] == "}" {
                let strip = position > 0 && source[position - 1] == "-"
                position += 2
                return strip
            }
            if source[position] == "\n" { line += 1 }
            position += 1
        }
        throw ChatTemplateError.syntax("the comment opened here is never closed with #}", line: tagLine)
    }

    /// Reads the tokens of a tag up to its `}}` or `%}`; returns whether the tag ends with `-`.
    private mutating func lexTag(closingWith close: Character, into tokens: inout [Token], from tagLine: Int) throws -> Bool {
        while position < source.count {
            let c = source[position]
            if c == "\n" { line += 1 }
            if c.isWhitespace {
                position += 1
                continue
            }
            if c == close, peek(1) == "}" {
                position += 2
                return false
            }
            if c == "-", peek(1) == close, peek(2) == "}" {
                position += 3
                return true
            }
            if c == "'" || c == "\"" {
                tokens.append(.string(try lexString(quote: c)))
            } else if c.isNumber {
                tokens.append(lexNumber())
            } else if c.isLetter || c == "_" {
                var name = ""
                while position < source.count, source[position].isLetter || source[position].isNumber || source[position] == "_" {
                    name.append(source[position])
                    position += 1
                }
                tokens.append(.name(name))
            } else {
                let two = String(c) + String(peek(1) ?? " ")
                if ["//", "**", "==", "!=", "<=", ">="].contains(two) {
                    tokens.append(.symbol(two))
                    position += 2
                } else if "()[]{}.,:|~+-*/%=<>".contains(c) {
                    tokens.append(.symbol(String(c)))
                    position += 1
                } else {
                    throw ChatTemplateError.syntax("unexpected character \"\(c)\" in a tag", line: line)
                }
            }
        }
        throw ChatTemplateError.syntax("the tag opened here is never closed with \(close)}", line: tagLine)
    }

    private func peek(_ offset: Int) -> Character? {
        position + offset < source.count ? source[position + offset] : nil
    }

    /// A quoted string with Python's escapes (`\n`, `\t`, `\\`, `\'`, `\"`, `\uXXXX`, `\xXX`).
    private mutating func lexString(quote: Character) throws -> String {
        let start = line
        position += 1
        var value = ""
        while position < source.count {
            let c = source[position]
            position += 1
            if c == quote { return value }
            if c == "\n" { line += 1 }
            guard c == "\\", position < source.count else {
                value.append(c)
                continue
            }
            let escaped = source[position]
            position += 1
            switch escaped {
            case "n": value.append("\n")
            case "t": value.append("\t")
            case "r": value.append("\r")
            case "0": value.append("\0")
            case "\\", "'", "\"": value.append(escaped)
            case "\n": line += 1  // a backslash at a line's end joins the lines
            case "u", "x":
                let digits = escaped == "u" ? 4 : 2
                let hex = String(source[position..<min(position + digits, source.count)])
                guard hex.count == digits, let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                    throw ChatTemplateError.syntax("bad \\\(escaped) escape in a string", line: line)
                }
                value.unicodeScalars.append(scalar)
                position += digits
            default:
                value.append("\\")
                value.append(escaped)
            }
        }
        throw ChatTemplateError.syntax("the string opened here is never closed", line: start)
    }

    private mutating func lexNumber() -> Token {
        var digits = ""
        var isFloat = false
        while position < source.count {
            let c = source[position]
            if c.isNumber || c == "_" {
                if c != "_" { digits.append(c) }
            } else if c == ".", !isFloat, peek(1)?.isNumber == true {
                isFloat = true
                digits.append(c)
            } else {
                break
            }
            position += 1
        }
        if isFloat { return .double(Double(digits) ?? 0) }
        return Int(digits).map { .int($0) } ?? .double(Double(digits) ?? 0)
    }
}
