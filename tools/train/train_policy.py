#!/usr/bin/env python3
"""Train the bundled robot policy (models/split-robot-policy.gguf) by behaviour cloning.

The policy is a small Llama-style transformer: an input projection turns each input token
(a state token and a target token, see robot_sim.policy_tokens) into a hidden vector, the
blocks of tools/train/model.py run over the two positions, and an action head on the last
position's final-normed hidden state outputs a chunk of H displacements; action i is the state's
position plus displacement i (a commanded position for step i of the chunk).

Data: the scripted expert of robot_sim.py, sampled on the fly. VLASH's offset augmentation: the
robot state is replaced, half the time, by the state at a random offset delta in [1, H) into
the chunk, reached by executing the previous chunk (planned for the same target, or, 30% of the
time, for an older one: a jump happened during the delay) while the observed target stays the
one seen at the start; the label is the expert's chunk from that future state. At run time the
control client conditions the policy on exactly such a rolled-forward state.

--arm (models/split-robot-policy-arm.gguf): demonstrations as teleoperated ones are, at a pace
well below the robot's limit (robot_sim.DEMO_PACE, a third of V_MAX), on the arm with an
acceleration limit (robot_sim.A_MAX), and half of them passing through the target to a next
waypoint without stopping (the path task): the target token carries the next waypoint.

Usage:
  python3 tools/train/train_policy.py --out models/split-robot-policy.gguf [--steps 4000]
Takes a few minutes on 2 CPU threads; prints the held-out error in the policy's own units
(position, arena [-1, 1]) and the expert-relative error of the exported f32 file.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import gguf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Block, Config, RMSNorm, rope_cache  # noqa: E402
from export_gguf import add_llama_shape, permute  # noqa: E402
import robot_sim as sim  # noqa: E402


class Policy(nn.Module):
    def __init__(self, cfg: Config, horizon: int):
        super().__init__()
        self.cfg = cfg
        self.horizon = horizon
        self.input_proj = nn.Linear(sim.TOKEN_FEATURES, cfg.dim)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.action_head = nn.Linear(cfg.dim, horizon * sim.ACTION_DIM)
        cos, sin = rope_cache(cfg, cfg.max_seq_len)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def forward(self, tokens):
        t = tokens.shape[1]
        x = self.input_proj(tokens)
        for layer in self.layers:
            x = layer(x, self.rope_cos[:t], self.rope_sin[:t])
        out = self.action_head(self.norm(x[:, -1]))
        return out.view(-1, self.horizon, sim.ACTION_DIM)


def next_waypoints(rng, g, through):
    """A next waypoint 0.3–1.2 from each target where `through`, else the target itself."""
    n = len(g)
    angle = rng.uniform(0, 2 * math.pi, n)
    far = rng.uniform(0.3, 1.2, n)
    nxt = np.clip(g + np.stack([np.cos(angle), np.sin(angle)], -1) * far[:, None], -0.95, 0.95)
    return np.where(through[:, None], nxt, g)


def sample_batch(rng, n, horizon, arm=False):
    """Inputs (n, 2, 8) and displacement labels (n, H, 2) with the offset augmentation."""
    pace = sim.DEMO_PACE if arm else sim.V_MAX
    a_max = sim.A_MAX if arm else np.inf
    p = rng.uniform(-0.95, 0.95, (n, 2))
    angle = rng.uniform(0, 2 * math.pi, n)
    speed = rng.uniform(0, sim.V_MAX, n) * (rng.random(n) < 0.7)
    v = np.stack([np.cos(angle), np.sin(angle)], -1) * speed[:, None]
    near = rng.random(n) < 0.4
    g = np.where(near[:, None], np.clip(p + rng.normal(0, 0.15, (n, 2)), -0.95, 0.95),
                 rng.uniform(-0.95, 0.95, (n, 2)))
    # Offset augmentation: roll the state forward through a chunk already being executed.
    nxt = next_waypoints(rng, g, rng.random(n) < 0.5) if arm else None
    offset = np.where(rng.random(n) < 0.5, 0, rng.integers(1, horizon, n))
    stale = rng.random(n) < 0.3
    older = np.where(stale[:, None], rng.uniform(-0.95, 0.95, (n, 2)), g)
    older_next = np.where(stale[:, None], next_waypoints(rng, older, rng.random(n) < 0.5), nxt) if arm else None
    executing = sim.expert_chunk(p, older, horizon, older_next, pace)
    for i in range(horizon - 1):
        moving = offset > i
        p2, v2 = sim.step(p, v, executing[:, i], a_max)
        p = np.where(moving[:, None], p2, p)
        v = np.where(moving[:, None], v2, v)
    labels = sim.expert_chunk(p, g, horizon, nxt, pace) - p[:, None, :]
    return sim.policy_tokens(p, v, g, nxt), labels.astype(np.float32)


def export(model, path, horizon, steps, heldout, arm):
    cfg = model.cfg
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("split-robot-policy")
    add_llama_shape(w, cfg)  # vocab_size 0: a policy has no vocabulary
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_uint32("split.input_dimensions", sim.TOKEN_FEATURES)
    w.add_uint32("split.action_dimensions", sim.ACTION_DIM)
    w.add_uint32("split.action_horizon", horizon)
    w.add_uint32("split.policy.state_dimensions", sim.STATE_DIM)
    robot = f"point-mass dt={sim.DT} tau={sim.TAU} vmax={sim.V_MAX}"
    if arm:
        robot += f" amax={sim.A_MAX} demo-pace={sim.DEMO_PACE} next-waypoint"
    w.add_string("split.policy.robot", robot)
    w.add_string("split.training.step", str(steps))
    w.add_string("split.training.heldout_rmse", f"{heldout:.5f}")
    w.add_tensor("input_proj.weight", sd["input_proj.weight"])
    w.add_tensor("input_proj.bias", sd["input_proj.bias"])
    for i in range(cfg.n_layers):
        p = f"layers.{i}."
        w.add_tensor(f"blk.{i}.attn_norm.weight", sd[p + "input_layernorm.weight"])
        w.add_tensor(f"blk.{i}.attn_q.weight", permute(sd[p + "self_attn.q_proj.weight"], cfg.n_heads))
        w.add_tensor(f"blk.{i}.attn_k.weight", permute(sd[p + "self_attn.k_proj.weight"], cfg.n_kv_heads))
        w.add_tensor(f"blk.{i}.attn_v.weight", sd[p + "self_attn.v_proj.weight"])
        w.add_tensor(f"blk.{i}.attn_output.weight", sd[p + "self_attn.o_proj.weight"])
        w.add_tensor(f"blk.{i}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"])
        w.add_tensor(f"blk.{i}.ffn_gate.weight", sd[p + "mlp.gate_proj.weight"])
        w.add_tensor(f"blk.{i}.ffn_up.weight", sd[p + "mlp.up_proj.weight"])
        w.add_tensor(f"blk.{i}.ffn_down.weight", sd[p + "mlp.down_proj.weight"])
    w.add_tensor("output_norm.weight", sd["norm.weight"])
    w.add_tensor("action_head.weight", sd["action_head.weight"])
    w.add_tensor("action_head.bias", sd["action_head.bias"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/split-robot-policy.gguf")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--horizon", type=int, default=16)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--arm", action="store_true",
                    help="demonstrations at the teleoperation pace on the arm, half of them through to a next waypoint")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    cfg = Config(vocab_size=0, dim=args.dim, n_layers=args.layers, n_heads=4, n_kv_heads=4,
                 ffn_dim=3 * args.dim, max_seq_len=8)
    model = Policy(cfg, args.horizon)
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.01)
    vx, vy = sample_batch(np.random.default_rng(12345), 8192, args.horizon, args.arm)
    vx, vy = torch.from_numpy(vx), torch.from_numpy(vy)
    start = time.time()
    for step in range(1, args.steps + 1):
        lr = args.lr * (min(1.0, step / 100) * 0.5 * (1 + math.cos(math.pi * step / args.steps)) + 0.01)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = sample_batch(rng, args.batch, args.horizon, args.arm)
        loss = nn.functional.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 250 == 0 or step == args.steps:
            with torch.no_grad():
                held = nn.functional.mse_loss(model(vx), vy).item()
            print(f"step {step} loss {loss.item():.6f} held-out rmse {math.sqrt(held):.4f} "
                  f"({time.time() - start:.0f}s)", flush=True)
    with torch.no_grad():
        heldout = math.sqrt(nn.functional.mse_loss(model(vx), vy).item())
    export(model, args.out, args.horizon, args.steps, heldout, args.arm)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB), held-out rmse {heldout:.4f}")


if __name__ == "__main__":
    main()
