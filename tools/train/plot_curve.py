#!/usr/bin/env python3
"""Plot the held-out learning curve of a training run from its train.log.

Reads the periodic `eval step N valid_loss L acc A ...` lines (train.py's quick_eval: 32 windows
of 256 held-out tokens spread over valid.bin) and the token count of the preceding `step` line,
and plots full-model held-out top-1 and loss against training tokens (log scale), marking
session boundaries (`resumed` lines); for a --fim-rate run (linear scale) also top-1 and loss on
the middle tokens of held-out FIM samples. Writes a PNG (default models/eval/learning_curve.png).
"""
import argparse
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse(path):
    tokens, points, resumes = 0, [], []
    for line in open(path):
        m = re.search(r" step (\d+) ep \d+ loss .* tokens (\d+)", line)
        if m:
            tokens = int(m.group(2))
            continue
        m = re.search(r"eval step (\d+) valid_loss ([\d.]+) acc ([\d.]+)", line)
        if m:
            f = re.search(r"fim_middle_loss ([\d.]+) fim_middle_acc ([\d.]+)", line)
            points.append((tokens, float(m.group(2)), float(m.group(3)))
                          + ((float(f.group(1)), float(f.group(2))) if f else ()))
            continue
        m = re.search(r"resumed from .* tokens (\d+)", line)
        if m:
            resumes.append(int(m.group(1)))
    return points, resumes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", default="/work/train-runs/code/train.log")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "eval", "learning_curve.png"))
    ap.add_argument("--title", default="split-code-7m: quick held-out eval during training (dotted: resumes)")
    args = ap.parse_args()
    points, resumes = parse(args.log)
    if not points:
        raise SystemExit(f"no eval lines in {args.log}")
    t = [p[0] / 1e6 for p in points]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    fim_run = all(len(p) == 5 for p in points)
    ax[0].plot(t, [p[2] * 100 for p in points], "o-", label="next token")
    ax[1].plot(t, [p[1] for p in points], "o-", label="next token")
    if fim_run:  # a --fim-rate run also reports the middles of held-out FIM samples
        ax[0].plot(t, [p[4] * 100 for p in points], "s-", label="FIM middle tokens")
        ax[1].plot(t, [p[3] for p in points], "s-", label="FIM middle tokens")
    else:
        ax[0].axhline(50, color="r", ls="--", label="issue-3 floor (50%)")
    ax[0].set_ylabel("held-out top-1 (%)")
    ax[1].set_ylabel("held-out loss (nats)")
    for a in ax:
        a.set_xscale("linear" if fim_run else "log")
        a.set_xlabel("training tokens (millions" + (")" if fim_run else ", log)"))
        a.grid(alpha=0.3)
        for r in resumes:
            a.axvline(r / 1e6, color="gray", lw=0.6, ls=":")
    ax[0].legend()
    ax[1].legend()
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out} ({len(points)} points)")


if __name__ == "__main__":
    main()
