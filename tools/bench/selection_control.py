#!/usr/bin/env python3
"""The selection matrix's robot action-chunk cells: per device and link, each policy placement's
median chunk latency (through the policy service), the fastest-reacting exact (sync) and async
strategy with their mean reaction time, course time and tracking error; and how often the
strategy that reacts soonest is also the one that tracks best (is the label the same under either
metric?).

  python3 tools/bench/selection_control.py docs/benchmarks/selection-matrix.json
"""
import json
import statistics
import sys
from pathlib import Path


def median(values):
    return statistics.median(values) if values else float("nan")


def main(path):
    matrix = json.loads(Path(path).read_text())
    cells = [c for c in matrix["cells"] if c["features"].get("kind") == "action-chunk"]
    if not cells:
        print("no action-chunk cells")
        return
    placements = sorted({name.split("@", 1)[1] for c in cells for name in c["runs"]})
    print("| device | link | chunk ms (" + ", ".join(placements) + ") | best sync: reaction ms | best async: reaction ms "
          "| course s sync / async | tracking error sync / async |")
    print("|---|---|---|---|---|---|---|")
    same = total = 0
    for cell in sorted(cells, key=lambda c: (c["device"], c["features"]["roundTripMilliseconds"])):
        runs = cell["runs"]

        def stat(name, key):
            return median([r[key] for r in runs[name]])

        def control(name, key):
            return median([r["control"][key] for r in runs[name] if r.get("control") and r["control"].get(key) is not None])

        chunk = [median([r["timeToFirstTokenSeconds"] for n, rs in runs.items() if n.endswith("@" + p) for r in rs]) * 1e3
                 for p in placements]
        rank = lambda n: (stat(n, "totalSeconds"), stat(n, "timeToFirstTokenSeconds"))  # noqa: E731
        sync = min((n for n in runs if n.startswith("sync@")), key=rank)
        loose = min(runs, key=rank)
        best_async = min((n for n in runs if not n.startswith("sync@")), key=rank)
        print(f"| {cell['device']} | {cell['network']} | " + " / ".join(f"{c:.2f}" for c in chunk)
              + f" | {sync}: {stat(sync, 'totalSeconds') * 1e3:.0f} | {best_async}: {stat(best_async, 'totalSeconds') * 1e3:.0f}"
              + f" | {control(sync, 'completionSeconds'):.2f} / {control(best_async, 'completionSeconds'):.2f}"
              + f" | {control(sync, 'meanTrackingError'):.3f} / {control(best_async, 'meanTrackingError'):.3f} |")
        for names, best in ((list(runs), loose), ([n for n in runs if n.startswith("sync@")], sync)):
            tracking = min(control(n, "meanTrackingError") for n in names)
            total += 1
            same += control(best, "meanTrackingError") <= tracking + 1e-12
    print(f"\nTasks whose fastest-reacting strategy also has the lowest median tracking error: {same}/{total}")


if __name__ == "__main__":
    main(sys.argv[1])
