#!/usr/bin/env python3
"""Soak driver for a Split edge node: N concurrent clients for a set time, each looping over
completions (HTTP and socket API, greedy, so every answer must equal its reference) and robot
`act` requests (socket API; every chunk must equal its reference), while the RSS of the
daemons is sampled. Prints a JSON report; exits 1 on any failed or wrong request.

    soak.py --socket ipc:///tmp/e.sock --http http://127.0.0.1:8080 --pids 123,456 \
            --clients 64 --seconds 600 --rss-csv rss.csv
"""
import argparse
import json
import random
import threading
import time
import urllib.request
import uuid

import zmq

PROMPTS = [
    "def fibonacci(n):\n    ",
    "import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        ",
    "class Stack:\n    def __init__(self):\n        ",
    "def is_prime(n):\n    ",
    "for key, value in sorted(items.items()):\n    ",
    "    except ValueError as error:\n        ",
]
STATES = [([0.1 * i, -0.2, 0.05 * i, 0.0], [0.5 - 0.1 * i, 0.4]) for i in range(8)]
MAX_TOKENS = 24


class SocketClient:
    def __init__(self, context, endpoint, timeout):
        self.socket = context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)
        self.timeout = timeout

    def request(self, message):
        request_id = uuid.uuid4().hex
        message["id"] = request_id
        self.socket.send(json.dumps(message).encode())
        text = ""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if not self.socket.poll(int(max(1, (deadline - time.monotonic()) * 1000))):
                break
            reply = json.loads(self.socket.recv())
            if reply.get("id") != request_id:
                continue
            kind = reply.get("type")
            if kind == "token":
                text += reply.get("text", "")
            elif kind in ("done", "actions", "error", "status"):
                reply["streamed"] = text
                return reply
        return {"type": "error", "code": "client_timeout", "message": f"no answer in {self.timeout} s"}


def http_completion(base, prompt, timeout):
    body = json.dumps({"prompt": prompt, "max_tokens": MAX_TOKENS, "temperature": 0}).encode()
    request = urllib.request.Request(base + "/v1/completions", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())["choices"][0]["text"]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--http", required=True)
    parser.add_argument("--pids", required=True, help="name=pid,... of the daemons to sample")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--sample-seconds", type=float, default=10)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--rss-csv", default="soak-rss.csv")
    args = parser.parse_args()
    pids = dict(item.split("=") for item in args.pids.split(","))
    context = zmq.Context()

    # References: each prompt once, whole model on the edge (strategy local); each state once.
    reference = SocketClient(context, args.socket, args.timeout)
    expected_text = {}
    for prompt in PROMPTS:
        reply = reference.request({"type": "complete", "prompt": prompt, "max_tokens": MAX_TOKENS,
                                   "temperature": 0, "strategy": "local", "stream": False})
        assert reply["type"] == "done", reply
        expected_text[prompt] = reply["text"]
    expected_actions = {}
    for state, target in STATES:
        reply = reference.request({"type": "act", "state": state, "target": target})
        assert reply["type"] == "actions", reply
        expected_actions[json.dumps([state, target])] = reply["actions"]

    lock = threading.Lock()
    counts = {"completions_http": 0, "completions_socket": 0, "acts": 0}
    failures = []
    latencies = []
    stop_at = time.monotonic() + args.seconds

    def client(index):
        rng = random.Random(index)
        socket_client = SocketClient(context, args.socket, args.timeout)
        while time.monotonic() < stop_at:
            # A quarter act requests: the edge's policy queue (32 waiting + 2 running) then holds
            # every act request 64 clients can have outstanding, with a wide margin.
            kind = rng.choice(["http", "http", "http", "socket", "socket", "socket", "act", "act"])
            started = time.monotonic()
            try:
                if kind == "http":
                    prompt = rng.choice(PROMPTS)
                    text = http_completion(args.http, prompt, args.timeout)
                    ok, detail = text == expected_text[prompt], text
                elif kind == "socket":
                    prompt = rng.choice(PROMPTS)
                    reply = socket_client.request({"type": "complete", "prompt": prompt, "max_tokens": MAX_TOKENS,
                                                   "temperature": 0})
                    ok = reply["type"] == "done" and reply.get("text") == expected_text[prompt] == reply["streamed"]
                    detail = reply
                else:
                    state, target = rng.choice(STATES)
                    reply = socket_client.request({"type": "act", "state": state, "target": target})
                    ok = reply["type"] == "actions" and reply["actions"] == expected_actions[json.dumps([state, target])]
                    detail = reply
            except Exception as error:  # noqa: BLE001 - every failure is counted and shown
                ok, detail = False, repr(error)
            with lock:
                latencies.append(time.monotonic() - started)
                if ok:
                    counts["acts" if kind == "act" else "completions_" + kind] += 1
                else:
                    failures.append({"kind": kind, "detail": str(detail)[:300]})

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    samples = []
    with open(args.rss_csv, "w") as csv:
        csv.write("seconds," + ",".join(f"{name}_rss_kib" for name in pids) + ",requests_done\n")
        while any(thread.is_alive() for thread in threads):
            elapsed = time.monotonic() - started
            row = [rss_kib(pid) for pid in pids.values()]
            with lock:
                done = sum(counts.values())
            samples.append((elapsed, row))
            csv.write(f"{elapsed:.0f}," + ",".join(map(str, row)) + f",{done}\n")
            csv.flush()
            time.sleep(args.sample_seconds)
    for thread in threads:
        thread.join()

    names = list(pids)
    warm = [row for elapsed, row in samples if elapsed >= min(120, args.seconds / 5)]
    rss = {}
    for column, name in enumerate(names):
        series = [row[column] for row in (warm or [r for _, r in samples])]
        rss[name] = {"after_warmup_first_mib": round(series[0] / 1024, 1), "after_warmup_last_mib": round(series[-1] / 1024, 1),
                     "after_warmup_max_mib": round(max(series) / 1024, 1), "after_warmup_min_mib": round(min(series) / 1024, 1)}
    latencies.sort()
    report = {
        "clients": args.clients, "seconds": round(time.monotonic() - started, 1), **counts,
        "failed": len(failures), "first_failures": failures[:5],
        "latency_p50_s": round(latencies[len(latencies) // 2], 3) if latencies else None,
        "latency_p99_s": round(latencies[int(len(latencies) * 0.99)], 3) if latencies else None,
        "rss": rss,
    }
    print(json.dumps(report, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
