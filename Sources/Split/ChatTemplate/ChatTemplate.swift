import Foundation

/// One chat message as a template sees it: `role` ("system", "user", "assistant", ...) and its
/// text (OpenAI's array-of-text-parts content is joined before it gets here).
public struct ChatMessage: Sendable, Codable, Equatable {
    public var role: String
    public var content: String

    /// A message from `role`.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A model's chat template (GGUF `tokenizer.chat_template`, Jinja), parsed once and rendered
/// per request as transformers' `apply_chat_template` renders it: `messages`,
/// `add_generation_prompt`, `bos_token`, `eos_token`, `raise_exception`, `strftime_now`, with
/// trim_blocks and lstrip_blocks. The subset of Jinja it runs is what real chat templates use
/// (ChatML/Qwen2.5, Llama 3.x, Gemma 2/3, Phi-3, Mistral, DeepSeek-Coder are tested byte for
/// byte against Python's jinja2); anything else is refused with an error naming the construct.
public struct ChatTemplate: Sendable {
    /// The Jinja source.
    public let source: String
    public let bosToken: String
    public let eosToken: String
    private let parsed: ParsedTemplate

    /// The parsed nodes. Safe to send: they are never mutated after parsing, and the only values
    /// they hold are literals (strings, numbers, booleans, none), never a namespace or function.
    private struct ParsedTemplate: @unchecked Sendable {
        let nodes: [TemplateNode]
    }

    /// Parses `source`; `bosToken` and `eosToken` are the texts of the model's BOS and EOS tokens.
    /// - Throws: `ChatTemplateError.syntax` or `.unsupported` naming the construct and line.
    public init(source: String, bosToken: String = "", eosToken: String = "") throws {
        self.source = source
        self.bosToken = bosToken
        self.eosToken = eosToken
        parsed = ParsedTemplate(nodes: try TemplateParser.parse(source))
    }

    /// The prompt for `messages`; with `addGenerationPrompt`, ending where the assistant's reply
    /// starts. `now` is what `strftime_now` formats (UTC).
    /// - Throws: `ChatTemplateError.raised` when the template refuses the conversation (its
    ///   `raise_exception`, e.g. roles out of order), `.unsupported`/`.runtime` otherwise.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, now: Date = Date()) throws -> String {
        let list = TemplateValue.array(messages.map { .object(TemplateObject([("role", .string($0.role)), ("content", .string($0.content))])) })
        var renderer = TemplateRenderer(globals: [
            "messages": list,
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
        ], now: now)
        return try renderer.render(parsed.nodes)
    }

    /// The text the template puts right after an assistant's message (`<|im_end|>\n`,
    /// `<|eot_id|>`, `<end_of_turn>\n`, `</s>`): where a reply ends. Nil when it cannot be found
    /// (the template refuses a user-then-assistant conversation, or drops the content).
    public func textAfterAssistantMessage() -> String? {
        let marker = "\u{1}split-reply\u{1}"
        let probe = [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: marker)]
        guard let rendered = try? render(probe, addGenerationPrompt: false, now: Date(timeIntervalSince1970: 0)),
              let range = rendered.range(of: marker, options: .backwards)
        else { return nil }
        return String(rendered[range.upperBound...])
    }
}

/// Why a chat template could not be parsed or rendered.
public enum ChatTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The template is not valid Jinja.
    case syntax(String, line: Int? = nil)
    /// The template uses a Jinja construct this renderer does not implement (named).
    case unsupported(String, line: Int? = nil)
    /// Rendering failed (a value of the wrong kind, an undefined value used).
    case runtime(String, line: Int? = nil)
    /// The template's own `raise_exception(message)`: it refuses this conversation.
    case raised(String)
    /// The model has no chat template and none was configured.
    case noTemplate

    public var description: String {
        func at(_ line: Int?) -> String { line.map { " (template line \($0))" } ?? "" }
        switch self {
        case .syntax(let message, let line): return "the model's chat template is not valid Jinja: \(message)\(at(line))"
        case .unsupported(let construct, let line):
            return "the model's chat template uses \(construct), which this server's template renderer does not support\(at(line))"
        case .runtime(let message, let line): return "the model's chat template failed: \(message)\(at(line))"
        case .raised(let message): return "the model's chat template refused the conversation: \(message)"
        case .noTemplate:
            return "this model has no chat template (GGUF tokenizer.chat_template); use /v1/completions, or start the edge with --chat-template FILE"
        }
    }

    /// Adds the tag's line to an error raised inside a function call.
    mutating func setLineIfMissing(_ line: Int?) {
        switch self {
        case .syntax(let message, nil): self = .syntax(message, line: line)
        case .unsupported(let message, nil): self = .unsupported(message, line: line)
        case .runtime(let message, nil): self = .runtime(message, line: line)
        default: break
        }
    }
}
