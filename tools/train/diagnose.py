#!/usr/bin/env python3
"""Diagnose the train/held-out gap of a checkpoint (or the exported GGUF).

1. Tokenization check: re-tokenizes the held-out files (tools/train/splits/valid.txt) with the
   shipped tokenizer (models/split-code-tokenizer.json) and compares with <data>/valid.bin.
2. Same metric (full-model loss, top-1) on --windows random windows of train.bin and of
   valid.bin (non-overlapping ctx windows, fixed seed), so memorisation (train << valid on the
   same code) can be told from distribution shift.
3. Per held-out file: each file alone (<|endoftext|> + tokens, cut into ctx windows), its token
   count, loss, top-1 and its token-weighted share of all held-out errors; sorted by errors.
Writes a markdown report to --out (default: stdout only).
"""
import argparse
import os
import sys
import sysconfig

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import load_checkpoint  # noqa: E402
from gguf_io import load_gguf  # noqa: E402


@torch.no_grad()
def score(model, windows, batch=16):
    """windows: int64 array [n, ctx+1]; returns (sum nll, n correct, n tokens)."""
    nll, ok, n = 0.0, 0, 0
    for b in range(0, len(windows), batch):
        w = torch.from_numpy(windows[b:b + batch])
        x, y = w[:, :-1], w[:, 1:]
        lg = model(x)
        nll += F.cross_entropy(lg.reshape(-1, lg.shape[-1]), y.reshape(-1), reduction="sum").item()
        ok += (lg.argmax(-1) == y).sum().item()
        n += y.numel()
    return nll, ok, n


def random_windows(stream, ctx, n, rng):
    starts = ctx * rng.choice((len(stream) - 1) // ctx, size=n, replace=False)
    return np.stack([stream[s:s + ctx + 1] for s in starts]).astype(np.int64)


def file_windows(ids, ctx):
    """Windows covering one document; the last one is right-aligned (scored only on new tokens
    by returning the count of already-scored leading targets)."""
    out = []
    for s in range(0, max(1, len(ids) - 1), ctx):
        out.append(ids[s:s + ctx + 1])
    return out


@torch.no_grad()
def score_file(model, ids, ctx):
    nll, ok, n = 0.0, 0, 0
    for w in file_windows(ids, ctx):
        if len(w) < 2:
            continue
        t = torch.tensor([w], dtype=torch.int64)
        lg = model(t[:, :-1])
        y = t[:, 1:]
        nll += F.cross_entropy(lg.reshape(-1, lg.shape[-1]), y.reshape(-1), reduction="sum").item()
        ok += (lg.argmax(-1) == y).sum().item()
        n += y.numel()
    return nll, ok, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="/work/train-runs/code/ckpt.pt")
    ap.add_argument("--gguf", default=None, help="evaluate the exported GGUF instead of --ckpt")
    ap.add_argument("--data", default="/work/train-data")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "..", "..", "models", "split-code-tokenizer.json"))
    ap.add_argument("--stdlib", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--windows", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    if args.gguf:
        model, src = load_gguf(args.gguf), f"GGUF {args.gguf}"
    else:
        model, _ = load_checkpoint(args.ckpt)
        src = f"checkpoint {args.ckpt}"
    model.eval()
    ctx = model.cfg.max_seq_len
    lines = [f"# Diagnosis — {src}", ""]

    tok = Tokenizer.from_file(args.tokenizer)
    files = [l.strip() for l in open(os.path.join(HERE, "splits", "valid.txt")) if l.strip()]
    docs = []
    stream = [0]
    for f in files:
        with open(os.path.join(args.stdlib, f), "rb") as fh:
            ids = tok.encode(fh.read().decode("utf-8", errors="replace")).ids
        docs.append((f, [0] + ids))
        stream += ids + [0]
    valid_bin = np.fromfile(os.path.join(args.data, "valid.bin"), dtype=np.uint16)
    same = len(valid_bin) == len(stream) and bool(np.array_equal(valid_bin, np.asarray(stream, dtype=np.uint16)))
    lines.append(f"Tokenization: re-tokenized held-out stream ({len(stream)} tokens) "
                 f"{'==' if same else '!='} valid.bin ({len(valid_bin)} tokens).")

    train = np.fromfile(os.path.join(args.data, "train.bin"), dtype=np.uint16)
    rng = np.random.default_rng(1234)
    lines += ["", f"Same metric on {args.windows} random non-overlapping windows of {ctx} tokens (seed 1234):", "",
              "| split | tokens | loss (nats) | top-1 |", "|---|---:|---:|---:|"]
    for name, data in (("train", train), ("valid", valid_bin)):
        nll, ok, n = score(model, random_windows(data, ctx, args.windows, rng))
        lines.append(f"| {name} | {n} | {nll/n:.3f} | {ok/n*100:.1f}% |")
        print(lines[-1], flush=True)

    rows = []
    tn, tok_ok, tnll = 0, 0, 0.0
    for f, ids in docs:
        nll, ok, n = score_file(model, ids, ctx)
        rows.append((f, n, nll, ok))
        tn, tok_ok, tnll = tn + n, tok_ok + ok, tnll + nll
    err_total = tn - tok_ok
    rows.sort(key=lambda r: -(r[1] - r[3]))
    lines += ["", f"Per held-out file (each file alone, windows of {ctx}); all files: {tn} tokens, "
              f"loss {tnll/tn:.3f}, top-1 {tok_ok/tn*100:.1f}%.", "",
              "| file | tokens | share of tokens | loss | top-1 | share of errors |",
              "|---|---:|---:|---:|---:|---:|"]
    for f, n, nll, ok in rows:
        lines.append(f"| {f} | {n} | {n/tn*100:.1f}% | {nll/n:.3f} | {ok/n*100:.1f}% | "
                     f"{(n-ok)/err_total*100:.1f}% |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
