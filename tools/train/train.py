#!/usr/bin/env python3
"""Train the Split code model with a LayerSkip-style early-exit loss.

Loss = CE(final) + sum_{l<L} w_l * [ (1-a) * CE(exit_l) + a * KL(final.detach() || exit_l) ]
where exit_l = lm_head(norm(h_l)) (shared final RMSNorm + tied head) and the exit terms
are computed on a random subset (--exit-frac, default 25%) of positions per layer.
Exit weights (--exit-weights): 'early' (default) = w_l proportional to (L - l), normalised to
sum --exit-total (default 1.0), i.e. weighted toward early layers; 'flat' = equal weights.
a = --distill (self-distillation from the final layer, default 0.5) makes exits agree with
the full model, which is what an early-exit policy needs.

--exit-loss off trains with the final CE only (the exit terms are not computed): a model like
one a user brings, whose shallow states were never trained to predict through the shared head.

Checkpoints to <run>/ckpt.pt every --ckpt-minutes (model, optimizer, step, rng states,
data position, elapsed training seconds); --resume continues. --max-minutes stops cleanly.
LR: linear warmup then cosine to --min-lr-frac * lr. Progress for the schedule is
--schedule steps (step / --max-steps) or time (elapsed training seconds / --budget-minutes,
cumulative across resumes; robust when the CPU is shared).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, LlamaLM  # noqa: E402


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/train-data")
    ap.add_argument("--run", default="/work/train-runs/code")
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=8)
    ap.add_argument("--ffn", type=int, default=688)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--batch", type=int, default=None, help="default 16; on --resume, overrides the saved value")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--schedule", choices=["steps", "time"], default="steps")
    ap.add_argument("--max-steps", type=int, default=1500)
    ap.add_argument("--budget-minutes", type=float, default=85.0)
    ap.add_argument("--max-minutes", type=float, default=1e9)
    ap.add_argument("--exit-loss", choices=["on", "off"], default="on",
                    help="off: final CE only (no exit terms), a model whose shallow layers were never "
                         "trained to predict through the shared head -- the baseline for train-exits")
    ap.add_argument("--exit-frac", type=float, default=0.25)
    ap.add_argument("--exit-weights", choices=["early", "flat"], default="early")
    ap.add_argument("--exit-total", type=float, default=1.0)
    ap.add_argument("--distill", type=float, default=0.5)
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--new-cycle-minutes", type=float, default=None,
                    help="with --resume (time schedule): start a new warmup+cosine cycle of this many "
                         "training minutes from the checkpoint (peak --new-cycle-lr), to continue a "
                         "finished/annealed run in a later session")
    ap.add_argument("--new-cycle-lr", type=float, default=1e-3)
    return ap.parse_args()


class Batcher:
    """Epoch-wise shuffled non-overlapping windows (random start offset per epoch)."""

    def __init__(self, data, ctx, batch, seed):
        self.data, self.ctx, self.batch = data, ctx, batch
        self.rng = np.random.default_rng(seed)
        self.epoch, self.pos = 0, 0
        self._new_epoch()

    def _new_epoch(self):
        off = int(self.rng.integers(0, self.ctx))
        n = (len(self.data) - off - 1) // self.ctx
        self.starts = off + self.ctx * self.rng.permutation(n)

    def next(self):
        if self.pos + self.batch > len(self.starts):
            self.epoch += 1
            self.pos = 0
            self._new_epoch()
        s = self.starts[self.pos:self.pos + self.batch]
        self.pos += self.batch
        w = np.stack([self.data[i:i + self.ctx + 1] for i in s]).astype(np.int64)
        w = torch.from_numpy(w)
        return w[:, :-1], w[:, 1:]

    def state(self):
        return {"epoch": self.epoch, "pos": self.pos, "starts": self.starts,
                "rng": self.rng.bit_generator.state}

    def load(self, st):
        self.epoch, self.pos, self.starts = st["epoch"], st["pos"], st["starts"]
        self.rng.bit_generator.state = st["rng"]


def exit_weights(L, kind, total):
    if kind == "flat":
        w = [1.0] * (L - 1)
    else:
        w = [float(L - l) for l in range(1, L)]
    s = sum(w)
    return [total * x / s for x in w]


def lr_at(args, step, elapsed):
    c_step = getattr(args, "cycle_start_step", 0)
    c_el = getattr(args, "cycle_start_elapsed", 0.0)
    step, elapsed = step - c_step, elapsed - c_el
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if args.schedule == "steps":
        p = (step - args.warmup) / max(1, args.max_steps - args.warmup)
    else:
        p = elapsed / (args.budget_minutes * 60.0)
    p = min(max(p, 0.0), 1.0)
    return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def compute_loss(model, x, y, args, weights, gen):
    logits, hidden = model(x, return_hidden=True)
    V = logits.shape[-1]
    final = F.cross_entropy(logits.view(-1, V), y.reshape(-1))
    B, T = y.shape
    n = B * T
    k = max(1, int(n * args.exit_frac))
    flat_logits = logits.view(n, V)
    exit_losses = []
    total = final
    if args.exit_loss == "off":
        return total, final.detach(), exit_losses
    for l, h in enumerate(hidden[:-1]):
        idx = torch.randperm(n, generator=gen)[:k]
        hl = h.reshape(n, -1)[idx]
        el = model.head(hl)
        ce = F.cross_entropy(el, y.reshape(-1)[idx])
        loss_l = ce
        if args.distill > 0:
            tgt = F.log_softmax(flat_logits[idx].detach(), -1)
            kl = F.kl_div(F.log_softmax(el, -1), tgt, log_target=True, reduction="batchmean")
            loss_l = (1 - args.distill) * ce + args.distill * kl
        exit_losses.append(ce.detach())
        total = total + weights[l] * loss_l
    return total, final.detach(), exit_losses


@torch.no_grad()
def quick_eval(model, valid, ctx, n_windows=32):
    model.eval()
    starts = np.linspace(0, len(valid) - ctx - 2, n_windows).astype(np.int64)
    w = torch.from_numpy(np.stack([valid[i:i + ctx + 1] for i in starts]).astype(np.int64))
    x, y = w[:, :-1], w[:, 1:]
    logits, hidden = model(x, return_hidden=True)
    V = logits.shape[-1]
    res = {"loss": F.cross_entropy(logits.reshape(-1, V), y.reshape(-1)).item(),
           "acc": (logits.argmax(-1) == y).float().mean().item()}
    full = logits.argmax(-1)
    res["exit_acc"] = []
    res["exit_agree"] = []
    for h in hidden[:-1]:
        p = model.head(h).argmax(-1)
        res["exit_acc"].append(round((p == y).float().mean().item(), 4))
        res["exit_agree"].append(round((p == full).float().mean().item(), 4))
    model.train()
    return res


def main():
    args = parse()
    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    ckpt_path = os.path.join(args.run, "ckpt.pt")
    log = open(os.path.join(args.run, "train.log"), "a")

    def say(s):
        line = f"{time.strftime('%H:%M:%S', time.gmtime())} {s}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    train = np.fromfile(os.path.join(args.data, "train.bin"), dtype=np.uint16)
    valid = np.fromfile(os.path.join(args.data, "valid.bin"), dtype=np.uint16)

    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        cfg = Config(**ck["config"])
        saved_args = ck["args"]
        # keep the schedule/loss hyper-parameters of the run; allow overriding time limits
        # and (explicitly) the batch size
        for key in ("lr", "min_lr_frac", "warmup", "wd", "schedule", "max_steps", "budget_minutes",
                    "exit_frac", "exit_weights", "exit_total", "distill", "ctx", "seed"):
            setattr(args, key, saved_args[key])
        args.exit_loss = saved_args.get("exit_loss", "on")
        if args.batch is None:
            args.batch = saved_args["batch"]
    else:
        ck = None
        if args.batch is None:
            args.batch = 16
        cfg = Config(vocab_size=4096, dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                     n_kv_heads=args.kv_heads, ffn_dim=args.ffn, max_seq_len=args.ctx)

    torch.manual_seed(args.seed)
    model = LlamaLM(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    batcher = Batcher(train, args.ctx, args.batch, args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)
    step, elapsed, tokens = 0, 0.0, 0
    if ck is not None:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        batcher.load(ck["data"])
        gen.set_state(ck["torch_gen"])
        torch.set_rng_state(ck["torch_rng"])
        step, elapsed, tokens = ck["step"], ck["elapsed"], ck["tokens"]
        batcher.batch = args.batch
        args.cycle_start_step = saved_args.get("cycle_start_step", 0)
        args.cycle_start_elapsed = saved_args.get("cycle_start_elapsed", 0.0)
        if args.new_cycle_minutes:
            args.schedule = "time"
            args.cycle_start_step, args.cycle_start_elapsed = step, elapsed
            args.budget_minutes, args.lr = args.new_cycle_minutes, args.new_cycle_lr
            args.new_cycle_minutes = None
        say(f"resumed from {ckpt_path} at step {step}, tokens {tokens}, elapsed {elapsed/60:.1f} min, "
            f"batch {args.batch}, args {vars(args)}")
    else:
        say(f"new run: config {cfg.to_dict()} params {model.n_params()} args {vars(args)}")
    weights = exit_weights(cfg.n_layers, args.exit_weights, args.exit_total)
    say(f"exit weights {[round(w, 4) for w in weights]}")

    def save():
        st = {"model": model.state_dict(), "optim": opt.state_dict(), "config": cfg.to_dict(),
              "args": vars(args), "step": step, "elapsed": elapsed, "tokens": tokens,
              "data": batcher.state(), "torch_gen": gen.get_state(),
              "torch_rng": torch.get_rng_state()}
        tmp = ckpt_path + ".tmp"
        torch.save(st, tmp)
        os.replace(tmp, ckpt_path)
        say(f"checkpoint step {step} tokens {tokens} elapsed {elapsed/60:.1f} min")

    model.train()
    session_start = time.time()
    last_ckpt = time.time()
    t_log, tok_log = time.time(), 0
    while True:
        if args.schedule == "steps" and step >= args.max_steps:
            break
        if args.schedule == "time" and elapsed - getattr(args, "cycle_start_elapsed", 0.0) >= args.budget_minutes * 60:
            break
        if (time.time() - session_start) / 60 >= args.max_minutes:
            break
        t0 = time.time()
        lr = lr_at(args, step, elapsed)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batcher.next()
        loss, final, exits = compute_loss(model, x, y, args, weights, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += x.numel()
        tok_log += x.numel()
        elapsed += time.time() - t0
        if step % args.log_every == 0:
            dt = time.time() - t_log
            say(f"step {step} ep {batcher.epoch} loss {final.item():.4f} exits "
                f"{' '.join(f'{e.item():.2f}' for e in exits)} lr {lr:.2e} gn {gn:.2f} "
                f"tok/s {tok_log/dt:.0f} tokens {tokens} elapsed {elapsed/60:.1f}m")
            t_log, tok_log = time.time(), 0
        if step % args.eval_every == 0:
            r = quick_eval(model, valid, args.ctx)
            say(f"eval step {step} valid_loss {r['loss']:.4f} acc {r['acc']:.4f} "
                f"exit_acc {r['exit_acc']} exit_agree {r['exit_agree']}")
            t_log = time.time()
        if time.time() - last_ckpt >= args.ckpt_minutes * 60:
            save()
            last_ckpt = time.time()
    save()
    r = quick_eval(model, valid, args.ctx)
    say(f"final eval step {step} valid_loss {r['loss']:.4f} acc {r['acc']:.4f} "
        f"exit_acc {r['exit_acc']} exit_agree {r['exit_agree']}")
    say("done")


if __name__ == "__main__":
    main()
