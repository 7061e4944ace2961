#!/usr/bin/env python3
"""Plot the selector's learning curve: mean latency over the oracle's, gap closed and top-1
accuracy on held-out task groups against the training history size, for the meta-learner and kNN,
with the single best strategy, the planner alone and random as flat references, and on the top-1
panel how often two halves of the measured runs agree on the oracle (the label's retest).

  python3 tools/bench/plot_selection.py bench-select-report.json docs/benchmarks/selection-learning-curve.png
Reads the JSON `edge-node bench-select --out` writes.
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source: str, target: str) -> None:
    report = json.loads(Path(source).read_text())["report"]
    curve = report["curve"]
    rows = {r["method"]: r for r in report["rows"] if r["grouping"] == "all"}
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = [("ratioToOracle", "mean latency / oracle", 1.10, "target ≤ 1.10"),
              ("gapClosed", "gap closed (single best → oracle)", 0.70, "target ≥ 0.70"),
              ("top1", "top-1 accuracy", 0.85, "target ≥ 0.85")]
    for axis, (key, title, target_value, target_label) in zip(axes, panels):
        for method, style in (("meta", "o-"), ("knn", "s--")):
            points = sorted((p for p in curve if p["method"] == method), key=lambda p: p["historyRecords"])
            xs = [max(p["historyRecords"], 1) for p in points]
            axis.plot(xs, [p[key] for p in points], style, label=method)
        for method, color in (("single-best", "tab:red"), ("planner", "tab:green"), ("random", "tab:gray")):
            if method in rows:
                axis.axhline(rows[method][key], color=color, linestyle=":", label=method)
        axis.axhline(target_value, color="black", linewidth=0.8, linestyle="-.", label=target_label)
        if key == "top1" and report.get("labelRetestAgreement") is not None:
            axis.axhline(report["labelRetestAgreement"], color="tab:purple", linestyle="--",
                         label="oracle label retest")
        axis.set_xscale("log")
        axis.set_xlabel("training history (records; 1 = cold start from the planner)")
        axis.set_title(title)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=8)
    groupings = sorted({r["grouping"] for r in report["rows"]} - {"all"})
    figure.suptitle(f"Strategy selection on held-out groups ({', '.join(groupings)}), split-code-7m")
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
