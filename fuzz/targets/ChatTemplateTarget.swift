import Foundation

/// Chat template rendering (a model file's `tokenizer.chat_template`): any bytes parse and
/// render, or throw `ChatTemplateError`; never a crash, a hang past the renderer's bounds, or
/// output past its byte bound.
func fuzzChatTemplate(_ bytes: UnsafeRawBufferPointer) {
    let source = String(decoding: bytes, as: UTF8.self)
    let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi"),
                    ChatMessage(role: "assistant", content: "Hello."), ChatMessage(role: "user", content: "Why?")]
    do {
        let template = try ChatTemplate(source: source, bosToken: "<s>", eosToken: "</s>")
        let text = try template.render(messages, now: Date(timeIntervalSince1970: 0))
        fuzzCheck(text.utf8.count <= TemplateRenderer.maxOutputBytes, "rendered past the output bound")
        _ = template.textAfterAssistantMessage()
    } catch is ChatTemplateError {
    } catch {
        fuzzCheck(false, "chat template threw a non-template error: \(error)")
    }
}
