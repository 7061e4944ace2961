#!/usr/bin/env python3
"""Aggregate tokens/s of one cloud node against concurrent sessions, from `split-bench cloud-load --json`.

Usage: plot_cloud_batching.py OUT.png LABEL=bench.json [LABEL=bench.json ...]

Prints a Markdown table of every file's rows (ratios against that file's 1-session batching-on
row) and draws tokens/s against sessions, one line per file and batching mode.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    if len(sys.argv) < 3 or any("=" not in arg for arg in sys.argv[2:]):
        sys.exit(__doc__)
    out = sys.argv[1]
    runs = [(label, json.load(open(path))) for label, path in (arg.split("=", 1) for arg in sys.argv[2:])]
    print("| code | sessions | batching | aggregate tok/s | vs 1 session | step p50 ms | step p99 ms | decode rows per pass |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    figure, axis = plt.subplots(figsize=(6.4, 4.2))
    for label, rows in runs:
        single = next((r["aggregateTokensPerSecond"] for r in rows if r["sessions"] == 1 and r["batching"]), None)
        for row in rows:
            ratio = f"{row['aggregateTokensPerSecond'] / single:.2f}x" if single else "-"
            decode_rows = row.get("decodeRowsPerPass")
            print(f"| {label} | {row['sessions']} | {'on' if row['batching'] else 'off'} "
                  f"| {row['aggregateTokensPerSecond']:.1f} | {ratio} | {row['stepP50Milliseconds']:.1f} "
                  f"| {row['stepP99Milliseconds']:.1f} | {'-' if decode_rows is None else f'{decode_rows:.1f}'} |")
        for batching in (True, False):
            points = sorted((r["sessions"], r["aggregateTokensPerSecond"]) for r in rows if r["batching"] == batching)
            if points:
                axis.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                          linestyle="-" if batching else ":", label=f"{label}, batching {'on' if batching else 'off'}")
    axis.set_xscale("log", base=2)
    axis.set_xticks([1, 4, 16, 64], labels=["1", "4", "16", "64"])
    axis.set_xlabel("concurrent edge sessions")
    axis.set_ylabel("aggregate decode tokens/s")
    axis.set_title("One cloud node, SmolLM2-135M shape (f16), split at layer 15 of 30")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=120)


if __name__ == "__main__":
    main()
