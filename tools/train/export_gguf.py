#!/usr/bin/env python3
"""Export a training checkpoint to GGUF (arch 'llama', f16 matrices, f32 norms).

Follows llama.cpp's convert_hf_to_gguf.py conventions for Llama:
  * Q/K projection rows are permuted (reshape(n_head, 2, head_dim/2, in).swapaxes(1, 2))
    so llama.cpp's interleaved RoPE reproduces HF's rotate_half layout;
  * tied embeddings: only token_embd.weight is written (llama.cpp falls back to it);
  * GPT-2 style BPE tokenizer: tokenizer.ggml.model = "gpt2", pre = "gpt-2",
    tokens, token_type (added tokens CONTROL), merges, bos/eos ids, and the FIM token ids
    (tokenizer.ggml.fim_{pre,suf,mid,pad}_token_id) when the tokenizer has them.
Also copies the HF tokenizer.json next to it.

Usage: python3 tools/train/export_gguf.py --ckpt /work/train-runs/code/ckpt.pt \
          --tokenizer /work/train-data/tokenizer.json --out models/split-code-7m.gguf
(a FIM run's tokenizer is <run>/tokenizer.json.)
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch
import gguf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import load_checkpoint  # noqa: E402
import fim  # noqa: E402


def permute(w, n_head):
    # identical to convert_hf_to_gguf.LlamaModel.permute
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
             .swapaxes(1, 2)
             .reshape(w.shape))


def add_llama_shape(w, cfg):
    """The llama.* shape metadata of a model.Config (shared with train_policy.py)."""
    w.add_context_length(cfg.max_seq_len)
    w.add_embedding_length(cfg.dim)
    w.add_block_count(cfg.n_layers)
    w.add_feed_forward_length(cfg.ffn_dim)
    w.add_head_count(cfg.n_heads)
    w.add_head_count_kv(cfg.n_kv_heads)
    w.add_layer_norm_rms_eps(cfg.norm_eps)
    w.add_rope_freq_base(cfg.rope_theta)
    w.add_rope_dimension_count(cfg.head_dim)
    w.add_vocab_size(cfg.vocab_size)


def tokenizer_fields(tok_path):
    tj = json.load(open(tok_path, encoding="utf-8"))
    vocab = tj["model"]["vocab"]
    n = len(vocab)
    tokens = [None] * n
    for t, i in vocab.items():
        tokens[i] = t
    special = {a["id"]: a["content"] for a in tj.get("added_tokens", [])}
    for i, c in special.items():
        if i >= n:
            tokens.extend([None] * (i + 1 - n))
            n = i + 1
        tokens[i] = c
    assert all(t is not None for t in tokens)
    types = [gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL for i in range(n)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    return tokens, types, merges


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="/work/train-runs/code/ckpt.pt")
    ap.add_argument("--tokenizer", default="/work/train-data/tokenizer.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="split-code")
    ap.add_argument("--tok-out", default=None, help="default: <out dir>/split-code-tokenizer.json")
    args = ap.parse_args()

    model, ck = load_checkpoint(args.ckpt)
    cfg = model.cfg
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name(args.name)
    add_llama_shape(w, cfg)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    # provenance
    w.add_string("split.training.step", str(ck.get("step")))
    w.add_string("split.training.tokens", str(ck.get("tokens")))

    tokens, types, merges = tokenizer_fields(args.tokenizer)
    assert len(tokens) == cfg.vocab_size, (len(tokens), cfg.vocab_size)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(0)
    w.add_eos_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    # fill-in-the-middle tokens of a --fim-rate run (fim.py), by the ids llama.cpp reads
    for i, t in enumerate(tokens):
        if t in fim.GGUF_KEYS:
            w.add_uint32(fim.GGUF_KEYS[t], i)

    def f16(a):
        return a.astype(np.float16)

    w.add_tensor("token_embd.weight", f16(sd["model.embed_tokens.weight"]))
    for i in range(cfg.n_layers):
        p = f"model.layers.{i}."
        q = permute(sd[p + "self_attn.q_proj.weight"], cfg.n_heads)
        k = permute(sd[p + "self_attn.k_proj.weight"], cfg.n_kv_heads)
        w.add_tensor(f"blk.{i}.attn_norm.weight", sd[p + "input_layernorm.weight"].astype(np.float32))
        w.add_tensor(f"blk.{i}.attn_q.weight", f16(q))
        w.add_tensor(f"blk.{i}.attn_k.weight", f16(k))
        w.add_tensor(f"blk.{i}.attn_v.weight", f16(sd[p + "self_attn.v_proj.weight"]))
        w.add_tensor(f"blk.{i}.attn_output.weight", f16(sd[p + "self_attn.o_proj.weight"]))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"].astype(np.float32))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", f16(sd[p + "mlp.gate_proj.weight"]))
        w.add_tensor(f"blk.{i}.ffn_up.weight", f16(sd[p + "mlp.up_proj.weight"]))
        w.add_tensor(f"blk.{i}.ffn_down.weight", f16(sd[p + "mlp.down_proj.weight"]))
    w.add_tensor("output_norm.weight", sd["model.norm.weight"].astype(np.float32))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    tok_out = args.tok_out or os.path.join(os.path.dirname(os.path.abspath(args.out)), "split-code-tokenizer.json")
    shutil.copyfile(args.tokenizer, tok_out)
    print(f"wrote {args.out} ({os.path.getsize(args.out)/1e6:.2f} MB) step {ck.get('step')} "
          f"tokens {ck.get('tokens')}; tokenizer -> {tok_out}")


if __name__ == "__main__":
    main()
