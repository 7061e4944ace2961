#!/usr/bin/env python3
"""CDFs of /infill time to first token and to a full line, from `split-bench editor --json-out`.

Usage: plot_editor.py editor.json OUT.png

One panel per measure; one curve per (strategy, prompt reuse). The dashed line is the target
(TTFT: 1 RTT + 20 ms at the run's heartbeat RTT; full line: 300 ms).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    run = json.load(open(sys.argv[1]))
    samples = run["samples"]
    rtt = run["round_trip_seconds"]
    curves = {}
    for sample in samples:
        exchange = sample["exchange"]
        first = exchange.get("first_text_seconds") or exchange["total_seconds"]
        key = (sample["strategy"], sample["reuse"])
        curves.setdefault(key, ([], []))
        curves[key][0].append(first * 1e3)
        curves[key][1].append(exchange["line_seconds"] * 1e3)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for (strategy, reuse), series in sorted(curves.items()):
        for axis, values in zip(axes, series):
            values = sorted(values)
            fractions = [(i + 1) / len(values) for i in range(len(values))]
            axis.step(values, fractions, where="post", linestyle="-" if reuse else ":",
                      label=f"{strategy}, {'reuse' if reuse else 'no reuse'}")
    axes[0].axvline((rtt + 0.020) * 1e3, color="gray", linestyle="--", linewidth=1)
    axes[1].axvline(300, color="gray", linestyle="--", linewidth=1)
    axes[0].set_xlabel("time to first token (ms, over HTTP)")
    axes[1].set_xlabel("time to a full line (ms)")
    for axis in axes:
        axis.set_ylabel("fraction of requests")
        axis.set_xscale("log")
        axis.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=8, loc="lower right")
    figure.suptitle(f"split-bench editor: /infill at emulated RTT {rtt * 1e3:.0f} ms")
    figure.tight_layout()
    figure.savefig(sys.argv[2], dpi=120)


if __name__ == "__main__":
    main()
