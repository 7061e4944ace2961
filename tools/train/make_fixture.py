#!/usr/bin/env python3
"""Golden logits fixture for the Swift runtime's test.

Loads the model from the exported GGUF (the f16 weights exactly as stored, converted to f32;
Q/K un-permuted back to HF layout), runs it in f32 on a fixed prompt, and writes
models/eval/fixture_logits.json with:
  prompt, token_ids (BOS id 0 + tokenizer ids), full-model logits of the last position
  (all vocab), argmax token of every position, and per-exit-layer last-position logits
  (exit l = final RMSNorm + tied head on layer l's output; the last layer equals the full model),
plus the GGUF's sha256 so a test can check it is comparing against the same file.
"""
import argparse
import hashlib
import json
import os
import sys

import torch
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gguf_io import load_gguf  # noqa: E402

PROMPT = "def fibonacci(n):\n    if n < 2:\n        return n\n    return"


def main():
    root = os.path.join(HERE, "..", "..")
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--tokenizer", default=os.path.join(root, "models", "split-code-tokenizer.json"))
    ap.add_argument("--prompt", default=PROMPT)
    ap.add_argument("--out", default=os.path.join(root, "models", "eval", "fixture_logits.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    tok = Tokenizer.from_file(args.tokenizer)
    model = load_gguf(args.gguf)
    ids = [0] + tok.encode(args.prompt).ids
    with torch.no_grad():
        logits, hidden = model(torch.tensor([ids]), return_hidden=True)
        exits = [model.head(h)[0, -1] for h in hidden]
    sha = hashlib.sha256(open(args.gguf, "rb").read()).hexdigest()
    fx = {
        "model_file": os.path.basename(args.gguf),
        "model_sha256": sha,
        "prompt": args.prompt,
        "add_bos": True,
        "bos_id": 0,
        "token_ids": ids,
        "tokens": [tok.id_to_token(i) for i in ids],
        "compute": "f32 on the GGUF's f16 weights (norms f32), PyTorch",
        "n_layers": model.cfg.n_layers,
        "vocab_size": model.cfg.vocab_size,
        "argmax_per_position": [int(t) for t in logits[0].argmax(-1)],
        "last_logits": [round(float(v), 6) for v in logits[0, -1]],
        "exit_last_logits": {str(l + 1): [round(float(v), 6) for v in e] for l, e in enumerate(exits)},
        "greedy_continuation": None,
    }
    # greedy continuation (16 tokens) for an end-to-end generate test
    caches = [dict() for _ in range(model.cfg.n_layers)]
    lg, _ = model.forward_cached(torch.tensor([ids]), caches, 0)
    pos, gen = len(ids), []
    for _ in range(16):
        t = int(lg[0, -1].argmax())
        gen.append(t)
        lg, _ = model.forward_cached(torch.tensor([[t]]), caches, pos)
        pos += 1
    fx["greedy_continuation"] = {"token_ids": gen, "text": tok.decode(gen)}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(fx, fh)
    print(f"wrote {args.out}: {len(ids)} prompt tokens, last argmax {fx['argmax_per_position'][-1]!r}, "
          f"continuation {fx['greedy_continuation']['text']!r}")


if __name__ == "__main__":
    main()
