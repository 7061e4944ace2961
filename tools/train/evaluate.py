#!/usr/bin/env python3
"""Evaluate the Split code model on the held-out stdlib files (tools/train/splits/valid.txt).

Weights: by default from the exported GGUF (--gguf; f16 weights as shipped, computed in f32,
Q/K un-permuted back to the HF layout), or from a training checkpoint (--ckpt).

Reports
  * next-token top-1 accuracy of the full model and of every exit layer l = 1..L
    (exit l = shared final RMSNorm + tied LM head on layer l's output),
  * agreement of each exit's greedy token with the full model's greedy token,
  * for tau in {0.5,0.7,0.8,0.9,0.95}: coverage (fraction of tokens whose exit-l max softmax
    prob >= tau), agreement with the full model among those, and their product (fraction of
    all tokens where exit l is confident AND agrees),
  * line completion on 200 held-out lines (fixed seed): exact match and edit similarity of
    greedy decoding (full model) until newline.
Data: the held-out files are tokenized with the model's tokenizer, each file as
<|endoftext|> + tokens, concatenated and cut into non-overlapping windows of --ctx tokens
(the first --max-tokens target tokens; 0 = all). Writes models/eval/eval.{md,json}.
"""
import argparse
import json
import os
import random
import sys
import sysconfig
import time

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import load_checkpoint  # noqa: E402
from gguf_io import load_gguf  # noqa: E402

TAUS = [0.5, 0.7, 0.8, 0.9, 0.95]


def load_model(args):
    if args.ckpt:
        m, _ = load_checkpoint(args.ckpt)
        return m.eval(), f"checkpoint {args.ckpt}"
    return load_gguf(args.gguf), f"GGUF {os.path.relpath(args.gguf)} (f16 weights, f32 compute)"


def read_valid(stdlib):
    files = [l.strip() for l in open(os.path.join(HERE, "splits", "valid.txt")) if l.strip()]
    out = []
    for f in files:
        with open(os.path.join(stdlib, f), "rb") as fh:
            out.append((f, fh.read().decode("utf-8", errors="replace")))
    return out


