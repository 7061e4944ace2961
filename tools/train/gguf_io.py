"""Load a Split GGUF back into the PyTorch model (undoing the Q/K permutation).

The weights come back as the f16 values stored in the file, converted to f32, so a model
loaded this way computes exactly what a runtime computing in f32 on the GGUF weights does.
"""
import os
import sys

import numpy as np
import torch
import gguf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, LlamaLM  # noqa: E402


def unpermute(w, n_head):
    # inverse of export_gguf.permute
    return (w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:])
             .swapaxes(1, 2)
             .reshape(w.shape))


def _field(r, key):
    f = r.fields[key]
    v = f.parts[f.data[0]]
    return v.tolist()[0] if len(v) == 1 else v.tolist()


def load_gguf(path):
    r = gguf.GGUFReader(path)
    cfg = Config(
        vocab_size=int(_field(r, "llama.vocab_size")),
        dim=int(_field(r, "llama.embedding_length")),
        n_layers=int(_field(r, "llama.block_count")),
        n_heads=int(_field(r, "llama.attention.head_count")),
        n_kv_heads=int(_field(r, "llama.attention.head_count_kv")),
        ffn_dim=int(_field(r, "llama.feed_forward_length")),
        max_seq_len=int(_field(r, "llama.context_length")),
        rope_theta=float(_field(r, "llama.rope.freq_base")),
        norm_eps=float(_field(r, "llama.attention.layer_norm_rms_epsilon")),
    )
    t = {}
    for ten in r.tensors:
        shape = tuple(int(x) for x in reversed(ten.shape.tolist()))
        t[ten.name] = np.array(ten.data, dtype=np.float32).reshape(shape)
    sd = {"model.embed_tokens.weight": t["token_embd.weight"], "model.norm.weight": t["output_norm.weight"]}
    for i in range(cfg.n_layers):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        sd[p + "input_layernorm.weight"] = t[b + "attn_norm.weight"]
        sd[p + "post_attention_layernorm.weight"] = t[b + "ffn_norm.weight"]
        sd[p + "self_attn.q_proj.weight"] = unpermute(t[b + "attn_q.weight"], cfg.n_heads)
        sd[p + "self_attn.k_proj.weight"] = unpermute(t[b + "attn_k.weight"], cfg.n_kv_heads)
        sd[p + "self_attn.v_proj.weight"] = t[b + "attn_v.weight"]
        sd[p + "self_attn.o_proj.weight"] = t[b + "attn_output.weight"]
        sd[p + "mlp.gate_proj.weight"] = t[b + "ffn_gate.weight"]
        sd[p + "mlp.up_proj.weight"] = t[b + "ffn_up.weight"]
        sd[p + "mlp.down_proj.weight"] = t[b + "ffn_down.weight"]
    m = LlamaLM(cfg)
    m.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()})
    return m.eval()
