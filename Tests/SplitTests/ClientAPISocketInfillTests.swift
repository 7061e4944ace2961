import Foundation
import Testing
@testable import Split

/// A socket API infill request with every FIM field, as a script or robot-side client sends it.
let socketInfillMessage = #"""
{"type": "complete", "id": "f1", "input_prefix": "def add(a, b):\n", "input_suffix": "\n\nprint(add(1, 2))\n", "input_extra": [{"filename": "util.py", "text": "X = 1\n"}, {"text": "Y = 2\n"}], "prompt": "    ", "max_tokens": 24, "n_indent": 4, "t_max_predict_ms": 250, "stream": true}
"""#

@Suite("Fill-in-the-middle on the ZeroMQ socket API")
struct ClientAPISocketInfillTests {
    @Test("a complete message with input_prefix and input_suffix is a FIM request with /infill's fields")
    func decodesInfill() throws {
        guard case .complete("f1", let request, true) = try ClientRequest.decode(Data(socketInfillMessage.utf8)) else {
            Issue.record("not a streamed complete request")
            return
        }
        #expect(request.infill == InfillInput(prefix: "def add(a, b):\n", suffix: "\n\nprint(add(1, 2))\n",
                                              extraFiles: [InfillFile(filename: "util.py", text: "X = 1\n"),
                                                           InfillFile(filename: "tmp", text: "Y = 2\n")], prompt: "    "))
        #expect(request.maxTokens == 24 && request.minimumIndent == 4 && request.predictTimeLimitSeconds == 0.25)
    }

    @Test("an infill request encodes to the message that decodes back to it")
    func roundTrip() throws {
        let request = try ClientRequest.decode(Data(socketInfillMessage.utf8))
        #expect(try ClientRequest.decode(request.encoded()) == request)
    }

    static let refusals: [(String, String)] = [
        (#"{"type":"complete","id":"a","input_prefix":"x"}"#, "input_suffix"),
        (#"{"type":"complete","id":"a","input_suffix":"x"}"#, "input_prefix"),
        (#"{"type":"complete","id":"a","input_prefix":"","input_suffix":"","n_indent":-1}"#, "n_indent"),
        (#"{"type":"complete","id":"a","input_prefix":"","input_suffix":"","input_extra":[{"filename":"f"}]}"#, "input_extra"),
    ]

    @Test("an incomplete infill message is refused naming the field", arguments: refusals)
    func refusal(json: String, parameter: String) {
        #expect { try ClientRequest.decode(Data(json.utf8)) } throws: { error in
            (error as? ClientAPIError)?.parameter == parameter
        }
    }

    @Test("over the socket, an infill request reaches the service as FIM and streams its tokens with provenance")
    func infillOverTheSocket() async throws {
        let service = ProvenanceEchoService()
        let replies = try await withSocketServer(service) { context, tcp, _ in
            try await exchange(context, endpoint: tcp, messages: [socketInfillMessage], until: endsRequest)
        }
        #expect(replies.count == 4)
        guard case .done("f1", let summary) = replies.last else {
            Issue.record("no done reply: \(replies)")
            return
        }
        #expect(summary.text == "    return a + b" && summary.provenance == ProvenanceEchoService.provenance)
        let received = await service.log.requests
        #expect(received.first?.infill?.suffix == "\n\nprint(add(1, 2))\n" && received.first?.minimumIndent == 4)
    }

    @Test("the Python client's infill reaches the server as a FIM request", .enabled(if: pythonHasZMQ))
    func pythonClientInfill() async throws {
        let service = ProvenanceEchoService()
        let script = """
            import sys
            sys.path.insert(0, sys.argv[1])
            from split_client import SplitClient
            with SplitClient(sys.argv[2], timeout=10) as client:
                print("".join(client.infill("def add(a, b):\\n", "\\n", n_indent=4, max_tokens=8)))
            """
        let (status, output) = try await withSocketServer(service) { _, _, ipc in
            try await runTool("/usr/bin/env", ["python3", "-c", script, pythonClientDirectory.path, ipc])
        }
        #expect(status == 0, "\(output)")
        #expect(output.contains("    return a + b"))
        let received = await service.log.requests
        #expect(received.first?.infill == InfillInput(prefix: "def add(a, b):\n", suffix: "\n") && received.first?.minimumIndent == 4)
    }
}
