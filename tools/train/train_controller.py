"""Train split-exit's stop/exit/continue controller for a Split GGUF and write it out.

After Sun et al., "When Neural Code Completion Models Size up the Situation" (ICSE 2024):
per eligible layer l, a linear classifier on features of the hidden state after l layers
(the state divided by its RMS, then the exit head's top probability and top-1/top-2 margin)
with three outcomes. Labels come from teacher forcing on training code: for each position, the
first layer whose head (shared final norm + LM head) predicts the true next token marks "exit"
from there on and "continue" below it; where no layer (the full model included) predicts it,
every layer is labelled "stop".

Writes `split.exit_controller.<l>.weight` [3, d+2] (rows: continue, exit, stop),
`split.exit_controller.<l>.bias` [3] and `split.exit_controller.thresholds` [2] (exit, stop
probabilities) as f32 into a sidecar GGUF next to the model (`<model>.controller.gguf`, which the
runtime loads when the model file has no controller), or with --embed into a copy of the model
file. A post-processing step: re-run it after the model is re-exported.

    python3 tools/train/train_controller.py --model models/split-code-7m.gguf \
        --data /work/train-data/train.bin --positions 48000
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gguf_io import load_gguf  # noqa: E402

CONTINUE, EXIT, STOP = 0, 1, 2


@torch.no_grad()
def features_and_labels(model, data, positions, ctx, seed, batch=8):
    """Features [L-1][N, d+2] for layers 1..L-1 and labels [L-1][N]."""
    L = model.cfg.n_layers
    rng = np.random.default_rng(seed)
    feats = [[] for _ in range(L - 1)]
    labels = [[] for _ in range(L - 1)]
    done = 0
    while done < positions:
        starts = rng.integers(0, len(data) - ctx - 1, size=batch)
        x = torch.from_numpy(np.stack([data[s:s + ctx] for s in starts]).astype(np.int64))
        y = torch.from_numpy(np.stack([data[s + 1:s + ctx + 1] for s in starts]).astype(np.int64))
        _, hidden = model(x, return_hidden=True)
        correct = []  # per layer 1..L: does its head predict the true token?
        conf = []
        for h in hidden:
            p = F.softmax(model.head(h).float(), dim=-1)
            top2 = p.topk(2, dim=-1).values
            correct.append(p.argmax(-1) == y)
            conf.append(torch.stack([top2[..., 0], top2[..., 0] - top2[..., 1]], dim=-1))
        correct = torch.stack(correct, dim=0)  # [L, B, T]
        any_correct = correct.any(0)
        first = torch.where(any_correct, correct.float().argmax(0), torch.full_like(y, L))  # 0-based layer index
        for i in range(L - 1):  # layer i+1
            h = hidden[i]
            normed = h / torch.sqrt((h * h).mean(-1, keepdim=True) + 1e-6)
            f = torch.cat([normed, conf[i]], dim=-1).reshape(-1, h.shape[-1] + 2)
            lab = torch.where(~any_correct, torch.full_like(y, STOP),
                              torch.where(first <= i, torch.full_like(y, EXIT), torch.full_like(y, CONTINUE)))
            feats[i].append(f.numpy().astype(np.float32))
            labels[i].append(lab.reshape(-1).numpy())
        done += x.numel()
    return [np.concatenate(f) for f in feats], [np.concatenate(l) for l in labels]


def train_head(X, y, steps, lr, weight_decay):
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    lin = torch.nn.Linear(X.shape[1], 3)
    torch.nn.init.zeros_(lin.weight)
    torch.nn.init.zeros_(lin.bias)
    opt = torch.optim.Adam(lin.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(lin(Xt), yt)
        loss.backward()
        opt.step()
    return lin


def copy_model(reader, writer):
    """Copies every metadata field and tensor of `reader` into `writer` (for --embed)."""
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == "general.architecture":
            continue
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            sub = field.types[1]
            if sub == gguf.GGUFValueType.STRING:
                val = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
            else:
                val = [field.parts[i].tolist()[0] for i in field.data]
            writer.add_array(field.name, val)
        elif vtype == gguf.GGUFValueType.STRING:
            writer.add_string(field.name, bytes(field.parts[field.data[0]]).decode("utf-8"))
        else:
            writer.add_key_value(field.name, field.parts[field.data[0]].tolist()[0], vtype)
    for t in reader.tensors:
        shape = tuple(int(x) for x in reversed(t.shape.tolist()))
        writer.add_tensor(t.name, np.array(t.data).reshape(shape), raw_dtype=t.tensor_type)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/split-code-7m.gguf")
    ap.add_argument("--data", default="/work/train-data/train.bin", help="uint16 token stream (prepare_data.py)")
    ap.add_argument("--valid", default="/work/train-data/valid.bin", help="held-out stream for the report")
    ap.add_argument("--positions", type=int, default=48000, help="training positions (teacher forcing)")
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--exit-threshold", type=float, default=0.5, help="P(exit) that answers on the edge")
    ap.add_argument("--stop-threshold", type=float, default=0.9, help="P(stop) that ends a completion")
    ap.add_argument("--out", default=None, help="default: <model>.controller.gguf (sidecar)")
    ap.add_argument("--embed", action="store_true", help="write a copy of the model with the controller inside to --out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    model = load_gguf(args.model)
    L, d = model.cfg.n_layers, model.cfg.dim
    data = np.memmap(args.data, dtype=np.uint16, mode="r")
    X, Y = features_and_labels(model, data, args.positions, args.ctx, args.seed)
    valid = np.memmap(args.valid, dtype=np.uint16, mode="r")
    VX, VY = features_and_labels(model, valid, max(2048, args.positions // 8), args.ctx, args.seed + 1)
    report = {"model": os.path.basename(args.model), "positions": int(len(Y[0])), "layers": {}}
    heads = {}
    for i in range(L - 1):
        lin = train_head(X[i], Y[i], args.steps, args.lr, args.weight_decay)
        with torch.no_grad():
            p = F.softmax(lin(torch.from_numpy(VX[i])), dim=-1).numpy()
        exits = p[:, EXIT] >= args.exit_threshold
        stops = p[:, STOP] >= args.stop_threshold
        layer = i + 1
        report["layers"][layer] = {
            "label_share": {n: float((Y[i] == c).mean()) for n, c in (("continue", 0), ("exit", 1), ("stop", 2))},
            "valid_accuracy": float((p.argmax(1) == VY[i]).mean()),
            "valid_exit_rate": float(exits.mean()),
            "valid_exit_precision": float((VY[i][exits] == EXIT).mean()) if exits.any() else None,
            "valid_stop_rate": float(stops.mean()),
            "valid_stop_precision": float((VY[i][stops] == STOP).mean()) if stops.any() else None,
        }
        heads[layer] = (lin.weight.detach().numpy().astype(np.float32), lin.bias.detach().numpy().astype(np.float32))
        print(f"layer {layer}: {json.dumps(report['layers'][layer])}", flush=True)

    out = args.out or (args.model[:-5] if args.model.endswith(".gguf") else args.model) + ".controller.gguf"
    reader = gguf.GGUFReader(args.model) if args.embed else None
    writer = gguf.GGUFWriter(out, "llama" if args.embed else "split-exit-controller")
    if reader is not None:
        copy_model(reader, writer)
    writer.add_string("split.exit_controller.source_model", os.path.basename(args.model))
    # The runtime ignores a sidecar trained for another model file (e.g. after a re-export).
    digest = hashlib.sha256()
    with open(args.model, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    writer.add_string("split.exit_controller.model_sha256", digest.hexdigest())
    for layer, (w, b) in heads.items():
        writer.add_tensor(f"split.exit_controller.{layer}.weight", w)
        writer.add_tensor(f"split.exit_controller.{layer}.bias", b)
    writer.add_tensor("split.exit_controller.thresholds", np.array([args.exit_threshold, args.stop_threshold], dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    report["out"] = out
    report["seconds"] = round(time.time() - t0, 1)
    with open(out[:-5] + ".json" if out.endswith(".gguf") else out + ".json", "w") as fh:
        json.dump(report, fh, indent=1)
    print(f"wrote {out} in {report['seconds']} s")


if __name__ == "__main__":
    main()
