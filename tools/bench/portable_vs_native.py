#!/usr/bin/env python3
"""The portable split-bench (kernel paths chosen at run time, x86-64-v2 baseline) against one built
with SPLIT_MARCH=native, decode and prefill on the same files, rounds interleaved (A B A B) in one
script so both see the same machine load; prints each binary's median and the ratio (issue 22).

  swift build -c release --product split-bench && cp .build/release/split-bench /tmp/split-bench-portable
  SPLIT_MARCH=native swift build -c release --product split-bench && cp .build/release/split-bench /tmp/split-bench-native
  python3 tools/bench/portable_vs_native.py /tmp/split-bench-portable /tmp/split-bench-native \
      /tmp/split-bench/smollm2-135m-{f16,q8_0,q4_k_m}.gguf --rounds 5
"""
import argparse
import json
import os
import statistics
import subprocess


def run(binary, model, args):
    command = [binary, "runtime", "--model", model, "--prompt-tokens", str(args.prompt), "--decode-tokens",
               str(args.decode), "--threads", str(args.threads), "--repetitions", "1", "--json"]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return result["prefill_tokens_per_second"], result["decode_tokens_per_second"], result.get("kernel_path", "?")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("portable")
    parser.add_argument("native")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--decode", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"# {os.uname().nodename}: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print("| file | portable decode tok/s | native decode tok/s | portable / native | "
          "portable prefill tok/s | native prefill tok/s | portable / native | path |")
    print("|---|---|---|---|---|---|---|---|")
    for model in args.models:
        runs = {"portable": [], "native": []}
        for _ in range(args.rounds):
            for name in ("portable", "native"):  # A B A B: the same load for both
                runs[name].append(run(getattr(args, name), model, args))
        medians = {name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
                   for name, rs in runs.items()}
        p, n = medians["portable"], medians["native"]
        paths = "/".join(sorted({r[2] for rs in runs.values() for r in rs}))
        print(f"| {os.path.basename(model)} | {p[1]:.1f} | {n[1]:.1f} | {p[1] / n[1]:.3f} | "
              f"{p[0]:.1f} | {n[0]:.1f} | {p[0] / n[0]:.3f} | {paths} |", flush=True)
        pairs = sorted(a[1] / b[1] for a, b in zip(runs["portable"], runs["native"]))
        print(f"#   decode portable / native round by round: {' '.join(f'{r:.3f}' for r in pairs)}", flush=True)
    print(f"# {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
