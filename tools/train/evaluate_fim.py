#!/usr/bin/env python3
"""Fill-in-the-middle quality of the code model on the held-out stdlib files.

Task: a whole line of a held-out file (tools/train/splits/valid.txt) is removed, as when an editor
asks for the line under the cursor; the model writes it greedily until a newline, <|endoftext|>
or a FIM token. Lines are drawn with a fixed seed among lines that are not empty or only
whitespace and are not a file's first line. Scores (as CrossCodeEval / the SantaCoder paper):
exact match of the line (trailing whitespace ignored) and edit similarity,
1 - Levenshtein(prediction, line) / max(len(prediction), len(line)).

Cursor: at the start of the line (the whole line is the middle), or with "/inside" after a
prompt kind, at a seeded point between the line's indentation and its end (the rest of the line
is the middle, as evaluate.py's line completion cuts it).

Prompts, each from the same text around the line:
  * fim-psm / fim-spm: llama.cpp's infill prompt (format_infill; Split's FIMPrompt) for a
    256-token context: BOS, then <|fim_prefix|> + the prefix's last --prefix-tokens tokens and
    <|fim_suffix|> + the suffix's first --suffix-tokens tokens (PSM; SPM: suffix part first),
    then <|fim_middle|>. Defaults 96 / 30 are what llama.cpp's window keeps with a batch of
    half the context (Split's FIMPrompt.Window.standard): 3/4 of 128 and 1/4 less the two tokens.
  * prefix: BOS + the same --prefix-tokens prefix tokens, no suffix (a plain completion);
  * prefix-long: BOS + the prefix's last ctx - max_new tokens (all the context a plain
    completion can use).
Each --model NAME=GGUF is scored with the --prompts it can take (FIM needs the FIM tokens).
Writes <out>/fim_eval.{md,json}; a (model, prompt) row already in that json with the same GGUF
SHA-256 and settings is kept rather than recomputed (so models can be scored one at a time).

Usage: python3 tools/train/evaluate_fim.py --model new=models/split-code-7m.gguf \\
          --model old=/tmp/old-split-code-7m.gguf --lines 300
"""
import argparse
import hashlib
import json
import os
import random
import sys
import sysconfig
import time

import torch
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fim  # noqa: E402
from evaluate import greedy_line, levenshtein, read_valid  # noqa: E402
from gguf_io import load_gguf  # noqa: E402


def pick_middle_lines(docs, n, seed):
    """n (file, line number, prefix, line, suffix) with a non-blank line in the middle."""
    cands = []
    for di, (_, text) in enumerate(docs):
        for li, line in enumerate(text.split("\n")):
            if li > 0 and line.strip():
                cands.append((di, li))
    out = []
    cuts = random.Random(seed + 1)
    for di, li in random.Random(seed).sample(cands, n):
        lines = docs[di][1].split("\n")
        line = lines[li]
        indent = len(line) - len(line.lstrip())
        out.append({"file": docs[di][0], "line": li + 1, "prefix": "\n".join(lines[:li]) + "\n",
                    "target": line, "suffix": "\n" + "\n".join(lines[li + 1:]),
                    "cut": cuts.randint(indent, len(line.rstrip()) - 1)})
    return out


def at_cursor(item, cursor):
    """The item as an editor sends it: cursor at the line's start, or inside it (the rest missing)."""
    if cursor == "start":
        return item
    cut = item["cut"]
    return item | {"prefix": item["prefix"] + item["target"][:cut], "target": item["target"][cut:]}


def prompt_ids(kind, item, tok, ids, args):
    enc = lambda s: tok.encode(s, add_special_tokens=False).ids if s else []  # noqa: E731
    prefix = enc(item["prefix"])
    if kind == "prefix-long":
        return [fim.EOT_ID] + prefix[-(args.ctx - args.max_new - 1):]
    prefix = prefix[-args.prefix_tokens:]
    if kind == "prefix":
        return [fim.EOT_ID] + prefix
    suffix = enc(item["suffix"])[:args.suffix_tokens]
    return fim.layout(prefix, suffix, None, ids, spm=(kind == "fim-spm"))


