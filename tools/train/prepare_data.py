#!/usr/bin/env python3
"""Prepare the code corpus: split stdlib files, train the BPE tokenizer, tokenize.

Corpus: every .py file of the CPython stdlib (sysconfig stdlib path), excluding any
path with a test/, tests/ or idlelib/ directory component and site-packages.
5% of files (random.Random(1234)) are held out for validation.

Outputs:
  tools/train/splits/{train,valid}.txt   (relative paths, committed)
  <out>/tokenizer.json
  <out>/{train,valid}.bin                (uint16 token ids, documents separated by id 0)
"""
import argparse
import os
import random
import sys
import sysconfig
import time

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
EOT = "<|endoftext|>"
EXCLUDE_DIRS = {"test", "tests", "idlelib", "site-packages"}


def list_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        parts = [] if rel == "." else rel.split(os.sep)
        if any(p in EXCLUDE_DIRS for p in parts):
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames if d not in EXCLUDE_DIRS]
        for f in filenames:
            if f.endswith(".py"):
                out.append(os.path.join(rel, f) if parts else f)
    return sorted(out)


def split_files(files, frac=0.05, seed=1234):
    rng = random.Random(seed)
    n_valid = max(1, round(len(files) * frac))
    valid = set(rng.sample(files, n_valid))
    train = [f for f in files if f not in valid]
    return train, sorted(valid)


def read(root, rel):
    with open(os.path.join(root, rel), "rb") as fh:
        return fh.read().decode("utf-8", errors="replace")


def build_tokenizer(vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    return tok, trainer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stdlib", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--out", default="/work/train-data")
    ap.add_argument("--vocab", type=int, default=4096)
    args = ap.parse_args()

    root = os.path.realpath(args.stdlib)
    files = list_files(root)
    train, valid = split_files(files)
    print(f"stdlib={root} files={len(files)} train={len(train)} valid={len(valid)}")
    os.makedirs(os.path.join(HERE, "splits"), exist_ok=True)
    for name, lst in (("train", train), ("valid", valid)):
        with open(os.path.join(HERE, "splits", f"{name}.txt"), "w") as fh:
            fh.write("\n".join(lst) + "\n")

    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    train_texts = [read(root, f) for f in train]
    tok, trainer = build_tokenizer(args.vocab)
    tok.train_from_iterator(train_texts, trainer=trainer)
    assert tok.token_to_id(EOT) == 0
    tok.save(os.path.join(args.out, "tokenizer.json"))
    print(f"tokenizer trained in {time.time()-t0:.1f}s, vocab={tok.get_vocab_size()}")

    for name, lst in (("train", train), ("valid", valid)):
        t0 = time.time()
        texts = train_texts if name == "train" else [read(root, f) for f in lst]
        encs = tok.encode_batch(texts)
        ids = [0]
        for e in encs:
            ids.extend(e.ids)
            ids.append(0)
        arr = np.asarray(ids, dtype=np.uint16)
        arr.tofile(os.path.join(args.out, f"{name}.bin"))
        nbytes = sum(len(t.encode()) for t in texts)
        print(f"{name}: {len(lst)} files, {nbytes/1e6:.2f} MB, {len(arr)} tokens "
              f"({nbytes/len(arr):.2f} bytes/token) in {time.time()-t0:.1f}s")


if __name__ == "__main__":
    main()