@torch.no_grad()
def token_metrics(model, tok, docs, ctx, max_tokens, batch):
    stream = []
    for _, text in docs:
        stream.append(0)
        stream.extend(tok.encode(text).ids)
    stream.append(0)
    stream = np.asarray(stream, dtype=np.int64)
    n_win = (len(stream) - 1) // ctx
    if max_tokens:
        n_win = min(n_win, max(1, max_tokens // ctx))
    L = model.cfg.n_layers
    correct = np.zeros(L)
    agree = np.zeros(L)
    nll = np.zeros(L)
    cov = np.zeros((L, len(TAUS)))
    cov_agree = np.zeros((L, len(TAUS)))
    cov_correct = np.zeros((L, len(TAUS)))
    total = 0
    for b0 in range(0, n_win, batch):
        idx = np.arange(b0, min(n_win, b0 + batch))
        w = torch.from_numpy(np.stack([stream[i * ctx: i * ctx + ctx + 1] for i in idx]))
        x, y = w[:, :-1], w[:, 1:].reshape(-1)
        logits, hidden = model(x, return_hidden=True)
        full = logits.reshape(-1, logits.shape[-1]).argmax(-1)
        for l in range(L):
            lg = logits if l == L - 1 else model.head(hidden[l])
            lg = lg.reshape(-1, lg.shape[-1])
            lp = F.log_softmax(lg, -1)
            conf, pred = lp.max(-1)
            conf = conf.exp()
            ok = pred == y
            ag = pred == full
            correct[l] += ok.sum().item()
            agree[l] += ag.sum().item()
            nll[l] += -lp.gather(1, y[:, None]).sum().item()
            for j, t in enumerate(TAUS):
                sel = conf >= t
                cov[l, j] += sel.sum().item()
                cov_agree[l, j] += (sel & ag).sum().item()
                cov_correct[l, j] += (sel & ok).sum().item()
        total += y.numel()
    res = {"tokens": int(total), "windows": int(n_win), "ctx": ctx, "layers": []}
    for l in range(L):
        res["layers"].append({
            "layer": l + 1,
            "top1": correct[l] / total,
            "agree_full": agree[l] / total,
            "loss": nll[l] / total,
            "tau": {str(t): {"coverage": cov[l, j] / total,
                             "agree_given_confident": (cov_agree[l, j] / cov[l, j]) if cov[l, j] else None,
                             "top1_given_confident": (cov_correct[l, j] / cov[l, j]) if cov[l, j] else None,
                             "confident_and_agree": cov_agree[l, j] / total}
                    for j, t in enumerate(TAUS)},
        })
    return res


def levenshtein(a, b):
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def pick_lines(docs, n, seed, min_len=6):
    cands = []
    for di, (_, text) in enumerate(docs):
        lines = text.split("\n")
        for li, line in enumerate(lines):
            if li > 0 and len(line.strip()) >= min_len:
                cands.append((di, li))
    rng = random.Random(seed)
    chosen = rng.sample(cands, n)
    items = []
    for di, li in chosen:
        lines = docs[di][1].split("\n")
        line = lines[li]
        indent = len(line) - len(line.lstrip())
        cut = rng.randint(indent, len(line) - 1)
        items.append({"file": docs[di][0], "line": li + 1,
                      "prefix": "\n".join(lines[:li]) + "\n" + line[:cut],
                      "target": line[cut:]})
    return items


def complete(model, tok, prefix, ctx, max_new):
    ids = [0] + tok.encode(prefix).ids
    return greedy_line(model, tok, ids[-(ctx - max_new):], max_new)


@torch.no_grad()
def greedy_line(model, tok, ids, max_new, stop_ids=frozenset({0})):
    """Greedy text after prompt ids until a newline or a token of stop_ids (first line only)."""
    caches = [dict() for _ in range(model.cfg.n_layers)]
    logits, _ = model.forward_cached(torch.tensor([ids]), caches, 0)
    pos = len(ids)
    out = []
    text = ""
    for _ in range(max_new):
        nxt = int(logits[0, -1].argmax())
        if nxt in stop_ids:
            break
        out.append(nxt)
        text = tok.decode(out)
        if "\n" in text:
            break
        logits, _ = model.forward_cached(torch.tensor([[nxt]]), caches, pos)
        pos += 1
    return text.split("\n")[0]


def line_completion(model, tok, docs, n, seed, ctx, max_new):
    items = pick_lines(docs, n, seed)
    em, es = 0, 0.0
    for it in items:
        pred = complete(model, tok, it["prefix"], ctx, max_new)
        tgt = it["target"].rstrip()
        pred = pred.rstrip()
        it["prediction"] = pred
        it["exact"] = pred == tgt
        m = max(len(pred), len(tgt))
        it["edit_sim"] = 1.0 if m == 0 else 1.0 - levenshtein(pred, tgt) / m
        em += it["exact"]
        es += it["edit_sim"]
    return {"n": len(items), "exact_match": em / len(items), "edit_sim": es / len(items),
            "examples": [{k: v for k, v in it.items() if k != "prefix"} | {"prefix_tail": it["prefix"][-80:]}
                         for it in items]}


def to_markdown(r):
    L = len(r["tokens"]["layers"])
    lines = [f"Weights: {r['source']}. Held-out: {r['n_valid_files']} stdlib files "
             f"(tools/train/splits/valid.txt), {r['tokens']['tokens']} target tokens "
             f"({r['tokens']['windows']} windows of {r['tokens']['ctx']}).", "",
             "| exit layer | top-1 | agree w/ full | loss (nats) |", "|---:|---:|---:|---:|"]
    for e in r["tokens"]["layers"]:
        tag = " (full)" if e["layer"] == L else ""
        lines.append(f"| {e['layer']}{tag} | {e['top1']*100:.1f}% | {e['agree_full']*100:.1f}% | {e['loss']:.3f} |")
    lines += ["", "Confidence curve: for each exit layer and threshold τ, `cov` = fraction of tokens with "
              "max softmax prob ≥ τ, `agr` = agreement with the full model's greedy token among those, "
              "`both` = cov × agr (fraction of all tokens that could exit there and agree).", "",
              "| layer | " + " | ".join(f"τ={t} cov / agr / both" for t in TAUS) + " |",
              "|---:|" + "---:|" * len(TAUS)]
    for e in r["tokens"]["layers"][:-1]:
        cells = []
        for t in TAUS:
            d = e["tau"][str(t)]
            a = d["agree_given_confident"]
            cells.append(f"{d['coverage']*100:.1f}% / {'-' if a is None else f'{a*100:.1f}%'} / "
                         f"{d['confident_and_agree']*100:.1f}%")
        lines.append(f"| {e['layer']} | " + " | ".join(cells) + " |")
    lc = r.get("line_completion")
    if lc:
        lines += ["", f"Line completion ({lc['n']} held-out lines, seed {r['line_seed']}, full model, greedy "
                  f"until newline): exact match **{lc['exact_match']*100:.1f}%**, edit similarity "
                  f"**{lc['edit_sim']*100:.1f}%**."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--gguf", default=None)
    g.add_argument("--ckpt", default=None)
    ap.add_argument("--tokenizer", default=None, help="default: models/split-code-tokenizer.json")
    ap.add_argument("--stdlib", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--max-tokens", type=int, default=0, help="0 = all held-out tokens")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--line-seed", type=int, default=1234)
    ap.add_argument("--max-new", type=int, default=48)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "eval"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    root = os.path.join(HERE, "..", "..")
    if not args.gguf and not args.ckpt:
        cands = sorted(f for f in os.listdir(os.path.join(root, "models")) if f.endswith(".gguf"))
        args.gguf = os.path.join(root, "models", cands[-1])
    tok = Tokenizer.from_file(args.tokenizer or os.path.join(root, "models", "split-code-tokenizer.json"))
    model, source = load_model(args)
    docs = read_valid(os.path.realpath(args.stdlib))
    t0 = time.time()
    r = {"source": source, "n_valid_files": len(docs), "line_seed": args.line_seed}
    r["tokens"] = token_metrics(model, tok, docs, args.ctx, args.max_tokens, args.batch)
    t1 = time.time()
    print(f"token metrics in {t1-t0:.0f}s", flush=True)
    if args.lines:
        r["line_completion"] = line_completion(model, tok, docs, args.lines, args.line_seed, args.ctx, args.max_new)
        print(f"line completion in {time.time()-t1:.0f}s", flush=True)
    md = to_markdown(r)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "eval.json"), "w") as fh:
        json.dump(r, fh, indent=1)
    with open(os.path.join(args.out, "eval.md"), "w") as fh:
        fh.write(md)
    print(md)


if __name__ == "__main__":
    main()
