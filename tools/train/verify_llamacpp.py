#!/usr/bin/env python3
"""Check the exported GGUF in llama.cpp (llama-cpp-python): tokenization, last-position logits
and greedy tokens must match the PyTorch model loaded from the same GGUF."""
import argparse
import os
import sys

import numpy as np
import torch
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gguf_io import load_gguf  # noqa: E402

PROMPTS = [
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
    "import os\nimport sys\n\n\nclass Config:\n    def __init__(self, path):\n        self.",
    "    for i, line in enumerate(lines):\n        if line.startswith('#'):\n",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "..", "..", "models", "split-code-tokenizer.json"))
    ap.add_argument("--n-gen", type=int, default=24)
    args = ap.parse_args()
    from llama_cpp import Llama
    llm = Llama(model_path=args.gguf, n_ctx=256, n_threads=1, logits_all=True, verbose=False)
    tok = Tokenizer.from_file(args.tokenizer)
    torch.set_num_threads(1)
    model = load_gguf(args.gguf)
    ok = True
    for p in PROMPTS:
        ids_hf = [0] + tok.encode(p).ids
        ids_ll = llm.tokenize(p.encode(), add_bos=True, special=False)
        tok_ok = ids_hf == ids_ll
        llm.reset()
        llm.eval(ids_hf)
        ll_logits = np.array(llm.scores[len(ids_hf) - 1], dtype=np.float32)
        with torch.no_grad():
            pt_logits = model(torch.tensor([ids_hf]))[0, -1].numpy()
        rel = np.abs(ll_logits - pt_logits).max() / np.abs(pt_logits).max()
        # greedy generation in both
        llm.reset()
        gen_ll = []
        for t in llm.generate(ids_hf, temp=0.0, top_k=1, reset=True):
            gen_ll.append(t)
            if len(gen_ll) >= args.n_gen:
                break
        gen_pt, ids = [], list(ids_hf)
        with torch.no_grad():
            for _ in range(args.n_gen):
                t = int(model(torch.tensor([ids]))[0, -1].argmax())
                gen_pt.append(t)
                ids.append(t)
        same = gen_ll == gen_pt
        ok &= tok_ok and same and rel < 1e-2
        print(f"prompt {p[:30]!r}: tokenization match {tok_ok}, max|dlogit|/max|logit| {rel:.2e}, "
              f"greedy {args.n_gen} tokens match {same}")
        if not tok_ok:
            print("  hf ", ids_hf, "\n  ll ", ids_ll)
        if not same:
            print("  ll:", repr(tok.decode(gen_ll)), "\n  pt:", repr(tok.decode(gen_pt)))
        else:
            print("  continuation:", repr(tok.decode(gen_pt)))
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
