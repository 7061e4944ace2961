"""Plot `split-bench exit --json` rows: decode tokens/s against emulated RTT per strategy.

    python3 tools/bench/plot_exit.py bench-exit.json docs/bench-exit-rtt.png
"""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src, out):
    rows = json.load(open(src))
    local = [r for r in rows if r["round_trip_milliseconds"] == 0]
    by = {}
    for r in rows:
        if r["round_trip_milliseconds"] > 0:
            by.setdefault(r["strategy"], []).append((r["round_trip_milliseconds"], r["decode_tokens_per_second"]))
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, points in by.items():
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    if local:
        ax.axhline(local[0]["decode_tokens_per_second"], color="gray", linestyle="--", label="local (full model, no network)")
    ax.set_xlabel("emulated round-trip time (ms), 50 Mbit/s")
    ax.set_ylabel("decode tokens/s")
    ax.set_yscale("log")
    ax.set_title("Line completion, split-code-7m, held-out stdlib files")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
