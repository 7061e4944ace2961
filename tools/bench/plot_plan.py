#!/usr/bin/env python3
"""Plot predicted against measured decode latency per split layer, one panel per network profile.

  python3 tools/bench/plot_plan.py /tmp/split-bench/plan.json docs/benchmarks/plan
Reads the JSON `split-bench plan --json-out` writes; writes <prefix>-<model>.png for each model.
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source: str, prefix: str) -> None:
    report = json.loads(Path(source).read_text())
    for model in report["models"]:
        networks = model["networks"]
        if not networks:
            continue
        figure, axes = plt.subplots(1, len(networks), figsize=(3.6 * len(networks), 3.4), squeeze=False)
        for axis, network in zip(axes[0], networks):
            rows = sorted(network["rows"], key=lambda r: (r["split_layer"], r.get("encoding") or ""))
            per_k = [r for r in rows if not r["planned"] or r.get("encoding") in (None, "f16")]
            ks = [r["split_layer"] for r in per_k]
            axis.plot(ks, [r["predicted_decode_seconds"] * 1e3 for r in per_k], "o--", label="predicted")
            axis.plot(ks, [r["measured_decode_seconds"] * 1e3 for r in per_k], "s-", label="measured")
            for r in rows:
                if r["planned"]:
                    axis.plot([r["split_layer"]], [r["measured_decode_seconds"] * 1e3], "r*", markersize=14,
                              label=f"plan: {network['planned']}")
            axis.set_title(f"{network['network']} ({network['round_trip_milliseconds']:g} ms, "
                           f"{network['uplink_megabits_per_second']:g} Mbit/s)", fontsize=9)
            axis.set_xlabel("split layer k (k = L: local)")
            axis.set_yscale("log")
            axis.grid(True, which="both", alpha=0.3)
        axes[0][0].set_ylabel("decode ms/token")
        axes[0][-1].legend(fontsize=7)
        figure.suptitle(f"{model['model']}: predicted vs measured latency per split layer (edge = cloud = {report['device']})",
                        fontsize=10)
        figure.tight_layout()
        name = Path(model["model"]).stem
        out = f"{prefix}-{name}.png"
        figure.savefig(out, dpi=110)
        print(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
