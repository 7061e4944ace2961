#!/usr/bin/env python3
"""Plots of the robot control benchmark (BENCHMARKS.md, "Robot control").

    split-bench robot --json bench/robot/sim.json --trace-csv bench/robot/trace-d8.csv --trace-delay 8
    python3 tools/bench/plot_robot.py bench/robot [--overlap 4]

Writes, in that folder:
  reaction-cdf-d8.png      reaction time CDF per mode at d = 8 (every disturbance of every seed)
  metrics-vs-delay.png     course completion time, reaction p50, tracking error and success against d
  tracking-d8.png          tracking error over time per mode, tracking task, seed 1, d = 8
The async modes of VLASH's cycle are drawn at one overlap (--overlap, default the smallest).
"""
import argparse
import csv
import json
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

MODES = ["sync", "naive-async", "future-state-async", "rtc-blend", "future-state-every-4"]
COLORS = {"sync": "tab:red", "naive-async": "tab:orange", "future-state-async": "tab:blue", "rtc-blend": "tab:green",
          "future-state-every-4": "tab:purple"}
CYCLE = {"naive-async", "future-state-async", "rtc-blend"}


def value(x):
    return float(x) if not isinstance(x, str) else float("inf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default="bench/robot")
    ap.add_argument("--overlap", type=int)
    args = ap.parse_args()
    folder = args.folder
    data = json.load(open(os.path.join(folder, "sim.json")))
    overlap = args.overlap if args.overlap is not None else min(r["overlap_steps"] for r in data if r["mode"] in CYCLE)
    rows = [r for r in data if r["mode"] not in CYCLE or r["overlap_steps"] == overlap]
    modes = [m for m in MODES if any(r["mode"] == m for r in rows)]

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for mode in modes:
        r = [x for x in rows if x["mode"] == mode and x["delay_steps"] == 8]
        if not r:
            continue
        samples = np.sort(np.array(r[0]["reaction_steps"], dtype=float))
        ax.step(samples / 30 * 1000, np.arange(1, len(samples) + 1) / len(samples), where="post",
                label=f"{mode} (p50 {np.percentile(samples, 50, method='inverted_cdf'):.0f} steps)", color=COLORS[mode])
    ax.axvline(8 / 30 * 1000, color="gray", lw=0.8, ls=":")
    ax.set_xlabel("reaction time (ms): disturbance → first action that responds to it; dotted: d")
    ax.set_ylabel("fraction of disturbances")
    ax.set_title(f"Reaction time CDF, d = 8 steps (267 ms), H = 32 at 30 Hz, overlap {overlap}")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "reaction-cdf-d8.png"), dpi=110)

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    panels = [("course completion (s)", lambda r: value(r["completion_seconds"])),
              ("reaction p50 (steps)", lambda r: np.percentile(r["reaction_steps"], 50, method="inverted_cdf")),
              ("mean tracking error", lambda r: r["tracking"]["mean_tracking_error"]),
              ("success within 2 s (%)", lambda r: 100 * r["tracking"]["success_rate"])]
    for ax, (title, get) in zip(axes, panels):
        for mode in modes:
            r = sorted([x for x in rows if x["mode"] == mode], key=lambda x: x["delay_steps"])
            ax.plot([x["delay_steps"] for x in r], [get(x) for x in r], marker="o", label=mode, color=COLORS[mode])
        ax.set_xlabel("inference delay d (steps at 30 Hz)")
        ax.set_title(title)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"H = 32 at 30 Hz, overlap {overlap}, pushes and target jumps at random times", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "metrics-vs-delay.png"), dpi=110)

    trace_path = os.path.join(folder, "trace-d8.csv")
    written = ["reaction-cdf-d8.png", "metrics-vs-delay.png"]
    if os.path.exists(trace_path):
        steps = list(csv.DictReader(open(trace_path)))
        fig, ax = plt.subplots(figsize=(11, 4))
        for mode in modes:
            r = [x for x in steps if x["mode"] == mode]
            ax.plot([int(x["step"]) / 30 for x in r], [float(x["error"]) for x in r], label=mode, color=COLORS[mode], lw=1)
        first = [x for x in steps if x["mode"] == modes[0]]
        for x in first:
            if x["jumped"] == "1":
                ax.axvline(int(x["step"]) / 30, color="gray", lw=0.5, ls=":")
            if x["pushed"] == "1":
                ax.axvline(int(x["step"]) / 30, color="black", lw=0.5, ls="--")
        ax.set_xlabel("time (s); dotted: target jumps, dashed: pushes")
        ax.set_ylabel("distance robot–target")
        ax.set_title("Tracking error, d = 8 steps at 30 Hz, seed 1")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "tracking-d8.png"), dpi=110)
        written.append("tracking-d8.png")
    print("wrote", ", ".join(os.path.join(folder, w) for w in written))


if __name__ == "__main__":
    main()
