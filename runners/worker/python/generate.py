"""Generation backends. Each samples completion j of a prompt from its own
seed, derived from (sampling seed, prompt id, j), so a completion never
depends on which other prompts share the call or how they are batched.

- LoopGenerate: one sampling loop over a KV cache for the tiny model and for
  Hugging Face models alike; a call's completions, of all its prompts, share
  batches of up to --gen-batch rows, left-padded, one generator per row;
- VLLMGenerate: vLLM with a per-request seed, when vllm is importable and a
  supported release.

A backend returns, per completion, (token ids, finish, log-probs or None);
token ids include the end-of-sequence token when the completion ended.
"""

import hashlib
import inspect
import os
import re
import shutil
import tempfile

import torch
import torch.nn.functional as F

# Rows of one forward pass: the KV cache grows by rows × tokens, so this is
# the bound on generation's memory (a Qwen3-4B row of 8,192 tokens holds
# 1.2 GB of bfloat16 keys and values).
GEN_BATCH = 32


def completion_seed(seed, prompt_id, j):
    """The seed of completion j of prompt_id: 63 bits of SHA-256."""
    d = hashlib.sha256(f"relix-python/completion\x00{seed}\x00{prompt_id}\x00{j}".encode()).digest()
    return int.from_bytes(d[:8], "little") >> 1


def top_p_filter(logits, top_p):
    """Masks the tokens outside the smallest set whose probability reaches
    top_p (nucleus sampling); top_p >= 1 keeps everything."""
    if top_p >= 1:
        return logits
    sorted_logits, order = logits.sort(descending=True)
    cum = sorted_logits.softmax(-1).cumsum(-1)
    drop = cum - sorted_logits.softmax(-1) >= top_p  # keep the token that crosses top_p
    mask = torch.zeros_like(drop).scatter(-1, order, drop)
    return logits.masked_fill(mask, float("-inf"))


# --- how the loop calls a model ----------------------------------------------
#
# A model call takes a batch's new tokens (ids [R, T]), the attention mask
# over everything the rows hold so far ([R, S], 1 for a token, 0 for left
# padding), each new token's position in its own row ([R, T]) and the cache
# (None at first), and returns the logits after each row's last token [R, V]
# and the cache. select keeps (or repeats) rows of a cache.


class TinyCall:
    """The tiny model with its own cache: one {k, v} dict per block."""

    def __init__(self, lm):
        self.lm = lm
        self.device = next(lm.parameters()).device

    def forward(self, ids, mask, positions, past):
        past = past if past is not None else [{} for _ in self.lm.blocks]
        return self.lm(ids, past, keys=mask.bool(), positions=positions)[:, -1], past

    def select(self, past, rows):
        return [{"k": c["k"][rows], "v": c["v"][rows]} for c in past]


class HFCall:
    """A transformers causal LM called as its generate calls it:
    model(input_ids, attention_mask, position_ids, past_key_values,
    use_cache=True) -> .logits, .past_key_values, with a Cache object
    (new_cache: transformers.DynamicCache) whose batch_select_indices keeps
    the rows asked for."""

    def __init__(self, model, new_cache):
        self.model, self.new_cache = model, new_cache
        self.device = next(model.parameters()).device
        # Only the last position's logits are needed: a prompt's [T, V]
        # logits are the prefill's largest tensor. The argument was renamed.
        params = inspect.signature(model.forward).parameters
        self.last_only = next(({k: 1} for k in ("logits_to_keep", "num_logits_to_keep") if k in params), {})

    def forward(self, ids, mask, positions, past):
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                         past_key_values=self.new_cache() if past is None else past, use_cache=True, **self.last_only)
        return out.logits[:, -1], out.past_key_values

    def select(self, past, rows):
        past.batch_select_indices(rows)
        return past


# --- the sampling loop --------------------------------------------------------


def left_pad(prompts, device):
    """Token ids [P, T] with each prompt at the right end, the attention mask
    (1 for a token) and each token's position in its own prompt (padding
    at 1, as transformers' generate puts it; it is never attended to)."""
    width = max(len(p) for p in prompts)
    ids = torch.zeros(len(prompts), width, dtype=torch.long)
    mask = torch.zeros(len(prompts), width, dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p):] = torch.tensor(p)
        mask[i, width - len(p):] = 1
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    return ids.to(device), mask.to(device), positions.to(device)


def draw(logits, temperature, top_p, gens):
    """One token per row from its own generator, and its log-probability at
    the sampling temperature (before top-p, as step scores it)."""
    logits = logits.float() / temperature
    logp = F.log_softmax(logits, dim=-1)
    probs = top_p_filter(logits, top_p).softmax(-1)
    toks = torch.cat([torch.multinomial(probs[k], 1, generator=g) for k, g in enumerate(gens)])
    return toks, logp.gather(1, toks[:, None])[:, 0]


