import Foundation
import Testing
@testable import Split

/// expected.json, made by tools/fixtures/make_chat_template_fixtures.py with Python's jinja2.
private struct RenderingFixtures: Decodable {
    struct Template: Decodable {
        var file: String
        var bos_token: String
        var eos_token: String
        var cases: [Case]
    }

    struct Case: Decodable {
        var conversation: String
        var add_generation_prompt: Bool
        var expected: String?
        var error: String?
    }

    var now: String
    var templates: [Template]
    var conversations: [String: [ChatMessage]]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/chat-templates")

    static func load() throws -> RenderingFixtures {
        try JSONDecoder().decode(RenderingFixtures.self, from: Data(contentsOf: directory.appendingPathComponent("expected.json")))
    }

    /// The date the fixtures' `strftime_now` used, as UTC.
    var date: Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.date(from: now) ?? Date(timeIntervalSince1970: 0)
    }
}

@Suite("Chat templates")
struct ChatTemplateTests {
    static let templateFiles = ["Qwen-Qwen2.5-7B-Instruct.jinja", "meta-llama-Llama-3.1-8B-Instruct.jinja",
                                "meta-llama-Llama-3.2-3B-Instruct.jinja", "google-gemma-2-2b-it.jinja", "google-gemma-3-it.jinja",
                                "microsoft-Phi-3.5-mini-instruct.jinja", "mistralai-Mistral-7B-Instruct-v0.2.jinja",
                                "mistralai-Mistral-Nemo-Instruct-2407.jinja", "deepseek-ai-deepseek-coder-33b-instruct.jinja"]

    @Test("a real model's chat template renders every conversation exactly as Python's jinja2 does", arguments: templateFiles)
    func rendersAsJinja2(file: String) throws {
        let fixtures = try RenderingFixtures.load()
        let entry = try #require(fixtures.templates.first { $0.file == file })
        let source = try String(contentsOf: RenderingFixtures.directory.appendingPathComponent(file), encoding: .utf8)
        let template = try ChatTemplate(source: source, bosToken: entry.bos_token, eosToken: entry.eos_token)
        for fixture in entry.cases {
            let messages = try #require(fixtures.conversations[fixture.conversation])
            let outcome = Result { try template.render(messages, addGenerationPrompt: fixture.add_generation_prompt, now: fixtures.date) }
            if let expected = fixture.expected {
                #expect(try outcome.get() == expected, "\(file): \(fixture.conversation), add_generation_prompt \(fixture.add_generation_prompt)")
            } else {
                #expect(throws: ChatTemplateError.raised(fixture.error ?? ""), "\(file): \(fixture.conversation)") { try outcome.get() }
            }
        }
    }

    @Test("each template's end of an assistant turn is the text its model stops at")
    func endOfTurnText() throws {
        let fixtures = try RenderingFixtures.load()
        var ends: [String: String] = [:]
        for entry in fixtures.templates {
            let source = try String(contentsOf: RenderingFixtures.directory.appendingPathComponent(entry.file), encoding: .utf8)
            let template = try ChatTemplate(source: source, bosToken: entry.bos_token, eosToken: entry.eos_token)
            ends[entry.file] = template.textAfterAssistantMessage()
        }
        #expect(ends["Qwen-Qwen2.5-7B-Instruct.jinja"] == "<|im_end|>\n")
        #expect(ends["meta-llama-Llama-3.1-8B-Instruct.jinja"] == "<|eot_id|>")
        #expect(ends["google-gemma-2-2b-it.jinja"] == "<end_of_turn>\n")
        #expect(ends["microsoft-Phi-3.5-mini-instruct.jinja"] == "<|end|>\n<|endoftext|>")
        #expect(ends["mistralai-Mistral-7B-Instruct-v0.2.jinja"] == "</s>")
        #expect(ends["deepseek-ai-deepseek-coder-33b-instruct.jinja"] == "\n<|EOT|>\n")
    }

