#!/usr/bin/env python3
"""Plots of the robot control benchmark (BENCHMARKS.md, "Robot control").

    split-bench robot --path --quant-ratio 1 --quant-ratio 2 --json bench/robot/path.json \
        --trace-csv bench/robot/path-trace-d8.csv --trace-delay 8
    python3 tools/bench/plot_robot.py bench/robot --name path [--overlap 4]

Writes, in that folder (NAME = --name, reading NAME.json and NAME-trace-d8.csv):
  NAME-reaction-cdf-d8.png   reaction time CDF per mode at d = 8 (every disturbance of every seed),
                             solid r = 1, dashed r = 2 (VLASH's action_quant_ratio)
  NAME-metrics-vs-delay.png  completion time, reaction p50, errors and success against d
  NAME-error-d8.png          error over time per mode, second task (with --path: the path), seed 1, d = 8
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
    ap.add_argument("--name", default="path", help="reads NAME.json (and NAME-trace-d8.csv), writes NAME-*.png")
    ap.add_argument("--overlap", type=int)
    args = ap.parse_args()
    folder, name = args.folder, args.name
    data = json.load(open(os.path.join(folder, f"{name}.json")))
    overlap = args.overlap if args.overlap is not None else min(r["overlap_steps"] for r in data if r["mode"] in CYCLE)
    rows = [r for r in data if r["mode"] not in CYCLE or r["overlap_steps"] == overlap]
    modes = [m for m in MODES if any(r["mode"] == m for r in rows)]
    ratios = sorted({r["quant_ratio"] for r in rows})
    dashes = {1: "-", 2: "--", 3: ":"}
    second = "path" if name.startswith("path") else "course"

    fig, ax = plt.subplots(figsize=(8, 4.6))
    for ratio in ratios:
        for mode in modes:
            r = [x for x in rows if x["mode"] == mode and x["delay_steps"] == 8 and x["quant_ratio"] == ratio]
            if not r:
                continue
            samples = np.sort(np.array(r[0]["reaction_steps"], dtype=float))
            ax.step(samples / 30 * 1000, np.arange(1, len(samples) + 1) / len(samples), where="post", ls=dashes.get(ratio, "-."),
                    label=f"{mode} r={ratio} (p50 {np.percentile(samples, 50, method='inverted_cdf'):.0f} steps)",
                    color=COLORS[mode])
    ax.axvline(8 / 30 * 1000, color="gray", lw=0.8, ls=":")
    ax.set_xlabel("reaction time (ms): disturbance → first action that responds to it; dotted: d")
    ax.set_ylabel("fraction of disturbances")
    ax.set_title(f"Reaction time CDF, d = 8 steps (267 ms), H = 32 at 30 Hz, overlap {overlap}; tracking + {second}")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(folder, f"{name}-reaction-cdf-d8.png"), dpi=110)

    fig, axes = plt.subplots(1, 5, figsize=(20, 4))
    panels = [(f"{second} completion (s)", lambda r: value(r["completion_seconds"])),
              ("reaction p50 (steps)", lambda r: np.percentile(r["reaction_steps"], 50, method="inverted_cdf")
                                                 if r["reaction_steps"] else np.nan),
              (f"mean {second} error" + (" (from the path)" if second == "path" else " (from the waypoint)"),
               lambda r: r["course"]["mean_tracking_error"]),
              ("mean tracking error (tracking task)", lambda r: r["tracking"]["mean_tracking_error"]),
              ("success: jump reached within 4 s (%)", lambda r: 100 * r["tracking"]["success_rate"])]
    for ax, (title, get) in zip(axes, panels):
        for ratio in ratios:
            for mode in modes:
                r = sorted([x for x in rows if x["mode"] == mode and x["quant_ratio"] == ratio], key=lambda x: x["delay_steps"])
                ax.plot([x["delay_steps"] for x in r], [get(x) for x in r], marker="o", ls=dashes.get(ratio, "-."),
                        label=f"{mode} r={ratio}", color=COLORS[mode])
        ax.set_xlabel("inference delay d (steps at 30 Hz)")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Arm, H = 32 at 30 Hz, overlap {overlap}, tracking + {second}, pushes and target jumps at random times; "
                 "solid r = 1, dashed r = 2", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, f"{name}-metrics-vs-delay.png"), dpi=110)

    trace_path = os.path.join(folder, f"{name}-trace-d8.csv")
    written = [f"{name}-reaction-cdf-d8.png", f"{name}-metrics-vs-delay.png"]
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
        ax.set_xlabel("time (s); dotted: target jumps (path: waypoints reached, relocations), dashed: pushes")
        ax.set_ylabel("error (path: from the segment followed)")
        ax.set_title(f"Error over time, {'path' if second == 'path' else 'tracking task'}, d = 8 steps at 30 Hz, seed 1")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, f"{name}-error-d8.png"), dpi=110)
        written.append(f"{name}-error-d8.png")
    print("wrote", ", ".join(os.path.join(folder, w) for w in written))


if __name__ == "__main__":
    main()
