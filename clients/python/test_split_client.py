"""Tests for split_client against a stand-in edge node: a ROUTER socket in a thread that
answers as docs/CLIENT_API.md says the real one does.

    python3 -m unittest test_split_client
"""

import json
import os
import tempfile
import threading
import unittest

import zmq

from split_client import SplitClient, SplitError


class FakeEdgeNode:
    """Serves `complete` by streaming fixed words, `status` with a fixed status, and refuses
    max_tokens 0 the way the edge node does."""

    WORDS = ["Hello,", " world", "."]

    def __init__(self, context):
        self.endpoint = "ipc://" + os.path.join(tempfile.mkdtemp(), "edge.sock")
        self.socket = context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(self.endpoint)
        self.requests = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.stopping = False
        self.thread.start()

    def serve(self):
        while not self.stopping:
            if not self.socket.poll(50):
                continue
            envelope = self.socket.recv_multipart()
            request = json.loads(envelope[-1])
            self.requests.append(request)
            for reply in self.answer(request):
                self.socket.send_multipart(envelope[:-1] + [json.dumps(reply).encode()])

    def answer(self, request):
        rid = request.get("id")
        if request["type"] == "status":
            return [{"type": "status", "id": rid, "model": "fake", "ready": True, "cloud_connected": False,
                     "active_requests": 0, "uptime_seconds": 1.0}]
        if request.get("max_tokens") == 0:
            return [{"type": "error", "id": rid, "code": "invalid_request",
                     "message": "max_tokens must be between 1 and 4096, not 0", "param": "max_tokens"}]
        if request.get("prompt") == "no cloud":
            return [{"type": "error", "id": rid, "code": "cloud_unavailable", "message": "cloud unavailable: gone"}]
        tokens = [{"type": "token", "id": rid, "text": word, "tokens": [i]} for i, word in enumerate(self.WORDS)]
        done = {"type": "done", "id": rid, "text": "".join(self.WORDS), "finish_reason": "end_of_text",
                "prompt_tokens": 2, "completion_tokens": 3, "strategy": "local", "degraded": False,
                "time_to_first_token_seconds": 0.01, "total_seconds": 0.02}
        # A stale reply to an abandoned request must be skipped by the client.
        return [{"type": "token", "id": "stale", "text": "x", "tokens": []}] + tokens + [done]

    def stop(self):
        self.stopping = True
        self.thread.join()
        self.socket.close()


class SplitClientTests(unittest.TestCase):
    def setUp(self):
        self.context = zmq.Context()
        self.node = FakeEdgeNode(self.context)
        self.client = SplitClient(self.node.endpoint, timeout=5, context=self.context)

    def tearDown(self):
        self.client.close()
        self.node.stop()
        self.context.term()

    def test_complete_yields_pieces_then_keeps_the_summary(self):
        pieces = list(self.client.complete("say hi", max_tokens=8, stop="\n", temperature=0))
        self.assertEqual(pieces, FakeEdgeNode.WORDS)
        self.assertEqual(self.client.last_summary["text"], "Hello, world.")
        self.assertEqual(self.client.last_summary["finish_reason"], "end_of_text")
        sent = self.node.requests[-1]
        self.assertEqual(sent["type"], "complete")
        self.assertEqual(sent["stop"], ["\n"])
        self.assertEqual(sent["max_tokens"], 8)
        self.assertNotIn("seed", sent)

    def test_infill_sends_the_fim_fields(self):
        pieces = list(self.client.infill("def add(a, b):\n", "\nprint(add(1, 2))\n", prompt="    ",
                                         extra=[{"filename": "util.py", "text": "X = 1\n"}], n_indent=4, max_tokens=16))
        self.assertEqual(pieces, FakeEdgeNode.WORDS)
        sent = self.node.requests[-1]
        self.assertEqual((sent["type"], sent["input_prefix"], sent["input_suffix"], sent["prompt"]),
                         ("complete", "def add(a, b):\n", "\nprint(add(1, 2))\n", "    "))
        self.assertEqual(sent["input_extra"], [{"filename": "util.py", "text": "X = 1\n"}])
        self.assertEqual((sent["n_indent"], sent["max_tokens"]), (4, 16))
        self.assertNotIn("t_max_predict_ms", sent)

    def test_complete_text_joins_the_pieces(self):
        self.assertEqual(self.client.complete_text("say hi"), "Hello, world.")

    def test_error_reply_raises_with_code_and_field(self):
        with self.assertRaises(SplitError) as raised:
            list(self.client.complete("say hi", max_tokens=0))
        self.assertEqual(raised.exception.code, "invalid_request")
        self.assertEqual(raised.exception.param, "max_tokens")
        with self.assertRaises(SplitError) as raised:
            self.client.complete_text("no cloud")
        self.assertEqual(raised.exception.code, "cloud_unavailable")

    def test_status(self):
        status = self.client.status()
        self.assertEqual(status["model"], "fake")
        self.assertTrue(status["ready"])

    def test_timeout_when_nobody_answers(self):
        with SplitClient("ipc://" + os.path.join(tempfile.mkdtemp(), "nobody.sock"), timeout=0.2,
                         context=self.context) as lonely:
            with self.assertRaises(SplitError) as raised:
                lonely.status()
            self.assertEqual(raised.exception.code, "timeout")


if __name__ == "__main__":
    unittest.main()