@torch.no_grad()
def sample_batch(call, prompts, rows, eos, max_tokens, temperature, top_p):
    """Samples rows, each (index into prompts, seed), together. Each
    distinct prompt is run once and its cache repeated for its rows; a row
    draws from its own generator; a row that ends leaves the batch. The
    attention mask and positions make a left-padded row compute what it
    would alone (up to the float rounding of other matrix shapes: README)."""
    gens = [torch.Generator(device=call.device).manual_seed(seed) for _, seed in rows]
    slot = {i: k for k, i in enumerate(sorted({i for i, _ in rows}))}  # prompt index -> its row in the prefill
    ids, mask, positions = left_pad([prompts[i] for i in slot], call.device)
    logits, past = call.forward(ids, mask, positions, None)
    fan = torch.tensor([slot[i] for i, _ in rows], device=call.device)
    logits, past, mask = logits[fan], call.select(past, fan), mask[fan]
    position = mask.sum(-1)  # the next token's position in each row
    out, logprobs, finish = [[] for _ in rows], [[] for _ in rows], ["length"] * len(rows)
    live = list(range(len(rows)))  # the batch's rows, in the order the tensors hold them
    for step in range(max_tokens):
        toks, lps = draw(logits, temperature, top_p, [gens[r] for r in live])
        stay = []
        for k, (r, t, lp) in enumerate(zip(live, toks.tolist(), lps.tolist())):
            out[r].append(t)
            logprobs[r].append(lp)
            if t in eos:
                finish[r] = "stop"
            else:
                stay.append(k)
        if not stay or step == max_tokens - 1:
            break
        if len(stay) < len(live):
            keep = torch.tensor(stay, device=call.device)
            past, mask, position, toks = call.select(past, keep), mask[keep], position[keep], toks[keep]
            live = [live[k] for k in stay]
        mask = torch.cat([mask, mask.new_ones(len(live), 1)], dim=1)
        logits, past = call.forward(toks[:, None], mask, position[:, None], past)
        position = position + 1
    return [(out[r], finish[r], logprobs[r]) for r in range(len(rows))]


def sample_loop(call, prompts, rows, eos, max_tokens, temperature, top_p, gen_batch=GEN_BATCH):
    """Samples every row (index into prompts, seed) in batches of at most
    gen_batch rows, in order; one (tokens, finish, log-probs) per row."""
    if temperature <= 0:
        raise ValueError(f"temperature {temperature}; want > 0 (greedy decoding is not supported)")
    if max_tokens <= 0:
        return [([], "length", []) for _ in rows]
    done = []
    for b in range(0, len(rows), max(gen_batch, 1)):
        done += sample_batch(call, prompts, rows[b : b + max(gen_batch, 1)], eos, max_tokens, temperature, top_p)
    return done


class LoopGenerate:
    """The sampling loop over the training model itself (tiny or HF)."""

    def __init__(self, call, tok, gen_batch=GEN_BATCH):
        self.call, self.tok, self.gen_batch = call, tok, gen_batch

    def generate(self, prompts, n, s):
        ids = [self.tok.prompt(p["text"]) for p in prompts]
        rows = [(i, completion_seed(s["seed"], p["id"], j)) for i, p in enumerate(prompts) for j in range(n)]
        done = sample_loop(self.call, ids, rows, self.tok.eos, s["max_tokens"], s["temperature"], s.get("top_p", 1.0), self.gen_batch)
        return [done[i * n : (i + 1) * n] for i in range(len(prompts))]

    def load_weights(self, state):
        pass  # it samples from the training model itself


# --- vLLM ----------------------------------------------------------------------

# The vLLM releases this backend supports, from the first up to, not
# including, the last: those with the documented interfaces it uses on the
# V1 engine — LLM(worker_extension_cls=...) and LLM.collective_rpc to reach
# the GPU workers (the pattern of vLLM's RLHF examples; V1's workers take
# the extension from 0.8.2), LLM.reset_prefix_cache and
# SamplingParams(seed=...). Later releases move their RLHF examples to a
# new weight-transfer API and have not been checked.
VLLM_SUPPORTED = ((0, 8, 2), (0, 12, 0))
VLLM_EXTENSION = "vllm_weights.WeightLoader"


