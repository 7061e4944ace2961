"""A small client for the Split edge node's ZeroMQ client API.

The edge node listens on a ROUTER socket (``ipc://`` or loopback ``tcp://``). This client
connects with a DEALER socket, sends one JSON object per message and reads one JSON object per
reply (see docs/CLIENT_API.md):

    from split_client import SplitClient

    with SplitClient("ipc:///tmp/split-edge.sock") as client:
        for piece in client.complete("def fib(n):", max_tokens=32, stop=["\\n\\n"]):
            print(piece, end="", flush=True)
        print(client.last_summary)
        print(client.status())

Only pyzmq is needed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Dict, Iterator, List, Optional, Union

import zmq

__all__ = ["SplitClient", "SplitError"]


class SplitError(Exception):
    """An ``error`` reply from the edge node (or a timeout), with its ``code`` and ``message``.

    ``code`` is one of the codes in docs/CLIENT_API.md (``invalid_request``,
    ``cloud_unavailable``, ``overloaded``, ...) or ``timeout`` when no reply came in time.
    """

    def __init__(self, code: str, message: str, param: Optional[str] = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.param = param


class SplitClient:
    """A connection to one edge node. Not thread-safe: use one client per thread."""

    def __init__(self, endpoint: str = "ipc:///tmp/split-edge.sock", timeout: float = 60.0,
                 context: Optional[zmq.Context] = None):
        """Connects to ``endpoint`` (``ipc://path`` or ``tcp://127.0.0.1:port``).

        ``timeout`` is how many seconds to wait for each reply before raising
        ``SplitError("timeout", ...)``.
        """
        self.endpoint = endpoint
        self.timeout = timeout
        self._context = context or zmq.Context.instance()
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.connect(endpoint)
        self.last_summary: Optional[Dict[str, Any]] = None

    def close(self) -> None:
        """Closes the socket; the client cannot be used afterwards."""
        self._socket.close()

    def __enter__(self) -> "SplitClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def complete(self, prompt: str, max_tokens: Optional[int] = None, temperature: Optional[float] = None,
                 top_k: Optional[int] = None, top_p: Optional[float] = None, seed: Optional[int] = None,
                 stop: Union[str, List[str], None] = None, strategy: Optional[str] = None,
                 allow_degraded: Optional[bool] = None) -> Iterator[str]:
        """Runs a completion and yields its text piece by piece as the edge node streams it.

        Fields left as None take the server's defaults (64 tokens, greedy). When the
        iteration ends, ``self.last_summary`` holds the ``done`` reply (whole text, token
        counts, finish reason, strategy, whether the answer was degraded, timings).
        Raises ``SplitError`` for an ``error`` reply or a timeout.
        """
        optional = {"max_tokens": max_tokens, "temperature": temperature, "top_k": top_k, "top_p": top_p,
                    "seed": seed, "stop": [stop] if isinstance(stop, str) else stop, "strategy": strategy,
                    "allow_degraded": allow_degraded}
        return self._run({"prompt": prompt, **optional})

    def infill(self, prefix: str, suffix: str, prompt: str = "", extra: Optional[List[Dict[str, str]]] = None,
               n_indent: Optional[int] = None, t_max_predict_ms: Optional[int] = None, **options: Any) -> Iterator[str]:
        """Fills in the middle between ``prefix`` and ``suffix`` (the code before and after the
        cursor) and yields the text piece by piece, as ``complete`` does. ``prompt`` is the text
        typed at the cursor, ``extra`` other files as ``[{"filename": ..., "text": ...}]``;
        ``n_indent`` and ``t_max_predict_ms`` are llama.cpp's line rules; ``options`` are
        ``complete``'s. The model must have FIM tokens (else ``SplitError`` "unsupported").
        """
        fields = {"input_prefix": prefix, "input_suffix": suffix, "prompt": prompt, "input_extra": extra,
                  "n_indent": n_indent, "t_max_predict_ms": t_max_predict_ms, **options}
        if isinstance(fields.get("stop"), str):
            fields["stop"] = [fields["stop"]]
        return self._run(fields)

    def _run(self, fields: Dict[str, Any]) -> Iterator[str]:
        """Sends a ``complete`` request with ``fields`` (None values left out) and yields its text."""
        request_id = uuid.uuid4().hex
        message: Dict[str, Any] = {"type": "complete", "id": request_id, "stream": True}
        message.update({key: value for key, value in fields.items() if value is not None})
        self.last_summary = None
        self._send(message)
        while True:
            reply = self._receive(request_id)
            kind = reply.get("type")
            if kind == "token":
                yield reply.get("text", "")
            elif kind == "done":
                self.last_summary = reply
                return
            elif kind == "error":
                raise SplitError(reply.get("code", "internal_error"), reply.get("message", ""), reply.get("param"))

    def complete_text(self, prompt: str, **options: Any) -> str:
        """Runs a completion and returns its whole text (see ``complete`` for the options)."""
        return "".join(self.complete(prompt, **options))

    def status(self) -> Dict[str, Any]:
        """Asks the edge node how it is: model, ready, cloud connection, active requests, uptime."""
        request_id = uuid.uuid4().hex
        self._send({"type": "status", "id": request_id})
        reply = self._receive(request_id)
        if reply.get("type") == "error":
            raise SplitError(reply.get("code", "internal_error"), reply.get("message", ""), reply.get("param"))
        return reply

    def _send(self, message: Dict[str, Any]) -> None:
        self._socket.send(json.dumps(message).encode("utf-8"))

    def _receive(self, request_id: str) -> Dict[str, Any]:
        """The next reply for ``request_id``; replies to other (abandoned) requests are skipped.

        An error reply without an id answers a request the node could not read, which can only
        be the one in flight, so it is returned too.
        """
        while True:
            if not self._socket.poll(int(self.timeout * 1000)):
                raise SplitError("timeout", f"no reply from {self.endpoint} within {self.timeout} s")
            frames = self._socket.recv_multipart()
            try:
                reply = json.loads(frames[-1].decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as error:
                raise SplitError("invalid_json", f"unreadable reply from {self.endpoint}: {error}") from error
            if not isinstance(reply, dict):
                raise SplitError("invalid_json", f"reply from {self.endpoint} is not a JSON object")
            if reply.get("id") == request_id or (reply.get("type") == "error" and reply.get("id") is None):
                return reply
