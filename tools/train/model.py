"""Llama-architecture causal LM, numerically the same as HF LlamaForCausalLM.

RMSNorm (eps 1e-5), RoPE theta 10000 in HF's rotate_half (NeoX) layout, SwiGLU MLP,
no biases, tied embeddings. Parameter names follow HF ("model.layers.0.self_attn.q_proj.weight")
so the state dict loads into LlamaForCausalLM and export_gguf.py can map names directly.

forward(..., return_hidden=True) also returns every layer's output (pre final norm);
exit logits for layer l are lm_head(norm(h_l)) -- the shared final norm and tied head.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 4096
    dim: int = 256
    n_layers: int = 8
    n_heads: int = 8
    n_kv_heads: int = 8
    ffn_dim: int = 688
    max_seq_len: int = 256
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    @property
    def head_dim(self):
        return self.dim // self.n_heads

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.variance_epsilon = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        var = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.variance_epsilon)
        return self.weight * x.to(dtype)


def rope_cache(cfg, seq_len, device=None):
    hd = cfg.head_dim
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float().to(device) / hd))
    t = torch.arange(seq_len, dtype=torch.int64, device=device).float()
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, cos, sin):
    # x: (B, H, T, hd); cos/sin: (T, hd)
    return x * cos + rotate_half(x) * sin


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.q_proj = nn.Linear(cfg.dim, cfg.n_heads * hd, bias=False)
        self.k_proj = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.v_proj = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.o_proj = nn.Linear(cfg.n_heads * hd, cfg.dim, bias=False)

    def forward(self, x, cos, sin, cache=None):
        B, T, _ = x.shape
        c = self.cfg
        hd = c.head_dim
        q = self.q_proj(x).view(B, T, c.n_heads, hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, c.n_kv_heads, hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, c.n_kv_heads, hd).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        past = 0
        if cache is not None:
            if "k" in cache:
                past = cache["k"].shape[2]
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        if c.n_kv_heads != c.n_heads:
            rep = c.n_heads // c.n_kv_heads
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            S = k.shape[2]
            mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.transpose(1, 2).reshape(B, T, c.n_heads * hd)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.up_proj = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.down_proj = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)

    def forward(self, x, cos, sin, cache=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache)
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x


class Inner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)


class LlamaLM(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.model = Inner(cfg)
        cos, sin = rope_cache(cfg, cfg.max_seq_len)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init)
        # GPT-2 style scaled init for residual projections
        for n, p in self.named_parameters():
            if n.endswith("o_proj.weight") or n.endswith("down_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def head(self, h):
        """Shared exit head: final RMSNorm + tied LM head."""
        return F.linear(self.model.norm(h), self.model.embed_tokens.weight)

    def forward(self, idx, return_hidden=False):
        B, T = idx.shape
        cos, sin = self.rope_cos[:T], self.rope_sin[:T]
        if T > self.rope_cos.shape[0]:
            cos, sin = rope_cache(self.cfg, T, idx.device)
        x = self.model.embed_tokens(idx)
        hidden = []
        for layer in self.model.layers:
            x = layer(x, cos, sin)
            hidden.append(x)
        logits = self.head(x)
        if return_hidden:
            return logits, hidden
        return logits

    @torch.no_grad()
    def forward_cached(self, idx, caches, pos):
        """Incremental forward: idx (B, T) at absolute positions pos..pos+T-1.
        caches: list of dicts (one per layer), filled in place. Returns (logits, hidden)."""
        B, T = idx.shape
        if pos + T > self.rope_cos.shape[0]:
            cos, sin = rope_cache(self.cfg, pos + T, idx.device)
        else:
            cos, sin = self.rope_cos, self.rope_sin
        cos, sin = cos[pos:pos + T], sin[pos:pos + T]
        x = self.model.embed_tokens(idx)
        hidden = []
        for layer, cache in zip(self.model.layers, caches):
            x = layer(x, cos, sin, cache)
            hidden.append(x)
        return self.head(x), hidden

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def hf_state_dict(self):
        """State dict with HF names (lm_head.weight tied to embed_tokens)."""
        sd = {k: v for k, v in self.state_dict().items()}
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
        return sd


def load_checkpoint(path, map_location="cpu"):
    ck = torch.load(path, map_location=map_location, weights_only=False)
    cfg = Config(**ck["config"])
    m = LlamaLM(cfg)
    m.load_state_dict(ck["model"])
    return m, ck
