#!/usr/bin/env python3
"""Plots of the robot control benchmark (BENCHMARKS.md, "Robot control").

    split-bench robot --path --quant-ratio 1 --quant-ratio 2 --json bench/robot/path.json \
        --trace-csv bench/robot/path-trace-d8.csv --trace-delay 8
    python3 tools/bench/plot_robot.py bench/robot --name path [--overlap adaptive] [--action-steps adaptive]

Writes, in that folder (NAME = --name, reading NAME.json and NAME-trace-d8.csv):
  NAME-reaction-cdf-d8.png   reaction time CDF per mode at d = 8 (every disturbance of every seed),
                             solid r = 1, dashed r = 2 (VLASH's action_quant_ratio)
  NAME-metrics-vs-delay.png  completion time, reaction p50, errors and success against d
  NAME-error-d8.png          error over time per mode, second task (with --path: the path), seed 1, d = 8
  NAME-error-by-overlap.png  (with more than one overlap) naive and future-state async's errors against d at each
                             overlap, and their seed-by-seed difference naive - future (mean +- standard error)
  NAME-error-by-action-steps.png  the same at each n_action_steps (VLASH's actions run per chunk)
The other plots draw every mode at one n_action_steps (--action-steps, default adaptive if run, else the
first; sync also at whole chunks, grey, when that differs) and the async modes of VLASH's cycle at one
overlap (--overlap, default adaptive if run, else the smallest).
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


def overlap_order(overlap):
    return (1, overlap) if not overlap.isdigit() else (0, int(overlap))


def steps_of(row):
    """A row's n_action_steps as written ("32", "adaptive"); "all" (whole chunks) when absent."""
    return row.get("action_steps", "all")


def whole_chunks(row):
    return steps_of(row) in ("all", "32")


def paired(naive, future):
    """Mean and standard error of naive - future over the seeds."""
    d = np.array(naive, dtype=float) - np.array(future, dtype=float)
    return d.mean(), (d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0)


