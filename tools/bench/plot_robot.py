#!/usr/bin/env python3
"""Plots of the robot control benchmark (BENCHMARKS.md, "Robot control").

    split-bench robot --json bench/robot/sim.json --trace-csv bench/robot/trace-d8.csv --trace-delay 8
    python3 tools/bench/plot_robot.py bench/robot

Writes bench/robot/tracking-d8.png (tracking error over time, the three modes, tracking task,
seed 1, d = 8) and bench/robot/metrics-vs-delay.png (course time, reaction latency, tracking
error and success against d).
"""
import csv
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MODES = ["sync", "naive-async", "future-state-async"]
COLORS = {"sync": "tab:red", "naive-async": "tab:orange", "future-state-async": "tab:blue"}


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "bench/robot"
    rows = list(csv.DictReader(open(os.path.join(folder, "trace-d8.csv"))))
    fig, ax = plt.subplots(figsize=(10, 4))
    for mode in MODES:
        r = [x for x in rows if x["mode"] == mode]
        ax.plot([int(x["step"]) / 30 for x in r], [float(x["error"]) for x in r], label=mode, color=COLORS[mode], lw=1)
    jumps = [int(x["step"]) / 30 for x in rows if x["mode"] == "sync" and x["jumped"] == "1"]
    for j in jumps:
        ax.axvline(j, color="gray", lw=0.5, ls=":")
    ax.set_xlabel("time (s); dotted: target jumps")
    ax.set_ylabel("distance robot–target")
    ax.set_title("Tracking error, inference delay d = 8 steps (267 ms) at 30 Hz, seed 1")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "tracking-d8.png"), dpi=110)

    data = json.load(open(os.path.join(folder, "sim.json")))
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    panels = [("course completion (s)", lambda r: float(r["completion_seconds"])),
              ("mean reaction (steps)", lambda r: r["tracking"]["mean_reaction_steps"]),
              ("mean tracking error", lambda r: r["tracking"]["mean_tracking_error"]),
              ("success rate (%)", lambda r: 100 * r["tracking"]["success_rate"])]
    for ax, (title, value) in zip(axes, panels):
        for mode in MODES:
            r = sorted([x for x in data if x["mode"] == mode], key=lambda x: x["delay_steps"])
            ax.plot([x["delay_steps"] for x in r], [value(x) for x in r], marker="o", label=mode, color=COLORS[mode])
        ax.set_xlabel("inference delay d (steps)")
        ax.set_title(title)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "metrics-vs-delay.png"), dpi=110)
    print("wrote", os.path.join(folder, "tracking-d8.png"), os.path.join(folder, "metrics-vs-delay.png"))


if __name__ == "__main__":
    main()
