#!/usr/bin/env python3
"""How stable the selection matrix's oracle labels are, and which strategies are true ties.

  python3 tools/bench/selection_retest.py docs/benchmarks/selection-matrix.json [--list]

For every task (cell x requirement; a strategy counts only where it meets the requirement, as
`SelectionEvaluation` decides), the oracle by the median of each strategy's first ceil(n/2) runs
is compared with the oracle by the median of the rest (the label retest `bench-select` reports;
exact ties, which control runs have, go to the lower median chunk latency, as there),
and the flips are listed by the pair of strategies they swap. A pair is a *true tie* on a task
when the two strategies' runs cannot be told apart: a two-sided exact Mann-Whitney test of their
runs gives p > 0.05 (with 5 runs each the smallest possible p is 0.008). Reported per task kind
and link, with the share of tasks whose oracle has such a tie.
"""
import itertools
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path


def median(values):
    s = sorted(values)
    n = len(s)
    if n == 0:
        return math.nan
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def exact(name):
    """Whether a strategy guarantees the full model's output (Strategy.guarantee)."""
    if "@" in name:
        mode, placement = name.split("@", 1)
        return mode == "sync" and exact(placement)
    if name.startswith("split-exit"):
        return False
    return not any(e in name for e in ("f16", "int8"))


def feasible(name, requirement, agreement):
    if exact(name):
        return True
    if requirement == "exact":
        return False
    threshold = float(requirement.split(">=")[1])
    return agreement >= threshold


def mann_whitney_p(a, b):
    """Two-sided exact p-value of the Mann-Whitney U statistic (ties count one half)."""
    def u(x, y):
        return sum(1.0 if xi < yi else 0.5 if xi == yi else 0.0 for xi in x for yi in y)
    pooled = list(a) + list(b)
    observed = u(a, b)
    centre = len(a) * len(b) / 2
    extreme = total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(a)):
        rest = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        value = u([pooled[i] for i in chosen], rest)
        total += 1
        if abs(value - centre) >= abs(observed - centre) - 1e-12:
            extreme += 1
    return extreme / total


def requirement_text(r):
    if r == "exact" or (isinstance(r, dict) and "exact" in r):
        return "exact"
    if isinstance(r, dict):
        value = r.get("agreement", {}).get("_0", r.get("agreement"))
        return f"agreement>={float(value)}"
    return str(r)


def main(path, show_list):
    matrix = json.loads(Path(path).read_text())
    suite = matrix["suite"]
    requirements = {"completion": [requirement_text(r) for r in suite["requirements"]],
                    "action-chunk": [requirement_text(r) for r in suite.get("controlRequirements", [])]}
    tasks = agree = 0
    by = defaultdict(lambda: [0, 0])
    flips = Counter()
    tied_tasks = Counter()
    tie_pairs = Counter()
    listing = []
    for cell in matrix["cells"]:
        kind = cell["features"].get("kind", "completion")
        runs = {name: [r["totalSeconds"] for r in rs] for name, rs in cell["runs"].items()}
        firsts = {name: [r["timeToFirstTokenSeconds"] for r in rs] for name, rs in cell["runs"].items()}

        def rank(name, part=slice(None)):
            # As SelectionEvaluation ranks: median latency, then median first-token (chunk) time.
            return (median(runs[name][part]), median(firsts[name][part]))
        agreement = {name: sum(r["agreement"] for r in rs) / len(rs) for name, rs in cell["runs"].items()}
        fewest = min(len(v) for v in runs.values())
        for requirement in requirements[kind]:
            names = [n for n in runs if feasible(n, requirement, agreement[n])]
            if not names:
                continue
            oracle = min(names, key=rank)
            # Strategies the oracle cannot be told apart from.
            ties = [n for n in names if n != oracle and mann_whitney_p(runs[oracle][:5], runs[n][:5]) > 0.05]
            key = (kind, cell["network"] + ("" if cell.get("cloudLoad", "idle") == "idle" else "/busy"))
            if ties:
                tied_tasks[key] += 1
                for n in ties:
                    tie_pairs[tuple(sorted((oracle, n)))] += 1
            if fewest < 4:
                continue
            half = (fewest + 1) // 2
            first = min(names, key=lambda n: rank(n, slice(0, half)))
            last = min(names, key=lambda n: rank(n, slice(half, fewest)))
            tasks += 1
            by[key][0] += 1
            if first == last:
                agree += 1
                by[key][1] += 1
            else:
                flips[tuple(sorted((first, last)))] += 1
                gap = abs(median(runs[first]) - median(runs[last])) / median(runs[oracle])
                listing.append((cell["device"], cell["network"], cell["workload"], cell.get("cloudLoad", "idle"), requirement,
                                first, last, gap, mann_whitney_p(runs[first][:5], runs[last][:5])))
    print(f"oracle label retest: {agree}/{tasks} = {agree / max(1, tasks):.3f}")
    print("\n| kind | link | tasks | retest agrees | oracle tied (p > 0.05) |\n|---|---|---|---|---|")
    for key in sorted(by):
        n, a = by[key]
        print(f"| {key[0]} | {key[1]} | {n} | {a} ({a / n:.2f}) | {tied_tasks[key]} |")
    print("\nflips by strategy pair (first half's oracle vs the rest's):")
    for (a, b), count in flips.most_common(15):
        print(f"  {count:3d}  {a}  <->  {b}")
    print("\npairs tied with the oracle (runs not told apart, p > 0.05), most frequent:")
    for (a, b), count in tie_pairs.most_common(15):
        print(f"  {count:3d}  {a}  ~  {b}")
    if show_list:
        print("\n| device | link | workload | cloud | requirement | first half | rest | gap / oracle | p |\n|---|---|---|---|---|---|---|---|---|")
        for row in listing:
            print("| " + " | ".join(row[:7]) + f" | {row[7]:.1%} | {row[8]:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1], "--list" in sys.argv[2:])