def plot_paired(data, key, values, describe, ratios, folder, name, second, suffix, title):
    """Naive and future-state async's errors against d at each value of `key` (overlap or n_action_steps),
    and their seed-by-seed difference naive - future."""
    colors = dict(zip(values, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:gray"]))
    fig, axes = plt.subplots(len(ratios), 4, figsize=(20, 4 * len(ratios)), squeeze=False)
    for row, ratio in enumerate(ratios):
        for col, (task, seeds, label) in enumerate([("tracking", "tracking_error_per_seed", "tracking task error"),
                                                    ("course", "course_error_per_seed", f"{second} error")]):
            absolute, difference = axes[row][col], axes[row][col + 2]
            for v in values:
                pick = lambda mode: sorted([x for x in data if x["mode"] == mode and key(x) == v
                                            and x["quant_ratio"] == ratio], key=lambda x: x["delay_steps"])
                naive, future = pick("naive-async"), pick("future-state-async")
                if not naive or not future:
                    continue
                ds = [x["delay_steps"] for x in future]
                absolute.plot(ds, [x[task]["mean_tracking_error"] for x in future], marker="o", color=colors[v],
                              label=f"future-state, {describe} {v}")
                absolute.plot(ds, [x[task]["mean_tracking_error"] for x in naive], marker="x", ls="--", color=colors[v],
                              label=f"naive, {describe} {v}")
                stats = [paired(n[seeds], f[seeds]) for n, f in zip(naive, future)]
                difference.errorbar(np.array(ds) + 0.25 * values.index(v), [m for m, _ in stats], yerr=[e for _, e in stats],
                                    marker="o", capsize=3, color=colors[v], label=f"{describe} {v}")
            absolute.set_title(f"r = {ratio}: mean {label} (solid future-state, dashed naive)", fontsize=9)
            difference.axhline(0, color="black", lw=0.8)
            difference.set_title(f"r = {ratio}: {label}, naive - future per seed (> 0: future lower)", fontsize=9)
            for ax in (absolute, difference):
                ax.set_xlabel("inference delay d (steps at 30 Hz)")
        axes[row][0].legend(fontsize=6)
        axes[row][2].legend(fontsize=7)
    n = len(data[0]["tracking_error_per_seed"])
    fig.suptitle(f"Future-state against naive async in VLASH's cycle {title}, {n} seeds, tracking + {second}", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, f"{name}-error-by-{suffix}.png"), dpi=100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default="bench/robot")
    ap.add_argument("--name", default="path", help="reads NAME.json (and NAME-trace-d8.csv), writes NAME-*.png")
    ap.add_argument("--overlap")
    ap.add_argument("--action-steps")
    args = ap.parse_args()
    folder, name = args.folder, args.name
    data = json.load(open(os.path.join(folder, f"{name}.json")))
    all_steps = list(dict.fromkeys(steps_of(r) for r in data))
    chosen = args.action_steps or ("adaptive" if "adaptive" in all_steps else all_steps[0])
    overlaps = sorted({r["overlap"] for r in data if r["mode"] in CYCLE}, key=overlap_order)
    overlap = args.overlap if args.overlap is not None else ("adaptive" if "adaptive" in overlaps else overlaps[0])
    at_overlap = [r for r in data if r["mode"] not in CYCLE or r["overlap"] == overlap]
    rows = [r for r in at_overlap if steps_of(r) == chosen]
    # Sync at whole chunks is the baseline of the targets: drawn too when the chosen n differs.
    whole_sync = [] if whole_chunks({"action_steps": chosen}) else [r for r in at_overlap if r["mode"] == "sync" and whole_chunks(r)]
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
        for r in [x for x in whole_sync if x["delay_steps"] == 8 and x["quant_ratio"] == ratio]:
            samples = np.sort(np.array(r["reaction_steps"], dtype=float))
            ax.step(samples / 30 * 1000, np.arange(1, len(samples) + 1) / len(samples), where="post", ls=dashes.get(ratio, "-."),
                    label=f"sync, whole chunks, r={ratio} (p50 {np.percentile(samples, 50, method='inverted_cdf'):.0f} steps)",
                    color="tab:gray")
    ax.axvline(8 / 30 * 1000, color="gray", lw=0.8, ls=":")
    ax.set_xlabel("reaction time (ms): disturbance → first action that responds to it; dotted: d")
    ax.set_ylabel("fraction of disturbances")
    ax.set_title(f"Reaction time CDF, d = 8 steps (267 ms), H = 32 at 30 Hz, overlap {overlap}, n_action_steps {chosen}; "
                 f"tracking + {second}", fontsize=9)
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
            r = sorted([x for x in whole_sync if x["quant_ratio"] == ratio], key=lambda x: x["delay_steps"])
            if r:
                ax.plot([x["delay_steps"] for x in r], [get(x) for x in r], marker=".", ls=dashes.get(ratio, "-."),
                        label=f"sync, whole chunks, r={ratio}", color="tab:gray")
        ax.set_xlabel("inference delay d (steps at 30 Hz)")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Arm, H = 32 at 30 Hz, overlap {overlap}, n_action_steps {chosen}, tracking + {second}, pushes and target jumps at random times; "
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
    if len(overlaps) > 1:
        plot_paired([r for r in data if steps_of(r) == chosen], lambda r: r["overlap"], overlaps, "overlap", ratios, folder, name,
                    second, "overlap", f"at each overlap ('adaptive': max(4, measured delay)), n_action_steps {chosen}")
        written.append(f"{name}-error-by-overlap.png")
    if len(all_steps) > 1:
        plot_paired([r for r in data if r["mode"] not in CYCLE or r["overlap"] == overlap], steps_of, all_steps, "n", ratios,
                    folder, name, second, "action-steps",
                    f"at each n_action_steps ('adaptive': half the chunk, or the measured delay if longer), overlap {overlap}")
        written.append(f"{name}-error-by-action-steps.png")
    print("wrote", ", ".join(os.path.join(folder, w) for w in written))


if __name__ == "__main__":
    main()
