#!/usr/bin/env python3
"""llama.cpp (llama-cpp-python) prefill and decode speed on a GGUF file.

  python3 tools/bench/llamacpp_bench.py --model /tmp/split-bench/smollm2-135m-f32.gguf \
      --threads 2 --prompt-tokens 128 --decode-tokens 128 [--repeats 3] [--json]

Method (tokenization and sampling excluded; only llama_decode is timed):
  * model load and context creation are not timed; n_batch = n_ubatch = max(512, prompt tokens),
    so the prompt is one llama_decode call;
  * prompt = fixed token ids ((i * 7919 + 13) mod n_vocab), decode inputs are fixed ids too (no sampling);
  * a warm-up run (full prompt + 8 decode steps) first, then --repeats runs, each from an empty KV cache:
    prefill = prompt_tokens / time(one eval of the whole prompt), logits only for the last position
    (llama-cpp-python's default when logits_all=False);
    decode  = decode_tokens / time(decode_tokens evals of one token each, logits for that token);
  * reports the median (and all runs).
  * llama-cpp-python's wheel links ggml-cpu with OpenMP (libgomp). On a busy machine, 2 threads
    spin-waiting at ggml barriers lose most of their time (we saw 2 tok/s decode instead of ~25);
    OMP_WAIT_POLICY=passive in the environment helps a lot there. Prefer a quiet machine; the
    OMP_/GOMP_/GGML_/OPENBLAS_ environment is recorded in the JSON. Default KV cache type (f16) and flash-attention setting of
    llama-cpp-python are kept unless --kv-f32 / --flash-attn are given.
Prints one JSON object with --json, else a short text summary.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time


def run(args) -> dict:
    import llama_cpp
    from llama_cpp import Llama

    n_batch = max(512, args.prompt_tokens)
    kw = dict(model_path=args.model, n_ctx=args.prompt_tokens + args.decode_tokens + 16,
              n_batch=n_batch, n_ubatch=n_batch, n_threads=args.threads, n_threads_batch=args.threads,
              logits_all=False, use_mmap=True, verbose=False, seed=0)
    if args.kv_f32:
        kw.update(type_k=0, type_v=0)
    if args.flash_attn:
        kw.update(flash_attn=True)
    t0 = time.perf_counter()
    llm = Llama(**kw)
    load_s = time.perf_counter() - t0
    n_vocab = llm.n_vocab()
    prompt = [(i * 7919 + 13) % n_vocab for i in range(args.prompt_tokens)]
    dec = [(i * 104729 + 7) % n_vocab for i in range(args.decode_tokens)]

    def one(n_decode: int):
        llm.reset()  # n_tokens = 0; eval() then clears the KV cache from position 0
        t = time.perf_counter()
        llm.eval(prompt)
        tp = time.perf_counter() - t
        t = time.perf_counter()
        for tok in dec[:n_decode]:
            llm.eval([tok])
        td = time.perf_counter() - t
        return tp, td

    one(min(8, args.decode_tokens))  # warm-up
    pre, de = [], []
    for _ in range(args.repeats):
        tp, td = one(args.decode_tokens)
        pre.append(args.prompt_tokens / tp)
        de.append(args.decode_tokens / td if args.decode_tokens else float("nan"))
    return {
        "engine": "llama.cpp",
        "llama_cpp_python": llama_cpp.__version__,
        "model": os.path.abspath(args.model),
        "model_bytes": os.path.getsize(args.model),
        "threads": args.threads,
        "prompt_tokens": args.prompt_tokens,
        "decode_tokens": args.decode_tokens,
        "repeats": args.repeats,
        "prefill_tokens_per_second": statistics.median(pre),
        "decode_tokens_per_second": statistics.median(de),
        "prefill_runs": [round(x, 2) for x in pre],
        "decode_runs": [round(x, 2) for x in de],
        "kv_cache": "f32" if args.kv_f32 else "default(f16)",
        "flash_attn": bool(args.flash_attn),
        "load_seconds": round(load_s, 3),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "cpu": platform.processor() or platform.machine(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_", "GGML_", "OPENBLAS_"))},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kv-f32", action="store_true", help="f32 KV cache (default: llama.cpp's f16)")
    ap.add_argument("--flash-attn", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.model):
        sys.exit(f"no such model file: {args.model} (make one with tools/bench/make_smollm_shape.py)")
    r = run(args)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"llama.cpp {r['llama_cpp_python']} {os.path.basename(args.model)} threads={args.threads}: "
              f"prefill {r['prefill_tokens_per_second']:.1f} tok/s {r['prefill_runs']}, "
              f"decode {r['decode_tokens_per_second']:.1f} tok/s {r['decode_runs']} (load avg {r['loadavg_after']})")


if __name__ == "__main__":
    main()