def score(model, tok, items, kind, args):
    ids = fim.fim_ids(tok)
    stop = {fim.EOT_ID} | set(ids.values())
    em, es, rows = 0, 0.0, []
    kind, _, cursor = kind.partition("/")
    for it in items:
        it = at_cursor(it, cursor or "start")
        pred = greedy_line(model, tok, prompt_ids(kind, it, tok, ids, args), args.max_new, stop).rstrip()
        tgt = it["target"].rstrip()
        m = max(len(pred), len(tgt))
        sim = 1.0 if m == 0 else 1.0 - levenshtein(pred, tgt) / m
        em += pred == tgt
        es += sim
        rows.append({"prediction": pred, "exact": pred == tgt, "edit_sim": round(sim, 4)})
    return {"exact_match": em / len(items), "edit_sim": es / len(items), "rows": rows}


def write_outputs(args, docs, items, meta, results):
    """Writes <out>/fim_eval.{json,md} (after every row, so an interrupted run keeps its rows)."""
    lines = [{"file": it["file"], "line": it["line"], "target": it["target"]} for it in items]
    with open(os.path.join(args.out, "fim_eval.json"), "w") as fh:  # results[i].predictions[j] is the prediction for lines[j]
        json.dump({"settings": meta, "lines": lines, "results": results}, fh, indent=1)
    md = [f"Held-out middle lines: {args.lines} (seed {args.seed}) of the {len(docs)} files of "
          f"tools/train/splits/valid.txt; greedy, until newline / <|endoftext|> / a FIM token. Prompt "
          f"windows: prefix {args.prefix_tokens} tokens, suffix {args.suffix_tokens} tokens, prefix-long "
          f"{args.ctx - args.max_new - 1} tokens.", "",
          "| model (GGUF SHA-256) | prompt | exact match | edit similarity |", "|---|---|---:|---:|"]
    for r in results:
        md.append(f"| {r['model']} ({r['sha256'][:12]}) | {r['prompt']} | {r['exact_match']:.1%} | {r['edit_sim']:.1%} |")
    with open(os.path.join(args.out, "fim_eval.md"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    return md


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", action="append", required=True, help="NAME=GGUF (repeatable)")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "..", "..", "models", "split-code-tokenizer.json"),
                    help="HF tokenizer json with the FIM tokens; a model without them shares its BPE")
    ap.add_argument("--stdlib", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--lines", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--prefix-tokens", type=int, default=96)
    ap.add_argument("--suffix-tokens", type=int, default=30)
    ap.add_argument("--max-new", type=int, default=48)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--prompts", default="fim-psm,fim-spm,prefix,prefix-long,fim-psm/inside,fim-spm/inside,prefix/inside")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "eval"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    tok = Tokenizer.from_file(args.tokenizer)
    docs = read_valid(args.stdlib)
    items = pick_middle_lines(docs, args.lines, args.seed)
    meta = {k: getattr(args, k) for k in ("lines", "seed", "ctx", "prefix_tokens", "suffix_tokens", "max_new")}
    os.makedirs(args.out, exist_ok=True)
    json_path = os.path.join(args.out, "fim_eval.json")
    earlier = json.load(open(json_path)) if os.path.exists(json_path) else {}
    kept = earlier.get("results", []) if earlier.get("settings") == meta else []
    results = []
    for spec in args.model:
        name, path = spec.split("=", 1)
        sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
        model = load_gguf(path)
        has_fim = model.cfg.vocab_size >= tok.get_vocab_size() and len(fim.fim_ids(tok)) == len(fim.FIM_TOKENS)
        for kind in args.prompts.split(","):
            if kind.startswith("fim") and not has_fim:  # a model without FIM tokens
                continue
            same = [r for r in kept if (r["model"], r["sha256"], r["prompt"]) == (name, sha, kind)]
            if same:
                results.append(same[0])
                continue
            t0 = time.time()
            r = score(model, tok, items, kind, args)
            print(f"{name} {kind}: exact {r['exact_match']:.1%} edit sim {r['edit_sim']:.1%} "
                  f"({time.time() - t0:.0f} s)", flush=True)
            results.append({"model": name, "gguf": os.path.relpath(path), "sha256": sha, "prompt": kind,
                            "exact_match": r["exact_match"], "edit_sim": r["edit_sim"],
                            "predictions": [row["prediction"] for row in r["rows"]]})
            write_outputs(args, docs, items, meta, results)

    print("\n".join(write_outputs(args, docs, items, meta, results)))

if __name__ == "__main__":
    main()
