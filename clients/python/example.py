"""Streams a completion from a local Split edge node over its ZeroMQ client API.

    python3 example.py [endpoint] [prompt]

The endpoint defaults to ipc:///tmp/split-edge.sock (see `edge-node serve --help`).
"""

import sys

from split_client import SplitClient, SplitError


def main() -> int:
    endpoint = sys.argv[1] if len(sys.argv) > 1 else "ipc:///tmp/split-edge.sock"
    prompt = sys.argv[2] if len(sys.argv) > 2 else "def fibonacci(n):"
    with SplitClient(endpoint, timeout=30) as client:
        try:
            status = client.status()
            print(f"# {status.get('model')} ready={status.get('ready')} cloud={status.get('cloud_connected')}")
            print(prompt, end="", flush=True)
            for piece in client.complete(prompt, max_tokens=48, stop=["\n\n"], allow_degraded=True):
                print(piece, end="", flush=True)
            print()
            summary = client.last_summary or {}
            print(f"# {summary.get('completion_tokens')} tokens by {summary.get('strategy')}"
                  f"{' (degraded: edge only)' if summary.get('degraded') else ''}"
                  f" in {summary.get('total_seconds', 0):.3f} s, finish: {summary.get('finish_reason')}")
        except SplitError as error:
            print(f"\nerror: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
