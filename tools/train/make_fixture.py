#!/usr/bin/env python3
"""Golden logits fixture for the Swift runtime's test.

Loads the model from the exported GGUF (the f16 weights exactly as stored, converted to f32;
Q/K un-permuted back to HF layout), runs it in f32 on a fixed prompt, and writes
models/eval/fixture_logits.json with:
  prompt, token_ids (BOS id 0 + tokenizer ids), full-model logits of the last position
  (all vocab), argmax token of every position, and per-exit-layer last-position logits
  (exit l = final RMSNorm + tied head on layer l's output; the last layer equals the full model),
plus the GGUF's sha256 so a test can check it is comparing against the same file.
--prompt-file takes the prompt from a file's first --prompt-chars characters instead: a
prompt longer than 256 tokens checks a model with a longer context at positions past 256
(models/eval/fixture_logits_1k.json).
A model with FIM tokens also gets "fim": an infill input (prefix, suffix), the PSM prompt ids
its training used (fim.py; what llama.cpp's format_infill and Split's FIMPrompt must build)
and the greedy middle up to <|endoftext|> or <|fim_pad|> (at most 24 tokens).
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
import fim  # noqa: E402

PROMPT = "def fibonacci(n):\n    if n < 2:\n        return n\n    return"
FIM_PREFIX = "def area(width, height):\n"
FIM_SUFFIX = "\n\n\ndef perimeter(width, height):\n    return 2 * (width + height)\n"


@torch.no_grad()
def greedy(model, ids, n, stop=()):
    caches = [dict() for _ in range(model.cfg.n_layers)]
    lg, _ = model.forward_cached(torch.tensor([ids]), caches, 0)
    pos, gen = len(ids), []
    for _ in range(n):
        t = int(lg[0, -1].argmax())
        if t in stop:
            break
        gen.append(t)
        lg, _ = model.forward_cached(torch.tensor([[t]]), caches, pos)
        pos += 1
    return gen


def main():
    root = os.path.join(HERE, "..", "..")
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--tokenizer", default=os.path.join(root, "models", "split-code-tokenizer.json"))
    ap.add_argument("--prompt", default=PROMPT)
    ap.add_argument("--prompt-file", default=None, help="the prompt: this file's first --prompt-chars characters")
    ap.add_argument("--prompt-chars", type=int, default=2000)
    ap.add_argument("--out", default=os.path.join(root, "models", "eval", "fixture_logits.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    tok = Tokenizer.from_file(args.tokenizer)
    model = load_gguf(args.gguf)
    if args.prompt_file:
        with open(args.prompt_file, encoding="utf-8") as fh:
            args.prompt = fh.read()[:args.prompt_chars]
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
    gen = greedy(model, ids, 16)
    fx["greedy_continuation"] = {"token_ids": gen, "text": tok.decode(gen)}
    fim_ids = fim.fim_ids(tok)
    if len(fim_ids) == len(fim.FIM_TOKENS):
        enc = lambda s: tok.encode(s, add_special_tokens=False).ids  # noqa: E731
        prompt = fim.layout(enc(FIM_PREFIX), enc(FIM_SUFFIX), None, fim_ids, spm=False)
        middle = greedy(model, prompt, 24, stop={fim.EOT_ID, fim_ids[fim.FIM_PAD]})
        fx["fim"] = {"prefix": FIM_PREFIX, "suffix": FIM_SUFFIX, "prompt_ids": prompt,
                     "middle_ids": middle, "middle_text": tok.decode(middle)}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(fx, fh)
    print(f"wrote {args.out}: {len(ids)} prompt tokens, last argmax {fx['argmax_per_position'][-1]!r}, "
          f"continuation {fx['greedy_continuation']['text']!r}"
          + (f"; FIM middle {fx['fim']['middle_text']!r}" if "fim" in fx else ""))


if __name__ == "__main__":
    main()