def vllm_version(text):
    """(major, minor, patch) of a version string such as 0.10.1.post1 or
    0.9.2+cu128; None when it has no such prefix."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    return tuple(int(x or 0) for x in m.groups()) if m else None


def supported_vllm():
    (a, b, c), (x, y, _) = VLLM_SUPPORTED
    return f"vLLM {a}.{b}.{c} to {x}.{y - 1}.x"


def check_vllm_version(text):
    """Refuses a vLLM release outside VLLM_SUPPORTED, naming the supported ones."""
    v = vllm_version(text)
    if v is None or not VLLM_SUPPORTED[0] <= v < VLLM_SUPPORTED[1]:
        raise RuntimeError(f"vLLM {text!r} is not supported: this worker supports {supported_vllm()} "
                           "(install one, or run the worker with --backend hf)")


def scratch_dir(nbytes):
    """A private directory for nbytes of weights: in /dev/shm when it has
    room (memory, not disk), else the temporary directory."""
    shm = "/dev/shm"
    try:
        st = os.statvfs(shm)
        base = shm if st.f_bavail * st.f_frsize > 2 * nbytes else None
    except OSError:
        base = None
    return tempfile.mkdtemp(prefix="relix-vllm-", dir=base)


class VLLMGenerate:
    """vLLM, one request per completion with its own seed. New weights
    reach the engine at the next generate after they change: the worker
    writes them to a safetensors file and the engine's workers load it
    (vllm_weights.WeightLoader, through LLM.collective_rpc); the prefix
    cache is then reset, since cached prompts hold the old weights' keys."""

    def __init__(self, model_path, dtype, tok, vllm=None):
        if vllm is None:
            import vllm
        check_vllm_version(getattr(vllm, "__version__", ""))
        here = os.path.dirname(os.path.abspath(__file__))
        # The engine's workers import the extension by name in their own
        # processes, which see PYTHONPATH.
        os.environ["PYTHONPATH"] = os.pathsep.join([here] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != here])
        self.vllm, self.tok = vllm, tok
        self.llm = vllm.LLM(model=model_path, dtype=dtype or "auto", gpu_memory_utilization=0.35, enable_prefix_caching=True,
                            worker_extension_cls=VLLM_EXTENSION)
        self.pending = None  # weights to load before the next generate; None: the engine's are current

    def generate(self, prompts, n, s):
        self.sync()
        reqs, params = [], []
        for p in prompts:
            ids = self.tok.prompt(p["text"])
            for j in range(n):
                reqs.append({"prompt_token_ids": ids})
                params.append(self.vllm.SamplingParams(temperature=s["temperature"], top_p=s.get("top_p", 1.0),
                                                       max_tokens=s["max_tokens"], seed=completion_seed(s["seed"], p["id"], j),
                                                       skip_special_tokens=False))
        results = self.llm.generate(reqs, params, use_tqdm=False)
        out = []
        for i, r in enumerate(results):
            toks = list(r.outputs[0].token_ids)
            finish = "stop" if toks and toks[-1] in self.tok.eos else "length"
            if i % n == 0:
                out.append([])
            # No log-probs: vLLM's are of the raw logits by default, not at
            # the sampling temperature as the loop's; step computes its own.
            out[-1].append((toks, finish, None))
        return out

    def load_weights(self, state):
        self.pending = state

    def sync(self):
        """Loads the pending weights into the engine."""
        if self.pending is None:
            return
        import tensors

        state = self.pending
        d = scratch_dir(sum(t.numel() * t.element_size() for t in state.values()))
        try:
            path = os.path.join(d, "model.safetensors")
            tensors.save(path, state)
            loaded = self.llm.collective_rpc("relix_load_weights", args=(path,))
        finally:
            shutil.rmtree(d, ignore_errors=True)
        if any(k != len(state) for k in loaded):
            raise RuntimeError(f"vLLM's workers loaded {loaded} tensors of {len(state)}")
        if self.llm.reset_prefix_cache() is False:
            raise RuntimeError("vLLM did not reset its prefix cache after new weights")
        self.pending = None  # only now: a failed load is tried again, never generated past


def backend(name, lm, tok, model_path="", dtype="", tiny=False, gen_batch=GEN_BATCH):
    """The generation backend: the loop for the tiny model; for a real model
    vLLM when asked for (or 'auto' and importable), else the loop over the
    HF model."""
    if tiny:
        return LoopGenerate(TinyCall(lm), tok, gen_batch)
    if name in ("vllm", "auto"):
        try:
            import vllm
        except ImportError:
            if name == "vllm":
                raise
        else:
            return VLLMGenerate(model_path, dtype, tok, vllm)
    import transformers

    return LoopGenerate(HFCall(lm.model, transformers.DynamicCache), tok, gen_batch)
