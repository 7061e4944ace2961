"""Asks a Split edge node's OpenAI-compatible HTTP endpoint for a completion, whole and then
streamed, with nothing but the standard library.

    python3 http_example.py [base-url] [prompt]

The base URL defaults to http://127.0.0.1:8080.
"""

import json
import sys
import urllib.error
import urllib.request


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    return urllib.request.urlopen(request, timeout=60)


def main() -> int:
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
    prompt = sys.argv[2] if len(sys.argv) > 2 else "def fibonacci(n):"
    body = {"model": "split", "prompt": prompt, "max_tokens": 48, "temperature": 0, "stop": ["\n\n"]}
    try:
        with urllib.request.urlopen(base + "/v1/models", timeout=10) as response:
            models = json.load(response)
        print("models:", [model["id"] for model in models["data"]])

        with post(base + "/v1/completions", body) as response:
            completion = json.load(response)
        print("whole:", repr(completion["choices"][0]["text"]), completion["usage"], completion["split"])

        print("streamed: ", end="", flush=True)
        with post(base + "/v1/completions", dict(body, stream=True)) as response:
            for line in response:  # server-sent events: "data: {...}" lines, blank lines between
                line = line.decode("utf-8").strip()
                if not line.startswith("data: "):
                    continue
                data = line[len("data: "):]
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    print(f"\nerror: {chunk['error']['message']}", file=sys.stderr)
                    return 1
                print(chunk["choices"][0]["text"], end="", flush=True)
        print()
    except urllib.error.HTTPError as error:
        detail = json.load(error).get("error", {})
        print(f"error {error.code}: {detail.get('message')}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"cannot reach {base}: {error.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
