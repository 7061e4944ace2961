"""Fill-in-the-middle (FIM) for the Split code model: special tokens and training samples.

Tokens (Qwen2.5-Coder spellings, so Split's FIMPrompt and llama.cpp's format_infill find them
by name as well as by the GGUF ids): <|fim_prefix|>, <|fim_suffix|>, <|fim_middle|>, and
<|fim_pad|> (an end-of-generation token for llama.cpp). They are appended to the vocabulary
after the BPE's 4096 ids. No <|file_sep|>: with one, llama.cpp and Split put
"<|file_sep|>filename\\n" before every infill prompt, which the stdlib corpus cannot teach.

Samples follow the StarCoder/SantaCoder recipe (Bavarian et al. 2022, "Efficient Training of
Language Models to Fill in the Middle"): a window of a document is cut at two uniformly random
character positions into prefix / middle / suffix, each part tokenized on its own (as an
editor's request is), and laid out as llama.cpp's infill prompt followed by the middle:

    PSM: <|endoftext|> <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle <|endoftext|>
    SPM: <|endoftext|> <|fim_suffix|> suffix <|fim_prefix|> prefix <|fim_middle|> middle <|endoftext|>

(SPM as llama.cpp's --spm-infill and Split's FIMLayout.suffixPrefixMiddle order it.) The
middle ends with <|endoftext|>, which llama.cpp's infill and Split stop at. The loss covers
every token except the three FIM markers, which the prompt always supplies.
"""
import numpy as np
from tokenizers import AddedToken

EOT_ID = 0
FIM_PREFIX = "<|fim_prefix|>"
FIM_SUFFIX = "<|fim_suffix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_PAD = "<|fim_pad|>"
FIM_TOKENS = [FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, FIM_PAD]
# GGUF metadata key for each token (llama.cpp's LLM_KV_TOKENIZER_FIM_*_ID).
GGUF_KEYS = {
    FIM_PREFIX: "tokenizer.ggml.fim_pre_token_id",
    FIM_SUFFIX: "tokenizer.ggml.fim_suf_token_id",
    FIM_MIDDLE: "tokenizer.ggml.fim_mid_token_id",
    FIM_PAD: "tokenizer.ggml.fim_pad_token_id",
}
IGNORE = -100  # F.cross_entropy's ignore_index


def add_fim_tokens(tokenizer):
    """Appends FIM_TOKENS to a `tokenizers.Tokenizer` as special tokens (ids vocab, vocab+1, ...)."""
    base = tokenizer.get_vocab_size()
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in FIM_TOKENS])
    assert [tokenizer.token_to_id(t) for t in FIM_TOKENS] == list(range(base, base + len(FIM_TOKENS)))
    return tokenizer


def fim_ids(tokenizer):
    """{token text: id} of the FIM tokens a `tokenizers.Tokenizer` has (missing ones left out)."""
    ids = {t: tokenizer.token_to_id(t) for t in FIM_TOKENS}
    return {t: i for t, i in ids.items() if i is not None}


def layout(prefix, suffix, middle, ids, spm):
    """Token ids of one FIM sequence (lists of ids in, list out); middle None = prompt only."""
    pre, suf, mid = ids[FIM_PREFIX], ids[FIM_SUFFIX], ids[FIM_MIDDLE]
    if spm:
        seq = [EOT_ID, suf] + suffix + [pre] + prefix + [mid]
    else:
        seq = [EOT_ID, pre] + prefix + [suf] + suffix + [mid]
    return seq if middle is None else seq + middle


class FIMSampler:
    """Random FIM training sequences of ctx+1 tokens from a list of documents."""

    def __init__(self, texts, tokenizer, ctx, spm_rate=0.5, window_chars=1200, seed=0):
        self.texts = [t for t in texts if len(t) >= 16]
        lengths = np.array([len(t) for t in self.texts], dtype=np.float64)
        self.p = lengths / lengths.sum()  # documents drawn in proportion to their length
        self.tok, self.ctx, self.spm_rate, self.window = tokenizer, ctx, spm_rate, window_chars
        self.ids = fim_ids(tokenizer)
        assert len(self.ids) == len(FIM_TOKENS), f"tokenizer lacks FIM tokens: {self.ids}"
        self.markers = [self.ids[FIM_PREFIX], self.ids[FIM_SUFFIX], self.ids[FIM_MIDDLE]]
        self.rng = np.random.default_rng(seed)

    def _encode(self, s):
        return self.tok.encode(s, add_special_tokens=False).ids if s else []

    def sample(self):
        """(x, y): int64 arrays of ctx tokens; y is IGNORE on padding and on FIM markers."""
        rng = self.rng
        text = self.texts[int(rng.choice(len(self.texts), p=self.p))]
        start = int(rng.integers(0, max(1, len(text) - self.window)))
        doc = text[start:start + self.window]
        a, b = sorted(int(v) for v in rng.integers(0, len(doc) + 1, size=2))
        prefix, middle, suffix = (self._encode(s) for s in (doc[:a], doc[a:b], doc[b:]))
        middle = middle + [EOT_ID]
        budget = self.ctx + 1 - 4  # EOT, three markers
        middle = middle[:max(1, budget // 2)]  # a middle never crowds out its context
        room = budget - len(middle)
        # as llama.cpp's window: the prefix keeps its end, the suffix its start
        suf_take = min(len(suffix), max(room // 4, room - len(prefix)))
        pre_take = min(len(prefix), room - suf_take)
        spm = bool(rng.random() < self.spm_rate)
        seq = layout(prefix[len(prefix) - pre_take:], suffix[:suf_take], middle, self.ids, spm)
        seq = np.asarray(seq, dtype=np.int64)
        x = np.full(self.ctx, EOT_ID, dtype=np.int64)
        y = np.full(self.ctx, IGNORE, dtype=np.int64)
        n = len(seq) - 1
        x[:n], y[:n] = seq[:-1], seq[1:]
        y[np.isin(y, self.markers)] = IGNORE
        return x, y

    def state(self):
        return self.rng.bit_generator.state

    def load(self, st):
        self.rng.bit_generator.state = st
