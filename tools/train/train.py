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
import sysconfig
import time

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, LlamaLM  # noqa: E402
import fim  # noqa: E402


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
    ap.add_argument("--budget-minutes", type=float, default=None,
                    help="training minutes of a time schedule (default 85); on --resume, overrides the saved value")
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
    ap.add_argument("--init-gguf", default=None,
                    help="new run starting from this GGUF's weights (a fine-tune; fresh optimizer)")
    ap.add_argument("--fim-rate", type=float, default=0.0,
                    help="fraction of samples in fill-in-the-middle form (fim.py); > 0 appends the "
                         "FIM tokens to the vocabulary of a new run")
    ap.add_argument("--fim-spm-rate", type=float, default=0.5, help="fraction of FIM samples in SPM order")
    ap.add_argument("--fim-window-chars", type=int, default=1200,
                    help="characters of a document each FIM sample is cut from (fim.py); scale it "
                         "with --ctx so FIM prompts fill a longer context as an editor's do")
    ap.add_argument("--stdlib", default=sysconfig.get_paths()["stdlib"],
                    help="where the files of splits/{train,valid}.txt are (FIM samples need text)")
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
    # exit terms on a random subset of the positions that have a target (FIM padding has none)
    scored = (y.reshape(-1) != fim.IGNORE).nonzero().squeeze(1)
    k = max(1, int(len(scored) * args.exit_frac))
    flat_logits = logits.view(n, V)
    exit_losses = []
    total = final
    if args.exit_loss == "off":
        return total, final.detach(), exit_losses
    for l, h in enumerate(hidden[:-1]):
        idx = scored[torch.randperm(len(scored), generator=gen)[:k]]
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


@torch.no_grad()
def quick_eval_fim(model, fim_batch):
    """Loss and top-1 on the middle tokens (after <|fim_middle|>) of fixed held-out FIM samples."""
    model.eval()
    x, y, middle = fim_batch
    logits = model(x)
    V = logits.shape[-1]
    lg, tg = logits.reshape(-1, V)[middle.reshape(-1)], y.reshape(-1)[middle.reshape(-1)]
    model.train()
    return {"loss": F.cross_entropy(lg, tg).item(), "acc": (lg.argmax(-1) == tg).float().mean().item()}


def read_split(stdlib, name):
    files = [l.strip() for l in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "splits",
                                                  f"{name}.txt")) if l.strip()]
    out = []
    for f in files:
        with open(os.path.join(stdlib, f), "rb") as fh:
            out.append(fh.read().decode("utf-8", errors="replace"))
    return out


def fim_batch(sampler, n):
    """n samples of sampler as tensors (x, y, mask of the middle's targets)."""
    xs, ys = zip(*(sampler.sample() for _ in range(n)))
    x, y = torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
    after_mid = (x == sampler.ids[fim.FIM_MIDDLE]).cumsum(1) > 0
    return x, y, after_mid & (y != fim.IGNORE)