    @Test("a template using a construct the renderer lacks is refused, naming the construct and line")
    func unsupportedConstructIsNamed() throws {
        #expect(throws: ChatTemplateError.unsupported("the {% include %} statement", line: 2)) {
            try ChatTemplate(source: "{{ bos_token }}\n{% include 'other.jinja' %}")
        }
        // Unknown filters and tests are found when the template is read, before any request.
        #expect(throws: ChatTemplateError.unsupported("the filter \"wordwrap\"", line: 2)) {
            try ChatTemplate(source: "{% for m in messages %}\n{{ m.content | wordwrap(5) }}{% endfor %}")
        }
        #expect(throws: ChatTemplateError.unsupported("the test \"is escaped\"", line: 1)) {
            try ChatTemplate(source: "{% if messages is escaped %}{% endif %}")
        }
        #expect(throws: ChatTemplateError.unsupported("the string method .zfill()", line: 1)) {
            try ChatTemplate(source: "{{ messages[0].content.zfill(3) }}").render([ChatMessage(role: "user", content: "1")])
        }
    }

    @Test("every filter and test the parser accepts is one the renderer implements")
    func namedBuiltinsAreImplemented() {
        /// Whether `body` throws "unsupported" naming `construct` (other errors, such as a wrong
        /// argument, mean the name was handled).
        func refused(_ construct: String, _ body: () throws -> Any) -> Bool {
            do {
                _ = try body()
                return false
            } catch ChatTemplateError.unsupported(let named, _) {
                return named == construct
            } catch {
                return false
            }
        }
        for name in TemplateBuiltins.filterNames
        where refused("the filter \"\(name)\"", { try TemplateBuiltins.filter(name, .array([.string("a")]), [.string("a"), .string("a")], [], line: nil) }) {
            Issue.record("filter \(name) is listed but not implemented")
        }
        for name in TemplateBuiltins.testNames where refused("the test \"is \(name)\"", { try TemplateBuiltins.test(name, .int(2), [.int(1)], line: nil) }) {
            Issue.record("test \(name) is listed but not implemented")
        }
    }

    @Test("malformed templates are syntax errors, not crashes")
    func malformedTemplates() throws {
        for source in ["{% if x %}no end", "{{ 'unclosed }}", "{{ a + }}", "{% for %}{% endfor %}", "{# never closed", "{{ a[ }}",
                       "{% endif %}", "{{ (1, 2 }}", "{% set %}"] {
            #expect(throws: ChatTemplateError.self, "\(source)") { try ChatTemplate(source: source).render([]) }
        }
    }

    @Test("templates built to exhaust the stack or loop forever are refused with an error, not a crash")
    func hostileTemplates() throws {
        let deepParentheses = "{{ " + String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300) + " }}"
        let deepBlocks = String(repeating: "{% if true %}", count: 300) + "x" + String(repeating: "{% endif %}", count: 300)
        let longTag = "{{ 1" + String(repeating: " + 1", count: 400) + " }}"
        let recursiveMacro = "{% set ns = namespace() %}{% macro f() %}{{ ns.f() }}{% endmacro %}{% set ns.f = f %}{{ f() }}"
        let endlessLoops = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        for source in [deepParentheses, deepBlocks, longTag, recursiveMacro, endlessLoops, "{{ 'x' * 100000000 }}{{ 'y' * 100000000 }}"] {
            #expect(throws: ChatTemplateError.self, "\(source.prefix(40))") { try ChatTemplate(source: source).render([]) }
        }
    }

    @Test("Jinja semantics chat templates rely on: scoping, namespaces, loop variables, filters, slices, whitespace control")
    func jinjaSemantics() throws {
        func render(_ source: String, _ messages: [ChatMessage] = []) throws -> String {
            try ChatTemplate(source: source, bosToken: "<s>").render(messages, now: Date(timeIntervalSince1970: 86400 * 365))
        }
        #expect(try render("{% set x = 1 %}{% for i in range(3) %}{% set x = i %}{% endfor %}{{ x }}") == "1")
        #expect(try render("{% set ns = namespace(x=1) %}{% for i in range(3) %}{% set ns.x = i %}{% endfor %}{{ ns.x }}") == "2")
        #expect(try render("{% for i in [1,2,3] if i != 2 %}{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}{% endfor %}") == "1/2,2/2")
        #expect(try render("{{ [1,2,3][1:] }}|{{ 'abc'[::-1] }}|{{ [1,2,3][-1] }}") == "[2, 3]|cba|3")
        #expect(try render("{{ {'a': 'x', 'b': [1, none, true]} | tojson }}") == #"{"a": "x", "b": [1, null, true]}"#)
        #expect(try render("{{ {'a': 1} | tojson(indent=2) }}") == "{\n  \"a\": 1\n}")
        #expect(try render("  {%- if true -%}  x  {%- endif %}\n  y") == "x  y")
        #expect(try render("a\n  {% if true %}\nb\n  {% endif %}\nc") == "a\nb\nc")
        #expect(try render("{{ '  hi  ' | trim }}{{ 'x' ~ 1 }}{{ 7 // 2 }}{{ 7 % 3 }}{{ 1 / 2 }}") == "hix1310.5")
        #expect(try render("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }}",
                           [ChatMessage(role: "user", content: "a"), ChatMessage(role: "assistant", content: "b"),
                            ChatMessage(role: "user", content: "c")]) == "a,c")
        #expect(try render("{% macro tag(x, y='!') %}<{{ x }}{{ y }}>{% endmacro %}{{ tag('a') }}{{ tag('b', y='?') }}") == "<a!><b?>")
        #expect(try render("{{ strftime_now('%d %b %Y') }}") == "01 Jan 1971")
        #expect(try render("{{ undefined_name }}{{ x is defined }}{{ none is none }}{{ 'a' in 'cat' }}") == "FalseTrueTrue")
        #expect(try render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}") == "a=1;b=2;")
        #expect(try render("{% for x in [] %}x{% else %}empty{% endfor %}") == "empty")
        #expect(try render("{% for x in [1,2,3,4] %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %}") == "12")
    }
}
