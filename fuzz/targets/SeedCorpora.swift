import Foundation

/// Writes the seed corpora (`fuzz/corpus/<target>/`): valid inputs of every kind each parser
/// accepts, so the fuzzer starts from deep inside the formats. Run by `scripts/fuzz.sh seeds`
/// from the repository root (it reads the test fixtures).
func writeSeedCorpora(into root: String) throws {
    func write(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
        let directory = "\(root)/\(target)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/\(name)"))
    }
    for (index, message) in try wireSeedMessages().enumerated() {
        try write("wire", "\(index)-\(message.type)", try WireEncoder().encode(message))
    }
    let fixtures = "Tests/SplitTests/Fixtures"
    try write("gguf", "reference.gguf", Array(try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/gguf/reference.gguf"))))
    try write("gguf", "gpt2-metadata-tiny-tensors.gguf", try smallModelGGUF(metadataFrom: "\(fixtures)/models/gpt2/model.gguf"))
    try write("gguf", "llama-metadata-tiny-tensors.gguf", try smallModelGGUF(metadataFrom: "\(fixtures)/models/llama/model.gguf"))
    try write("safetensors", "reference.safetensors",
              Array(try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/safetensors/reference.safetensors"))))
    var safetensors = SafetensorsWriter()
    safetensors.metadata = ["format": "pt"]
    try safetensors.addTensor(name: "a", shape: [2, 3], values: [1, 2, 3, 4, 5, 6], type: .f16)
    try safetensors.addTensor(name: "b.weight", shape: [4], values: [0.5, -1, 2, 8], type: .bf16)
    safetensors.addTensor(name: "c", shape: [2], dtype: "I64", data: [UInt8](repeating: 1, count: 16))
    try write("safetensors", "three-dtypes.safetensors", try safetensors.serialized())

    let texts = ["def main():\n    return 0\n", "import os, sys  # é ü 日本語 🎉\n\tx = [1, 2]\r\n",
                 "<|endoftext|>class A:\n    pass<|endoftext|>", "   \n\n\n    ", "'s 're 've 123456789 ..."]
    for (index, text) in texts.enumerated() {
        try write("tokenizer", "text-\(index)", [UInt8(index * 2)] + Array(text.utf8))
    }
    try write("tokenizer", "ids", [128] + [0, 1, 2, 3, 255, 255, 255, 127, 17, 0, 0, 0].map { $0 })
    let tokenizerJSON = try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/models/gpt2/tokenizer.json"))
    try write("tokenizer", "tokenizer-json", [192] + Array(tokenizerJSON))

    let requests: [String] = [
        ##"{"type":"complete","id":"r1","prompt":"def f(","max_tokens":16,"temperature":0.7,"top_p":0.9,"top_k":40,"seed":7,"stop":["\n\n","#"],"strategy":"split(k=4)","allow_degraded":true,"stream":false}"##,
        #"{"type":"status","id":"s"}"#,
        #"{"type":"act","id":"a1","state":[0.1,-0.2,0,0.5],"target":[1,1],"horizon":4}"#,
        #"{"model":"split-code-7m","prompt":["import "],"max_tokens":8,"stream":true,"n":1,"echo":false,"logprobs":null,"stop":"\n"}"#,
        #"{"prompt":"x","temperature":0,"top_p":1,"best_of":1,"suffix":null,"seed":18446744073709551615}"#,
    ]
    for (index, request) in requests.enumerated() { try write("client-request", "request-\(index).json", Array(request.utf8)) }
    let chatAndOllama: [String] = [
        #"{"model":"m","stream":true,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"max_completion_tokens":64,"stream_options":{"include_usage":true}}"#,
        #"{"model":"m","prompt":"def f(","suffix":"\n","raw":true,"options":{"num_predict":16,"temperature":0,"stop":["\n\n"]},"keep_alive":1800}"#,
        #"{"type":"complete","id":"f1","input_prefix":"a\n","input_suffix":"\nb","input_extra":[{"filename":"u.py","text":"X = 1"}],"n_indent":4}"#,
    ]
    for (index, request) in chatAndOllama.enumerated() {
        try write("client-request", "request-\(requests.count + index).json", Array(request.utf8))
    }
    let templates = URL(fileURLWithPath: "\(fixtures)/chat-templates")
    for name in try FileManager.default.contentsOfDirectory(atPath: templates.path).sorted() where name.hasSuffix(".jinja") {
        try write("chat-template", name, Array(try Data(contentsOf: templates.appendingPathComponent(name))))
    }
}

/// One message of every type, with every activation encoding and the optional result parts.
private func wireSeedMessages() throws -> [WireMessage] {
    let identity = try SHA256Digest(hex: String(repeating: "ab", count: 32))
    let values: [Float] = (0..<120).map { (index: Int) -> Float in Float((index * 37) % 101) / 13 - 3.5 }
    var messages: [WireMessage] = []
    messages += [
        .hello(.init(modelIdentity: identity, splitLayer: 4, activationEncoding: .f16, clientName: "edge-é1")),
        .helloAck(.init(splitLayer: 4, activationEncoding: .f16, cloudLayers: 4..<8, hiddenSize: 256,
                        limits: WireLimits(maxMessageBytes: 1 << 20, maxRowsPerMessage: 64))),
        .truncate(.init(sessionID: 9, length: 13)),
        .close(sessionID: 9),
        .heartbeat(.init(kind: .ping, timestampNanoseconds: 123_456_789_012)),
        .error(.init(code: .unknownSession, sessionID: 9, requestID: 8, message: "no session 9")),
        .rebuildNeeded(.init(sessionID: 9, requestID: 8, cachedLength: 3)),
        .actions(.init(sessionID: 9, requestID: 8, horizon: 3, dimensions: 2, values: [0.5, -1, 0.25, 2, -0.125, 1e-3])),
    ]
    for encoding in ActivationEncoding.allCases {
        let tensor = try EncodedActivations(encoding: encoding, rows: 3, hiddenSize: 40, values: values)
        messages.append(.prefill(.init(sessionID: 0xDEAD_BEEF, requestID: 7, startPosition: 0, topK: 5, activations: tensor)))
        messages.append(.step(.init(sessionID: 9, requestID: 8, startPosition: 12, flags: [.allRows, .distributions], topK: 2,
                                    sampling: .init(temperature: 0.8, topK: 40, topP: 0.95, uniform: 0.25), activations: tensor)))
    }
    var rows: [WireMessage.ResultRow] = []
    for row in 0..<3 {
        let topK = (0..<row).map { WireMessage.TokenLogprob(tokenID: UInt32(100 + $0), logprob: -Float($0)) }
        let token = WireMessage.TokenLogprob(tokenID: UInt32(row), logprob: -0.25 * Float(row))
        rows.append(WireMessage.ResultRow(token: token, topK: topK))
    }
    messages.append(.result(.init(sessionID: 9, requestID: 8, startPosition: 12, rows: rows)))
    var withDistributions = rows
    for index in withDistributions.indices { withDistributions[index].probabilities = [0.5, 0.25, 0.25, 0] }
    messages.append(.result(.init(sessionID: 9, requestID: 8, startPosition: 12, rows: withDistributions)))
    return messages
}

/// A real model's metadata (architecture, shape, tokenizer) with a few tiny tensors of each
/// supported type instead of its weights: small enough to mutate quickly.
private func smallModelGGUF(metadataFrom path: String) throws -> [UInt8] {
    let source = try GGUFFile(path: path)
    var writer = GGUFWriter()
    for key in source.metadataKeys { if let value = source.metadata[key] { writer.setMetadata(key, value) } }
    let values: [Float] = (0..<64).map { (index: Int) -> Float in Float(index) / 8 - 4 }
    try writer.addTensor(name: "token_embd.weight", shape: [2, 32], values: values, type: .f32)
    try writer.addTensor(name: "blk.0.attn_q.weight", shape: [2, 32], values: values, type: .f16)
    try writer.addTensor(name: "blk.0.ffn_up.weight", shape: [2, 32], values: values, type: .q8_0)
    return writer.serialized()
}