def init_from_gguf(path, fim_tokens, seed, ctx):
    """A model with the GGUF's weights and a context of ctx positions (RoPE is computed, not
    learned, so a longer context just extends the positions; training teaches the model to use
    them). With fim_tokens, the FIM tokens' embedding rows are appended unless the GGUF already
    has them (the mean embedding plus noise of a tenth of the per-dimension spread, so each new
    token starts as an 'average' token that the tied head does not favour)."""
    from gguf_io import load_gguf
    base = load_gguf(path)
    cfg = Config(**base.cfg.to_dict())
    cfg.max_seq_len = ctx
    sd = base.state_dict()
    if fim_tokens and cfg.vocab_size == 4096:
        emb = sd["model.embed_tokens.weight"]
        g = torch.Generator().manual_seed(seed)
        new = emb.mean(0) + 0.1 * emb.std(0) * torch.randn(len(fim.FIM_TOKENS), emb.shape[1], generator=g)
        sd["model.embed_tokens.weight"] = torch.cat([emb, new])
        cfg.vocab_size += len(fim.FIM_TOKENS)
    model = LlamaLM(cfg)
    model.load_state_dict(sd)
    return cfg, model


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
        if args.budget_minutes is None:
            args.budget_minutes = saved_args["budget_minutes"]
        for key in ("lr", "min_lr_frac", "warmup", "wd", "schedule", "max_steps",
                    "exit_frac", "exit_weights", "exit_total", "distill", "ctx", "seed"):
            setattr(args, key, saved_args[key])
        args.exit_loss = saved_args.get("exit_loss", "on")
        for key in ("init_gguf", "fim_rate", "fim_spm_rate", "fim_window_chars"):
            setattr(args, key, saved_args.get(key, getattr(args, key)))
        if args.batch is None:
            args.batch = saved_args["batch"]
    else:
        ck = None
        if args.batch is None:
            args.batch = 16
        if args.budget_minutes is None:
            args.budget_minutes = 85.0
        cfg = Config(vocab_size=4096, dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                     n_kv_heads=args.kv_heads, ffn_dim=args.ffn, max_seq_len=args.ctx)

    torch.manual_seed(args.seed)
    if ck is None and args.init_gguf:
        cfg, model = init_from_gguf(args.init_gguf, args.fim_rate > 0, args.seed, args.ctx)
    else:
        model = LlamaLM(cfg)
    sampler = valid_fim = None
    if args.fim_rate > 0:
        # the run's tokenizer: the corpus BPE plus the FIM tokens (export_gguf.py --tokenizer)
        tok_path = os.path.join(args.run, "tokenizer.json")
        if not os.path.exists(tok_path):
            fim.add_fim_tokens(Tokenizer.from_file(os.path.join(args.data, "tokenizer.json"))).save(tok_path)
        tok = Tokenizer.from_file(tok_path)
        assert tok.get_vocab_size() == cfg.vocab_size, (tok.get_vocab_size(), cfg.vocab_size)
        sampler = fim.FIMSampler(read_split(args.stdlib, "train"), tok, args.ctx, args.fim_spm_rate,
                                 window_chars=args.fim_window_chars, seed=args.seed + 2)
        valid_fim = fim_batch(fim.FIMSampler(read_split(args.stdlib, "valid"), tok, args.ctx,
                                             args.fim_spm_rate, window_chars=args.fim_window_chars,
                                             seed=7), 32)
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
        if sampler is not None:
            sampler.load(ck["fim"])
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
              "torch_rng": torch.get_rng_state(),
              "fim": sampler.state() if sampler is not None else None}
        tmp = ckpt_path + ".tmp"
        torch.save(st, tmp)
        os.replace(tmp, ckpt_path)
        say(f"checkpoint step {step} tokens {tokens} elapsed {elapsed/60:.1f} min")

    def fim_report():
        if valid_fim is None:
            return ""
        r = quick_eval_fim(model, valid_fim)
        return f" fim_middle_loss {r['loss']:.4f} fim_middle_acc {r['acc']:.4f}"

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
        if sampler is not None:
            x, y = x.clone(), y.clone()  # views of one window array
            for i in range(x.shape[0]):
                if sampler.rng.random() < args.fim_rate:
                    xi, yi = sampler.sample()
                    x[i], y[i] = torch.from_numpy(xi), torch.from_numpy(yi)
        loss, final, exits = compute_loss(model, x, y, args, weights, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += int((y != fim.IGNORE).sum())
        tok_log += int((y != fim.IGNORE).sum())
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
                f"exit_acc {r['exit_acc']} exit_agree {r['exit_agree']}{fim_report()}")
            t_log = time.time()
        if time.time() - last_ckpt >= args.ckpt_minutes * 60:
            save()
            last_ckpt = time.time()
    save()
    r = quick_eval(model, valid, args.ctx)
    say(f"final eval step {step} valid_loss {r['loss']:.4f} acc {r['acc']:.4f} "
        f"exit_acc {r['exit_acc']} exit_agree {r['exit_agree']}{fim_report()}")
    say("done")


if __name__ == "__main__":
    main()
