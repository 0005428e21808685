"""The policy's model and tokenizer: a Hugging Face causal LM from a local
directory, or a tiny causal transformer built from a config with a
byte-level tokenizer (random weights, CPU, nothing downloaded).

Both expose the same small surface to the rest of the worker:

    lm(ids) -> logits [B, T, V]           lm.hidden(ids) -> last hidden states [B, T, D]
    tok.prompt(text) -> list[int]         tok.decode(ids) -> str      tok.eos -> set[int]
"""

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


# --- the tiny model ----------------------------------------------------------


@dataclass
class TinyConfig:
    vocab: int = 258  # 256 bytes, then BOS and EOS
    d_model: int = 64
    n_layer: int = 2
    n_head: int = 4
    max_seq: int = 9216  # a prompt's last 512 bytes and 8192 new tokens
    seed: int = 0  # weights are drawn from torch.manual_seed(seed)
    # Supervised steps that teach the answer format before anything else:
    # after a prompt, "\boxed{d}" with a random digit d, then the end token.
    # A random byte model never boxes an answer, so every reward would be 0,
    # every group skipped and no market window would ever fill; this one
    # knows the format and guesses the answer, like an instruct model that
    # cannot do the arithmetic. 0 keeps the random weights.
    format_steps: int = 50


class Block(nn.Module):
    def __init__(self, c: TinyConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(c.d_model)
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.proj = nn.Linear(c.d_model, c.d_model)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.mlp = nn.Sequential(nn.Linear(c.d_model, 4 * c.d_model), nn.GELU(), nn.Linear(4 * c.d_model, c.d_model))
        self.n_head = c.n_head

    def forward(self, x, cache=None, keys=None):
        """keys (optional, [B, S] bool): which of the S key positions hold
        real tokens; a padded row's padding is never attended to."""
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q, k, v = (t.view(B, T, self.n_head, D // self.n_head).transpose(1, 2) for t in (q, k, v))
        if cache is not None:  # generation: keys and values of the earlier positions
            if cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        S = k.shape[2]  # query i sits at position S - T + i
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D // self.n_head)
        visible = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(diagonal=S - T)
        if keys is not None:
            # A padding query still sees itself: a row of -inf would make its
            # output NaN, and NaN times a zero attention weight is NaN in every
            # later query that has it among its keys.
            itself = torch.arange(S, device=x.device)[None, :] == torch.arange(S - T, S, device=x.device)[:, None]
            visible = visible & (keys[:, None, None, :] | itself)
        att = att.masked_fill(~visible, float("-inf")).softmax(dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(B, T, D))
        return x + self.mlp(self.ln2(x))


class TinyLM(nn.Module):
    """A GPT-2-shaped causal transformer small enough for a CPU test."""

    # Its decoder layer, named as Hugging Face models name theirs: FSDP
    # wraps each one as a unit of its own (fsdp.layer_classes).
    _no_split_modules = ["Block"]

    def __init__(self, c: TinyConfig):
        super().__init__()
        self.config = c
        torch.manual_seed(c.seed)
        self.wte = nn.Embedding(c.vocab, c.d_model)
        self.wpe = nn.Embedding(c.max_seq, c.d_model)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab, bias=False)

    def hidden(self, ids, cache=None, keys=None, positions=None):
        """Last hidden states; with cache (a list of one dict per block,
        empty at first) ids continue the sequence the cache holds. Left-padded
        rows give keys (real tokens among all the cache's positions and ids,
        [B, S] bool) and positions (each token's position in its own row,
        [B, T])."""
        if positions is None:
            past = cache[0]["k"].shape[2] if cache and cache[0] else 0
            positions = torch.arange(past, past + ids.shape[1], device=ids.device)
        x = self.wte(ids) + self.wpe(positions)
        for i, b in enumerate(self.blocks):
            x = b(x, cache[i] if cache is not None else None, keys)
        return self.ln_f(x)

    def forward(self, ids, cache=None, keys=None, positions=None):
        return self.head(self.hidden(ids, cache, keys, positions))


class ByteTokenizer:
    """Bytes are tokens 0..255; BOS is 256, EOS 257."""

    bos, eos_id = 256, 257

    def __init__(self):
        self.eos = {self.eos_id}

    max_prompt = 512  # bytes of the prompt kept (its end), so prompt + completion fit max_seq

    def prompt(self, text):
        return [self.bos] + list(text.encode("utf-8"))[-self.max_prompt :] + [ord("\n")]

    def decode(self, ids):
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")


@torch.enable_grad()
def teach_format(lm, tok, c):
    """c.format_steps AdamW steps of next-token loss on the answer part of
    '<random prompt>\n\\boxed{d}<EOS>': the format, never an answer."""
    g = torch.Generator().manual_seed(c.seed)
    opt = torch.optim.AdamW(lm.parameters(), lr=1e-2)
    printable = torch.arange(32, 127)
    for _ in range(c.format_steps):
        n = int(torch.randint(8, 120, (1,), generator=g))  # one prompt length per batch: no padding
        prompts = printable[torch.randint(len(printable), (16, n), generator=g)]
        digits = torch.randint(10, (16,), generator=g)
        rows = [tok.prompt(bytes(p.tolist()).decode()) + list(b"\\boxed{%d}" % int(d)) + [tok.eos_id] for p, d in zip(prompts, digits)]
        ids = torch.tensor(rows)
        answer = len(rows[0]) - 10  # "\boxed{d}" and the end token
        logits = lm(ids[:, :-1])[:, answer - 1 :]
        loss = F.cross_entropy(logits.reshape(-1, c.vocab), ids[:, answer:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    lm.zero_grad(set_to_none=True)


# --- a Hugging Face model ----------------------------------------------------


class HFModel(nn.Module):
    """A transformers causal LM behind the tiny model's surface."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids):
        return self.model(input_ids=ids).logits

    def hidden(self, ids):
        return self.model(input_ids=ids, output_hidden_states=True).hidden_states[-1]


class HFTokenizer:
    """The model's own tokenizer; prompts go through its chat template."""

    def __init__(self, tok, generation_eos):
        self.tok = tok
        self.eos = {i for i in generation_eos if i is not None}

    def prompt(self, text):
        if self.tok.chat_template:
            return list(self.tok.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True, tokenize=True))
        return list(self.tok(text).input_ids)

    def decode(self, ids):
        return self.tok.decode([i for i in ids if i not in self.eos], skip_special_tokens=True)


DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def build(model="", dtype="", device="", tiny=False):
    """Returns (lm, tokenizer, identity): identity names the base weights,
    and the base checkpoint id is a hash of it."""
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dt = DTYPES[dtype or "float32"]
    if tiny:
        c = TinyConfig()
        lm = TinyLM(c)
        teach_format(lm, ByteTokenizer(), c)
        lm = lm.to(device=dev, dtype=dt)
        # The weights themselves name the base: another torch drawing other
        # random numbers gives another id, never the same id for other weights.
        h = hashlib.sha256(json.dumps(asdict(c), sort_keys=True).encode())
        for name, t in sorted(lm.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().to("cpu", torch.float32).numpy().tobytes())
        return lm, ByteTokenizer(), f"tiny {dtype or 'float32'} {h.hexdigest()[:16]}"
    if not model:
        raise ValueError("no model: set runner.model to a local model directory, or run with --tiny")
    import transformers  # only on machines that serve real models

    path = os.path.abspath(model)
    hf = transformers.AutoModelForCausalLM.from_pretrained(path, torch_dtype=dt, local_files_only=True).to(dev)
    tok = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    eos = hf.generation_config.eos_token_id
    eos = eos if isinstance(eos, list) else [eos, tok.eos_token_id]
    return HFModel(hf), HFTokenizer(tok, eos), f"{path} {dtype or 'float32'} {weights_fingerprint(path)}"


def weights_fingerprint(path):
    """A cheap name for a model directory's weights: its config and, per
    weight file, its name, size and first MiB (hashing 8 GB at every start
    would cost more than it protects)."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name == "config.json" or name.endswith((".safetensors", ".bin")):
            h.update(f"{name} {os.path.getsize(full)}\n".encode())
            with open(full, "rb") as f:
                h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


# --- per-token log-probabilities ---------------------------------------------


def token_logprobs(lm, prompt, completion, temperature, with_entropy=False):
    """Log-probabilities of completion's tokens after prompt, at temperature
    (as sampled), and optionally each position's entropy. Runs with
    gradients when the caller has them on."""
    ids = torch.tensor([prompt + completion], device=next(lm.parameters()).device)
    logits = lm(ids)[0, len(prompt) - 1 : -1].float() / temperature
    logp = F.log_softmax(logits, dim=-1)
    lp = logp.gather(1, ids[0, len(prompt) :].unsqueeze(1)).squeeze(1)
    if not with_entropy:
        return lp
    return lp, -(logp.exp() * logp).sum(-1)
