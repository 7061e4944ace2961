#!/usr/bin/env python3
"""Held-out loss and top-1 by position: does a model use (or at least survive) a longer context?

The held-out files (tools/train/splits/valid.txt) are tokenized as evaluate.py does (each file as
<|endoftext|> + tokens, concatenated) and cut into non-overlapping windows of --ctx tokens; every
model scores the same windows, and the next-token loss and top-1 are reported per band of
positions (0-255, 256-511, ...). A model trained on 256 positions and run past them (RoPE
extrapolation) shows a loss that climbs in the later bands; one whose context was extended by
training shows the same or a lower loss there (more context to predict from).

    python3 tools/train/evaluate_positions.py --model 256=models/split-code-7m.gguf \
        --model 1k=models/split-code-7m-1k.gguf --ctx 1024 --windows 64 --out models/eval/positions_1k.md
"""
import argparse
import hashlib
import os
import sys
import sysconfig

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate import read_valid  # noqa: E402
from gguf_io import load_gguf  # noqa: E402


def held_out_windows(tok, stdlib, ctx, count):
    """count windows of ctx + 1 tokens, evenly spread over the held-out stream."""
    stream = []
    for _, text in read_valid(stdlib):
        stream.append(0)
        stream.extend(tok.encode(text).ids)
    stream.append(0)
    stream = np.asarray(stream, dtype=np.int64)
    n_win = (len(stream) - 1) // ctx
    if count > n_win:
        raise SystemExit(f"only {n_win} windows of {ctx} tokens in the held-out files, asked for {count}")
    picks = np.linspace(0, n_win - 1, count).round().astype(np.int64)
    return torch.from_numpy(np.stack([stream[i * ctx: i * ctx + ctx + 1] for i in picks]))


@torch.no_grad()
def by_position(model, windows, band, batch):
    """Per position: summed loss and correct counts over the windows."""
    ctx = windows.shape[1] - 1
    loss, correct = torch.zeros(ctx, dtype=torch.float64), torch.zeros(ctx, dtype=torch.float64)
    for b0 in range(0, len(windows), batch):
        w = windows[b0:b0 + batch]
        x, y = w[:, :-1], w[:, 1:]
        logits = model(x).float()
        loss += F.cross_entropy(logits.transpose(1, 2), y, reduction="none").double().sum(0)
        correct += (logits.argmax(-1) == y).double().sum(0)
    n = len(windows)
    bands = [(s, min(ctx, s + band)) for s in range(0, ctx, band)]
    return [(s, e, float(loss[s:e].sum() / (n * (e - s))), float(correct[s:e].sum() / (n * (e - s)))) for s, e in bands]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True, help="NAME=GGUF (repeatable)")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "..", "..", "models", "split-code-tokenizer.json"))
    ap.add_argument("--stdlib", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--band", type=int, default=256)
    ap.add_argument("--windows", type=int, default=64)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="markdown table here (default: print only)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    windows = held_out_windows(Tokenizer.from_file(args.tokenizer), args.stdlib, args.ctx, args.windows)
    lines = [f"Held-out next-token loss (nats) / top-1 by position: {args.windows} windows of {args.ctx} tokens "
             f"of the files of tools/train/splits/valid.txt (evaluate_positions.py).", "",
             "| model (GGUF SHA-256, trained context) | " + " | ".join(
                 f"positions {s}-{min(args.ctx, s + args.band) - 1}" for s in range(0, args.ctx, args.band)) + " |",
             "|---|" + "---:|" * len(range(0, args.ctx, args.band))]
    for spec in args.model:
        name, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"--model wants NAME=GGUF, got {spec!r}")
        model = load_gguf(path)
        sha = hashlib.sha256(open(path, "rb").read()).hexdigest()[:12]
        rows = by_position(model, windows, args.band, args.batch)
        lines.append(f"| {name} ({sha}, {model.cfg.max_seq_len}) | "
                     + " | ".join(f"{l:.3f} / {100 * a:.1f}%" for _, _, l, a in rows) + " |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
