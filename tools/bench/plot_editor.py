#!/usr/bin/env python3
"""CDFs of /infill time to first token and to a full line, from `split-bench editor --json-out`.

Usage: plot_editor.py OUT.png RUN.json [RUN.json ...]

One row per run (its request shape, prompt layout and the model's context), one column per measure; one curve per
(strategy, prompt reuse): solid with reuse, dotted without. The dashed line is the target (TTFT:
1 RTT + 20 ms at the run's heartbeat RTT; full line: 300 ms).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def curves(run):
    """{(strategy, reuse): (ttft ms, full line ms)} of one run."""
    found = {}
    for sample in run["samples"]:
        exchange = sample["exchange"]
        first = exchange.get("first_text_seconds") or exchange["total_seconds"]
        series = found.setdefault((sample["strategy"], sample["reuse"]), ([], []))
        series[0].append(first * 1e3)
        series[1].append(exchange["line_seconds"] * 1e3)
    return found


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = [json.load(open(path)) for path in sys.argv[2:]]
    figure, axes = plt.subplots(len(runs), 2, figsize=(11, 3.4 * len(runs)), squeeze=False)
    for run, row in zip(runs, axes):
        colours = {}
        for (strategy, reuse), series in sorted(curves(run).items()):
            colour = colours.setdefault(strategy, f"C{len(colours)}")
            for axis, values in zip(row, series):
                values = sorted(values)
                fractions = [(i + 1) / len(values) for i in range(len(values))]
                axis.step(values, fractions, where="post", color=colour, linestyle="-" if reuse else ":",
                          label=f"{strategy}, {'reuse' if reuse else 'no reuse'}")
        row[0].axvline((run["round_trip_seconds"] + 0.020) * 1e3, color="gray", linestyle="--", linewidth=1)
        row[1].axvline(300, color="gray", linestyle="--", linewidth=1)
        title = f"{run.get('request_shape', 'whole-document')} requests, {run.get('layout', 'psm').upper()}"
        if "context_tokens" in run:
            title += f", context {run['context_tokens']}"
        row[0].set_title(f"{title}: time to first token", fontsize=10)
        row[1].set_title(f"{title}: time to a full line", fontsize=10)
        for axis in row:
            axis.set_ylabel("fraction of requests")
            axis.set_xscale("log")
            axis.grid(True, which="both", alpha=0.3)
        row[1].legend(fontsize=7, loc="lower right")
    axes[-1][0].set_xlabel("ms, at the client over HTTP")
    axes[-1][1].set_xlabel("ms, at the client over HTTP")
    figure.suptitle(f"split-bench editor: /infill at emulated RTT {runs[0]['round_trip_seconds'] * 1e3:.0f} ms")
    figure.tight_layout()
    figure.savefig(sys.argv[1], dpi=110)


if __name__ == "__main__":
    main()
