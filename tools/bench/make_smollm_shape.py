#!/usr/bin/env python3
"""Write a SmolLM2-135M-shaped (or Llama-3.2-1B-shaped) Llama GGUF with random weights, at f32 and f16,
for speed benchmarks.

Shape (HuggingFaceTB/SmolLM2-135M): 30 layers, d=576, ff=1536, 9 heads, 3 KV heads, head_dim 64,
vocab 49152, tied embeddings (no output.weight), rope theta 100000, RMS eps 1e-5, context 2048.
With --shape llama-3.2-1b (meta-llama/Llama-3.2-1B): 16 layers, d=2048, ff=8192, 32 heads, 8 KV
heads, head_dim 64, vocab 128256, tied embeddings, rope theta 500000 (no rope_freqs scaling tensor).
Weights ~ N(0, 0.02) (seeded), norm weights 1. Tensors/metadata follow convert_hf_to_gguf.py
(see tools/fixtures/gguf_conventions.py): with f16, 2-D weights are F16 and norms stay F32.

Tokenizer metadata: synthetic GPT-2-style byte-level BPE vocab of 49152 tokens:
id 0 = <|endoftext|> (control, bos = eos), ids 1..256 = the 256 byte symbols, then 48895 two-symbol
tokens a+b with merges "a b" (llama.cpp needs tokenizer.ggml.merges to load a gpt2 vocab).

  python3 tools/bench/make_smollm_shape.py [--out-dir /tmp/split-bench] [--types f32,f16,q8_0] [--seed 0]
                                          [--shape smollm2-135m|llama-3.2-1b]
Writes <out-dir>/smollm2-135m-f32.gguf (~540 MB), smollm2-135m-f16.gguf (~270 MB) and, with q8_0 in
--types, smollm2-135m-q8_0.gguf (~145 MB: every 2-D weight in GGML Q8_0, quantized by gguf-py). Not for git.
(llama-3.2-1b-f16.gguf is ~2.5 GB.) The k-quant and Q4_0 files are made from the f16 one by
llama-quantize (tools/bench/bench_quant_vs_llamacpp.sh).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
import gguf  # noqa: E402
from gguf_conventions import convert_tensors, write_gguf  # noqa: E402

HP = dict(n_layer=30, n_ctx=2048, n_embd=576, n_ff=1536, n_head=9, n_head_kv=3,
          rope_theta=100000.0, norm_eps=1e-5, n_vocab=49152, head_dim_in_config=False, head_dim=64)
SHAPES = {
    "smollm2-135m": dict(HP, tied=True),
    "llama-3.2-1b": dict(HP, n_layer=16, n_ctx=2048, n_embd=2048, n_ff=8192, n_head=32, n_head_kv=8,
                         rope_theta=500000.0, n_vocab=128256, tied=True),
}


def bytes_to_unicode() -> list[str]:
    """GPT-2's byte -> printable unicode symbol table, in byte order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def synthetic_vocab(n_vocab: int):
    syms = bytes_to_unicode()
    tokens = ["<|endoftext|>"] + syms
    types = [int(gguf.TokenType.CONTROL)] + [int(gguf.TokenType.NORMAL)] * 256
    merges = []
    need = n_vocab - len(tokens)
    for a in syms:
        for b in syms:
            if len(merges) == need:
                break
            merges.append(f"{a} {b}")
            tokens.append(a + b)
            types.append(int(gguf.TokenType.NORMAL))
    # Past 256 × 256 two-symbol tokens (a 128256 vocabulary): three-symbol ones, "ab c".
    pairs = [t for t in tokens if len(t) == 2]
    for ab in pairs:
        for c in syms:
            if len(merges) == need:
                break
            merges.append(f"{ab} {c}")
            tokens.append(ab + c)
            types.append(int(gguf.TokenType.NORMAL))
        if len(merges) == need:
            break
    assert len(tokens) == n_vocab and len(set(tokens)) == n_vocab
    return dict(tokens=tokens, toktypes=types, merges=merges, bos_id=0, eos_id=0, pre="gpt-2", add_bos=False)


def hf_tensors(seed: int, std: float = 0.02) -> dict[str, np.ndarray]:
    """HF-layout (out, in) float32 tensors in safetensors (alphabetical) order."""
    rng = np.random.default_rng(seed)
    d, ff, hd = HP["n_embd"], HP["n_ff"], HP["head_dim"]
    kv = HP["n_head_kv"] * hd

    def w(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std))

    t = {"model.embed_tokens.weight": w(HP["n_vocab"], d)}
    if not HP.get("tied", True):
        t["lm_head.weight"] = w(HP["n_vocab"], d)
    for i in range(HP["n_layer"]):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = np.ones(d, np.float32)
        t[p + "mlp.down_proj.weight"] = w(d, ff)
        t[p + "mlp.gate_proj.weight"] = w(ff, d)
        t[p + "mlp.up_proj.weight"] = w(ff, d)
        t[p + "post_attention_layernorm.weight"] = np.ones(d, np.float32)
        t[p + "self_attn.k_proj.weight"] = w(kv, d)
        t[p + "self_attn.o_proj.weight"] = w(d, d)
        t[p + "self_attn.q_proj.weight"] = w(d, d)
        t[p + "self_attn.v_proj.weight"] = w(kv, d)
    t["model.norm.weight"] = np.ones(d, np.float32)
    return dict(sorted(t.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default="/tmp/split-bench")
    ap.add_argument("--types", default="f32,f16")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="smollm2-135m")
    ap.add_argument("--rope-theta", type=float)
    args = ap.parse_args()
    HP.update(SHAPES[args.shape])
    if args.rope_theta is not None:
        HP["rope_theta"] = args.rope_theta
    os.makedirs(args.out_dir, exist_ok=True)
    t0 = time.time()
    tensors = convert_tensors("llama", hf_tensors(args.seed), HP)
    tok = synthetic_vocab(HP["n_vocab"])
    n_params = sum(a.size for _, a in tensors)
    print(f"{len(tensors)} tensors, {n_params / 1e6:.1f} M parameters ({time.time() - t0:.1f} s)")
    for ty in args.types.split(","):
        ftype = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                 "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[ty]
        path = os.path.join(args.out_dir, f"{args.shape}-{ty}.gguf")
        write_gguf(path, "llama", f"{args.shape}-shape-random-{ty}", HP, tensors, int(ftype), tok)
        print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB, {time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main()
