#!/usr/bin/env python3
"""Plot train-exits' effect: exit agreement per layer (from `edge-node train-exits --report`)
and split-spec's accepted drafts and end-to-end tok/s over split(k) at the same k and 40 ms (from
`split-bench exit --exits … --json`; a file may hold several k), with the shared head and with
trained heads, per model, against the 2.5x target.

  python3 tools/bench/plot_exit_heads.py OUT.png NAME REPORT.json BENCH.json [NAME REPORT.json BENCH.json ...]
"""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    out, rest = sys.argv[1], sys.argv[2:]
    models = [rest[i:i + 3] for i in range(0, len(rest), 3)]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    labels, before, after = [], [], []
    spec_labels, spec_before, spec_after, speed_before, speed_after = [], [], [], [], []
    for name, report_path, bench_path in models:
        report = json.load(open(report_path))
        for layer in report["layers"]:
            labels.append(f"{name}\nlayer {layer['layer']}")
            before.append(100 * layer["agreementBefore"])
            after.append(100 * layer["agreementAfter"])
        rows = json.load(open(bench_path))
        for row in rows:
            s = row["strategy"]
            if s.startswith("split-spec") and "+heads" not in s:  # "+heads2": a second sidecar, not plotted
                k = s.split("(")[1].split(",")[0]
                base = next(r for r in rows if r["strategy"].startswith(f"split({k},"))
                trained = next(r for r in rows if r["strategy"] == s + "+heads")
                spec_labels.append(f"{name}\n{s.split('(')[1].split(',f32')[0].replace('gamma=', 'γ=').replace(',adaptive', ' ad.')}")
                spec_before.append(100 * row["acceptance_rate"])
                spec_after.append(100 * trained["acceptance_rate"])
                speed_before.append(row["tokens_per_second"] / base["tokens_per_second"])
                speed_after.append(trained["tokens_per_second"] / base["tokens_per_second"])
    width = 0.38
    xs = range(len(labels))
    axes[0].bar([x - width / 2 for x in xs], before, width, label="shared head")
    axes[0].bar([x + width / 2 for x in xs], after, width, label="trained head")
    axes[0].set_xticks(list(xs), labels, fontsize=8)
    axes[0].set_ylabel("greedy agreement with the full model (%)")
    axes[0].set_title("exit agreement, held-out positions")
    axes[0].legend()
    xs = range(len(spec_labels))
    axes[1].bar([x - width / 2 for x in xs], spec_before, width, label="accepted drafts, shared head")
    axes[1].bar([x + width / 2 for x in xs], spec_after, width, label="accepted drafts, trained head")
    axes[1].set_xticks(list(xs), spec_labels, fontsize=8)
    axes[1].set_ylabel("accepted drafts (%)")
    twin = axes[1].twinx()
    twin.plot(list(xs), speed_before, "o", color="black", label="end-to-end tok/s ÷ split(k), shared")
    twin.plot(list(xs), speed_after, "s", color="red", label="end-to-end tok/s ÷ split(k), trained")
    twin.axhline(2.5, color="grey", linestyle=":", label="target 2.5x")
    twin.set_ylabel("end-to-end tok/s over split(k) at 40 ms")
    twin.set_ylim(0, max(speed_before + speed_after + [2.5]) * 1.3)
    axes[1].set_title("split-spec at 40 ms RTT")
    axes[1].legend(loc="upper left", fontsize=7)
    twin.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
