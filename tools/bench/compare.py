#!/usr/bin/env python3
"""Split vs llama.cpp on the same GGUF files, alternating, one script (issue 2, must-show 4).

  python3 tools/bench/compare.py \
      --model /tmp/split-bench/smollm2-135m-f32.gguf --model /tmp/split-bench/smollm2-135m-f16.gguf \
      [--rounds 3] [--threads 2] [--prompt-tokens 128] [--decode-tokens 128] \
      [--swift-cmd 'swift run -c release split-bench runtime --model {model} --prompt-tokens {prompt} --decode-tokens {decode} --threads {threads} --json'] \
      [--swift-build-cmd 'swift build -c release --product split-bench'] [--skip-swift] [--json-out results.json]

For each round and each model it runs, back to back, llama.cpp (tools/bench/llamacpp_bench.py with
--repeats 1: warm-up + one measured run; or, with --llama-bench PATH, a native build's llama-bench with
-r 1: its pp and tg tests, each after its own warm-up) and then the Split command (which must print a JSON object
with "prefill_tokens_per_second" and "decode_tokens_per_second"; the last such line of stdout is used,
so build chatter is fine). Odd rounds run Split first, to cancel order effects. It reports per model the
median over rounds of each side and the ratio Split / llama.cpp, as a markdown table, plus the 1-minute
load average seen before each run (a busy machine makes both sides slow; compare ratios, and rerun on a
quiet machine for absolute numbers).

If the Split command fails or prints no JSON, its cells say "n/a" with the reason and the llama.cpp
half is still reported. Run from the repository root (the Swift command runs there).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_SWIFT = ("swift run -c release split-bench runtime --model {model} --prompt-tokens {prompt} "
                 "--decode-tokens {decode} --threads {threads} --json")
KEYS = ("prefill_tokens_per_second", "decode_tokens_per_second")


def last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if all(k in obj for k in KEYS):
                return obj
    # maybe a pretty-printed object at the end
    i = text.rfind("\n{")
    if i >= 0 or text.lstrip().startswith("{"):
        try:
            obj = json.loads(text[i + 1:] if i >= 0 else text)
            if all(k in obj for k in KEYS):
                return obj
        except json.JSONDecodeError:
            pass
    return None


def run_cmd(cmd: list[str] | str, timeout: float, shell: bool = False) -> tuple[dict | None, str, float]:
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, shell=shell, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout:.0f} s", time.perf_counter() - t
    except OSError as e:
        return None, f"{type(e).__name__}: {e}", time.perf_counter() - t
    wall = time.perf_counter() - t
    obj = last_json(p.stdout)
    if obj is None:
        tail = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or [""])[-1][:200]
        return None, f"exit {p.returncode}, no JSON with {KEYS[0]}/{KEYS[1]} ({tail})", wall
    return obj, "", wall


def llama_bench(path: str, model: str, threads: int, prompt: int, decode: int, timeout: float) -> tuple[dict | None, str, float]:
    """A native llama-bench run (prompt processing and generation tests, one repetition each) as
    {prefill,decode}_tokens_per_second."""
    cmd = [path, "-m", model, "-t", str(threads), "-p", str(prompt), "-n", str(decode), "-r", "1", "-o", "json"]
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
        tests = json.loads(p.stdout)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout:.0f} s", time.perf_counter() - t
    except (OSError, json.JSONDecodeError) as e:
        return None, f"{type(e).__name__}: {e}", time.perf_counter() - t
    wall = time.perf_counter() - t
    pp = [x["avg_ts"] for x in tests if x.get("n_prompt", 0) > 0 and x.get("n_gen", 0) == 0]
    tg = [x["avg_ts"] for x in tests if x.get("n_gen", 0) > 0 and x.get("n_prompt", 0) == 0]
    if not pp or not tg:
        return None, f"exit {p.returncode}, llama-bench printed no pp/tg results", wall
    return {KEYS[0]: pp[0], KEYS[1]: tg[0], "build_commit": tests[0].get("build_commit"),
            "cpu_info": tests[0].get("cpu_info")}, "", wall


def label(m: str, models: list[str]) -> str:
    base = os.path.basename(m)
    if sum(os.path.basename(x) == base for x in models) > 1:
        return os.path.join(os.path.basename(os.path.dirname(os.path.abspath(m))), base)
    return base


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True, help="GGUF path (repeatable)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--swift-cmd", default=DEFAULT_SWIFT,
                    help="shell command; {model} {prompt} {decode} {threads} are substituted")
    ap.add_argument("--swift-build-cmd", default="swift build -c release --product split-bench",
                    help="run once before measuring (empty string: skip)")
    ap.add_argument("--skip-swift", action="store_true", help="measure llama.cpp only")
    ap.add_argument("--llamacpp-args", default="", help="extra args for llamacpp_bench.py, e.g. --kv-f32")
    ap.add_argument("--llama-bench", default="",
                    help="path of a native llama.cpp build's llama-bench, used instead of llama-cpp-python")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--json-out", help="write all raw results here")
    ap.add_argument("--paired-bandwidth", action="store_true",
                    help="also measure the bandwidth right before each Split run and report each run's decode "
                         "against its own reading (the host's bandwidth changes from minute to minute)")
    ap.add_argument("--bandwidth-cmd", default="",
                    help="shell command printing JSON with read_gb_per_second (e.g. tools/bench/membw.c built); "
                         "run before the first and after the last round; adds the decode's fraction of the "
                         "bandwidth limit (bandwidth / weight bytes per token, from the Split JSON)")
    args = ap.parse_args()

    for m in args.model:
        if not os.path.exists(m):
            sys.exit(f"no such model file: {m} (make one with: python3 tools/bench/make_smollm_shape.py)")

    swift_note = ""
    if not args.skip_swift and args.swift_build_cmd:
        print(f"# building: {args.swift_build_cmd}", file=sys.stderr)
        p = subprocess.run(args.swift_build_cmd, shell=True, cwd=REPO, capture_output=True, text=True)
        if p.returncode != 0:
            last = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or [""])[-1][:200]
            swift_note = f"build failed (exit {p.returncode}): {last}"
            print(f"# {swift_note}; measuring llama.cpp only", file=sys.stderr)

    def bandwidth() -> float | None:
        if not args.bandwidth_cmd:
            return None
        p = subprocess.run(args.bandwidth_cmd, shell=True, cwd=REPO, capture_output=True, text=True)
        for line in reversed(p.stdout.strip().splitlines()):
            try:
                value = float(json.loads(line)["read_gb_per_second"])
                print(f"# memory read bandwidth {value:.2f} GB/s (load {os.getloadavg()[0]:.1f})", file=sys.stderr)
                return value
            except (ValueError, KeyError, json.JSONDecodeError):
                continue
        return None

    bandwidths = [b for b in [bandwidth()] if b]
    raw = []
    res = {m: {"llama.cpp": {k: [] for k in KEYS}, "split": {k: [] for k in KEYS}, "errors": []} for m in args.model}
    for rnd in range(args.rounds):
        for m in args.model:
            sides = ["llama.cpp", "split"] if rnd % 2 == 0 else ["split", "llama.cpp"]
            for side in sides:
                if side == "split" and (args.skip_swift or swift_note):
                    continue
                paired = bandwidth() if side == "split" and args.paired_bandwidth else None
                load = os.getloadavg()[0]
                if side == "llama.cpp" and args.llama_bench:
                    obj, err, wall = llama_bench(args.llama_bench, m, args.threads, args.prompt_tokens,
                                                 args.decode_tokens, args.timeout)
                elif side == "llama.cpp":
                    cmd = [sys.executable, str(HERE / "llamacpp_bench.py"), "--model", m, "--threads", str(args.threads),
                           "--prompt-tokens", str(args.prompt_tokens), "--decode-tokens", str(args.decode_tokens),
                           "--repeats", "1", "--json", *shlex.split(args.llamacpp_args)]
                    obj, err, wall = run_cmd(cmd, args.timeout)
                else:
                    cmd = (args.swift_cmd.replace("{model}", shlex.quote(m))
                           .replace("{prompt}", str(args.prompt_tokens))
                           .replace("{decode}", str(args.decode_tokens))
                           .replace("{threads}", str(args.threads)))
                    obj, err, wall = run_cmd(cmd, args.timeout, shell=True)
                rec = {"round": rnd, "model": m, "side": side, "loadavg_1m_before": round(load, 2),
                       "bandwidth_gb_per_second_before": paired,
                       "wall_seconds": round(wall, 2), "result": obj, "error": err}
                raw.append(rec)
                if obj:
                    for k in KEYS:
                        res[m][side][k].append(float(obj[k]))
                    print(f"# round {rnd + 1} {side:9s} {label(m, args.model)}: prefill {obj[KEYS[0]]:.1f} tok/s, "
                          f"decode {obj[KEYS[1]]:.1f} tok/s (load {load:.1f})", file=sys.stderr)
                else:
                    res[m]["errors"].append(f"{side}: {err}")
                    print(f"# round {rnd + 1} {side} {label(m, args.model)}: FAILED {err}", file=sys.stderr)

    bandwidths += [b for b in [bandwidth()] if b]
    loads = [r["loadavg_1m_before"] for r in raw]
    sys.stderr.flush()
    which = "native llama-bench" if args.llama_bench else "llama-cpp-python"
    print(f"\nSplit vs llama.cpp ({which}), same GGUF files, {args.threads} threads, prompt {args.prompt_tokens} tokens, "
          f"decode {args.decode_tokens} tokens; median of {args.rounds} alternating rounds "
          f"(1-min load avg during runs: {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs).\n")
    print("| model file | llama.cpp prefill tok/s | Split prefill tok/s | prefill ratio | "
          "llama.cpp decode tok/s | Split decode tok/s | decode ratio |")
    print("|---|---|---|---|---|---|---|")
    summary = []
    for m in args.model:
        lp, ld = med(res[m]["llama.cpp"][KEYS[0]]), med(res[m]["llama.cpp"][KEYS[1]])
        sp, sd = med(res[m]["split"][KEYS[0]]), med(res[m]["split"][KEYS[1]])
        print(f"| {label(m, args.model)} | {fmt(lp)} | {fmt(sp)} | {ratio(sp, lp)} | {fmt(ld)} | {fmt(sd)} | {ratio(sd, ld)} |")
        summary.append({"model": m, "llamacpp_prefill": lp, "llamacpp_decode": ld, "split_prefill": sp,
                        "split_decode": sd, "errors": res[m]["errors"]})
    extras = {m: [r["result"] for r in raw if r["model"] == m and r["side"] == "split" and r["result"]] for m in args.model}
    if bandwidths:
        bw = max(bandwidths)
        print(f"\nMemory read bandwidth (2 threads, best of the runs before and after): {bw:.2f} GB/s "
              f"(all measurements: {', '.join(f'{b:.2f}' for b in bandwidths)}). Decode limit = bandwidth / weight bytes "
              "read per token (every weight once: layers + LM head).\n")
        print("| model file | weight MB per token | decode limit tok/s | llama.cpp decode / limit | Split decode / limit |")
        print("|---|---|---|---|---|")
        for s_ in summary:
            runs = extras[s_["model"]]
            per_token = runs[-1].get("weight_bytes_per_token") if runs else None
            if not per_token:
                continue
            limit = bw * 1e9 / per_token
            frac = lambda x: "n/a" if x is None else f"{100 * x / limit:.0f}%"
            print(f"| {label(s_['model'], args.model)} | {per_token / 1e6:.0f} | {limit:.1f} | {frac(s_['llamacpp_decode'])} | {frac(s_['split_decode'])} |")
            s_["bandwidth_gb_per_second"] = bw
            s_["decode_limit_tokens_per_second"] = limit
    if args.paired_bandwidth:
        print("\nEach Split run against the bandwidth read just before it (decode tok/s × weight bytes per "
              "token / that reading):\n")
        print("| model file | run: bandwidth GB/s → decode tok/s = fraction of its limit | median fraction |")
        print("|---|---|---|")
        for s_ in summary:
            pairs = []
            for r in raw:
                obj, bw_ = r["result"], r["bandwidth_gb_per_second_before"]
                if r["model"] == s_["model"] and r["side"] == "split" and obj and bw_ and obj.get("weight_bytes_per_token"):
                    decode = float(obj[KEYS[1]])
                    pairs.append((bw_, decode, decode * obj["weight_bytes_per_token"] / (bw_ * 1e9)))
            if pairs:
                cells = "; ".join(f"{b:.1f} → {d:.1f} = {100 * f:.0f}%" for b, d, f in pairs)
                s_["paired_fractions"] = [f for _, _, f in pairs]
                print(f"| {label(s_['model'], args.model)} | {cells} | {100 * med([f for _, _, f in pairs]):.0f}% |")
    print("\n| model file | Split decode allocations (last loop) | peak RSS after load | peak RSS after runs | file size | peak / file |")
    print("|---|---|---|---|---|---|")
    for s_ in summary:
        runs = extras[s_["model"]]
        if not runs:
            continue
        r = runs[-1]
        mb = lambda x: "n/a" if x is None else f"{x / 1e6:.0f} MB"
        peak, size = r.get("peak_resident_bytes"), r.get("model_file_bytes")
        allocs = r.get("decode_allocations")
        print(f"| {label(s_['model'], args.model)} | {'not counted' if allocs is None else allocs} | {mb(r.get('peak_resident_bytes_after_load'))} | "
              f"{mb(peak)} | {mb(size)} | {'n/a' if not peak or not size else f'{peak / size:.2f}x'} |")
    print("\nResident set of the Split process after the runs (from /proc/self/smaps; MB = 10^6 bytes):\n")
    print("| model file | model mapping | executable + libraries | anonymous (heap, stacks, caches) | of which KV cache | of which scratch | total / file |")
    print("|---|---|---|---|---|---|---|")
    for s_ in summary:
        runs = extras[s_["model"]]
        parts = runs[-1].get("resident_breakdown") if runs else None
        if not parts:
            continue
        r = runs[-1]
        total = parts["model_file_bytes"] + parts["code_bytes"] + parts["anonymous_bytes"]
        size = r.get("model_file_bytes")
        print(f"| {label(s_['model'], args.model)} | {parts['model_file_bytes'] / 1e6:.1f} | {parts['code_bytes'] / 1e6:.1f} | "
              f"{parts['anonymous_bytes'] / 1e6:.1f} | {(r.get('kv_cache_bytes') or 0) / 1e6:.1f} | {(r.get('workspace_bytes') or 0) / 1e6:.1f} | "
              f"{'n/a' if not size else f'{total / size:.2f}x'} |")
    notes = [swift_note] if swift_note else []
    env = {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_", "GGML_", "OPENBLAS_"))}
    if env:
        notes.append("environment: " + " ".join(f"{k}={v}" for k, v in sorted(env.items())))
    for s in summary:
        notes += [f"{label(s['model'], args.model)}: {e}" for e in sorted(set(s["errors"]))]
    if args.skip_swift:
        notes.append("Split not run (--skip-swift)")
    if notes:
        print("\nNotes:\n" + "\n".join(f"- {n}" for n in notes))
    print("\nCommand: python3 tools/bench/compare.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"summary": summary, "runs": raw}, indent=1))


if __name__ == "__main__":
    main()
