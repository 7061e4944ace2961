#!/usr/bin/env python3
"""Plot the selector's learning curve: mean latency over the oracle's, gap closed and top-1
accuracy on held-out task groups against the training history size, for the meta-learner and kNN,
with the single best strategy, the planner alone and random as flat references, and on the top-1
panel how often two halves of the measured runs agree on the oracle (the label's retest).

  python3 tools/bench/plot_selection.py bench-select-report.json docs/benchmarks/selection-learning-curve.png \
      [docs/benchmarks/selection-by-kind.png]
Reads the JSON `split-bench select --out` writes. With a third path and a report with both task
kinds, also a bar chart per kind (completion, robot action chunk) of every method's mean latency over
the oracle's, top-1 and top-1 or tied, with each kind's oracle label retest.
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
    groupings = sorted({r["grouping"] for r in report["rows"] if "/" not in r["grouping"]} - {"all"})
    figure.suptitle(f"Strategy selection on held-out groups ({', '.join(groupings)}), all task kinds")
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    print(f"wrote {target}")


def by_kind(source: str, target: str) -> None:
    report = json.loads(Path(source).read_text())["report"]
    kinds = [k for k in ("completion", "action-chunk") if any(r["grouping"] == f"all/{k}" for r in report["rows"])]
    if not kinds:
        print("no per-kind rows in the report")
        return
    methods = ["random", "single-best", "expert", "planner", "knn", "meta"]
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = [("ratioToOracle", "mean latency / oracle", 1.10), ("top1", "top-1 accuracy", 0.85),
              ("top1OrTied", "top-1 or tied with the oracle", None)]
    width = 0.8 / len(kinds)
    retest = report.get("labelRetestByKind") or {}
    for axis, (key, title, target_value) in zip(axes, panels):
        for index, kind in enumerate(kinds):
            rows = {r["method"]: r for r in report["rows"] if r["grouping"] == f"all/{kind}"}
            xs = [m + index * width for m in range(len(methods))]
            axis.bar(xs, [rows[m][key] if m in rows else 0 for m in methods], width, label=kind)
            if key == "top1" and kind in retest:
                axis.axhline(retest[kind], color=f"C{index}", linestyle="--", linewidth=1, label=f"{kind}: label retest")
        if target_value is not None:
            axis.axhline(target_value, color="black", linewidth=0.8, linestyle="-.", label="target")
        axis.set_xticks([m + width * (len(kinds) - 1) / 2 for m in range(len(methods))], methods, rotation=30, fontsize=8)
        if key == "ratioToOracle":
            axis.set_yscale("log")
        axis.set_title(title)
        axis.grid(alpha=0.3, axis="y")
    axes[1].legend(fontsize=7)
    figure.suptitle("Held-out groups pooled, per task kind (completion: split-code-7m; action chunk: split-robot-policy)")
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
    if len(sys.argv) > 3:
        by_kind(sys.argv[1], sys.argv[3])
