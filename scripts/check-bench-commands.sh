#!/usr/bin/env bash
# Every `split-bench SUBCOMMAND --option …` that BENCHMARKS.md quotes names a subcommand the built
# binary has and options that subcommand takes (read from its --help), so the reference's
# commands keep working as the executables change. Usage: scripts/check-bench-commands.sh [BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/split-bench}
python3 - "$BIN" <<'PY'
import re, subprocess, sys
binary = sys.argv[1]
text = open("BENCHMARKS.md").read()
helps, problems, checked = {}, [], 0
for sub, rest in re.findall(r"split-bench ([a-z-]+)((?:[^\n`|]|\\\n)*)", text):
    if sub not in helps:
        run = subprocess.run([binary, sub, "--help"], capture_output=True, text=True)
        helps[sub] = run.stdout if run.returncode == 0 else None
    checked += 1
    if helps[sub] is None:
        problems.append(f"split-bench has no subcommand '{sub}'")
        continue
    problems += [f"split-bench {sub} has no option {o}" for o in re.findall(r"(--[a-z][a-z0-9-]*)", rest)
                 if o not in helps[sub]]
for p in problems:
    print("check-bench-commands:", p)
print(f"check-bench-commands: {checked} split-bench commands in BENCHMARKS.md, {len(problems)} problems")
sys.exit(1 if problems else 0)
PY
