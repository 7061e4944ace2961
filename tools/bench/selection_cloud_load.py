#!/usr/bin/env python3
"""The selectors on an idle against a busy cloud: over the links the suite measures both ways,
per cloud load and method, mean latency over the oracle's, top-1, top-1 or tied, and the share
of choices that send work to the cloud (cloud, split, split-exit, split-spec).

  python3 tools/bench/selection_cloud_load.py bench-select-report-with-outcomes.json
Reads the JSON `split-bench select --out` writes (it needs the outcomes, not only the summary).
"""
import json
import sys
from collections import defaultdict
from pathlib import Path

METHODS = ["oracle", "single-best", "expert", "planner", "knn", "meta"]


def load_of(task: str) -> str:
    return task.split("/cloud-")[1] if "/cloud-" in task else "idle"


def main(source: str) -> None:
    outcomes = json.loads(Path(source).read_text())["outcomes"]
    busy_links = {o["task"].split("/")[1] for o in outcomes if load_of(o["task"]) != "idle"}
    rows = defaultdict(list)
    for o in outcomes:
        # Completions only: the robot tasks are measured on an idle cloud alone.
        if o.get("kind", "completion") == "completion" and o["task"].split("/")[1] in busy_links:
            rows[(load_of(o["task"]), o["method"])].append(o)
    print(f"Links measured both ways: {', '.join(sorted(busy_links))}; every held-out grouping pooled.\n")
    print("| cloud | method | tasks | mean ms | / oracle | top-1 | top-1 or tied | choices using the cloud |")
    print("|---|---|---|---|---|---|---|---|")
    for load in sorted({key[0] for key in rows}, key=lambda name: name != "idle"):
        for method in METHODS:
            mine = rows.get((load, method))
            if not mine:
                continue
            n = len(mine)
            mean = sum(o["seconds"] for o in mine) / n
            oracle = sum(o["oracleSeconds"] for o in mine) / n
            remote = sum(not o["choice"].startswith("local") for o in mine) / n
            print(f"| {load} | {method} | {n} | {mean * 1e3:.1f} | {mean / oracle:.3f} | "
                  f"{sum(o['top1'] for o in mine) / n:.3f} | {sum(o['top1OrTied'] for o in mine) / n:.3f} | {remote:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
