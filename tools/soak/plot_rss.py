#!/usr/bin/env python3
"""Plots the RSS samples of soak runs (the CSV scripts/soak.sh writes) side by side.

    plot_rss.py OUT.png LABEL=rss.csv [LABEL=rss.csv ...]
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    out, runs = sys.argv[1], [arg.split("=", 1) for arg in sys.argv[2:]]
    figure, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 4), sharey=True, squeeze=False)
    for axis, (label, path) in zip(axes[0], runs):
        with open(path) as handle:
            rows = list(csv.DictReader(handle))
        seconds = [float(row["seconds"]) for row in rows]
        for column in rows[0]:
            if column.endswith("_rss_kib"):
                axis.plot(seconds, [int(row[column]) / 1024 for row in rows], label=column[: -len("_rss_kib")])
        axis.set_title(label)
        axis.set_xlabel("seconds")
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel("RSS (MiB)")
    axes[0][-1].legend()
    figure.tight_layout()
    figure.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
