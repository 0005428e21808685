"""Generation backends. Each samples completion j of a prompt from its own
seed, derived from (sampling seed, prompt id, j), so a completion never
depends on which other prompts share the call or how they are batched.

- sample_loop: plain PyTorch, one sequence at a time (the tiny model; any
  model on a CPU);
- HFGenerate: transformers' generate, one sequence at a time under its seed;
- VLLMGenerate: vLLM with a per-request seed, when vllm is importable.

A backend returns, per completion, (token ids, finish, log-probs or None);
token ids include the end-of-sequence token when the completion ended.
"""

import hashlib

import torch
import torch.nn.functional as F


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


@torch.no_grad()
def sample_loop(lm, prompt, eos, max_tokens, temperature, top_p, seeds):
    """Samples one completion per seed after prompt, token by token. The
    rows share the prompt, so they batch without padding; each draws from
    its own generator, and a row's logits never depend on the other rows, so
    completion j is the same in a call for n = 1 or n = 8. The model keeps
    its keys and values in a cache, so each step feeds one token per row."""
    if temperature <= 0:
        raise ValueError(f"temperature {temperature}; want > 0 (greedy decoding is not supported)")
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    device = next(lm.parameters()).device
    cache = [{} for _ in lm.blocks]
    logits = lm(torch.tensor([prompt] * len(seeds), device=device), cache)[:, -1]
    out = [[] for _ in seeds]
    logprobs = [[] for _ in seeds]
    finish = ["length"] * len(seeds)
    for i in range(max_tokens):
        logits = logits.float().cpu() / temperature
        logp = F.log_softmax(logits, dim=-1)
        probs = top_p_filter(logits, top_p).softmax(-1)
        step = torch.zeros(len(seeds), 1, dtype=torch.long)
        for r in range(len(seeds)):
            if finish[r] == "stop":
                continue  # the row rides along to keep the batch, its tokens unused
            t = int(torch.multinomial(probs[r], 1, generator=gens[r]))
            step[r] = t
            out[r].append(t)
            logprobs[r].append(float(logp[r, t]))
            if t in eos:
                finish[r] = "stop"
        if "length" not in finish or i == max_tokens - 1:
            break
        logits = lm(step.to(device), cache)[:, -1]
    return [(out[r], finish[r], logprobs[r]) for r in range(len(seeds))]


class LoopGenerate:
    def __init__(self, lm, tok):
        self.lm, self.tok = lm, tok

    def generate(self, prompts, n, s):
        return [
            sample_loop(self.lm, self.tok.prompt(p["text"]), self.tok.eos, s["max_tokens"], s["temperature"], s.get("top_p", 1.0),
                        [completion_seed(s["seed"], p["id"], j) for j in range(n)])
            for p in prompts
        ]

    def load_weights(self, state):
        pass  # it samples from the training model itself


class HFGenerate(LoopGenerate):
    """transformers' generate, one sequence per seed. Only the spec's
    sampling applies: the model's generation_config defaults (top_k,
    repetition penalty) are switched off."""

    def generate(self, prompts, n, s):
        model = self.lm.model
        out = []
        for p in prompts:
            ids = torch.tensor([self.tok.prompt(p["text"])], device=model.device)
            group = []
            for j in range(n):
                torch.manual_seed(completion_seed(s["seed"], p["id"], j))
                seq = model.generate(ids, do_sample=True, temperature=s["temperature"], top_p=s.get("top_p", 1.0), top_k=0,
                                     repetition_penalty=1.0, max_new_tokens=s["max_tokens"],
                                     eos_token_id=sorted(self.tok.eos), pad_token_id=sorted(self.tok.eos)[0])
                toks = seq[0, ids.shape[1]:].tolist()
                ended = bool(toks) and toks[-1] in self.tok.eos  # a single sequence stops at its first end token
                group.append((toks, "stop" if ended else "length", None))
            out.append(group)
        return out


class VLLMGenerate:
    """vLLM, one request per completion with its own seed. After each
    training step the new weights are pushed into the engine."""

    def __init__(self, model_path, dtype, tok):
        import vllm

        self.vllm, self.tok = vllm, tok
        self.llm = vllm.LLM(model=model_path, dtype=dtype or "auto", gpu_memory_utilization=0.35, enable_prefix_caching=True)

    def generate(self, prompts, n, s):
        reqs, params = [], []
        for p in prompts:
            ids = self.tok.prompt(p["text"])
            for j in range(n):
                reqs.append({"prompt_token_ids": ids})
                params.append(self.vllm.SamplingParams(temperature=s["temperature"], top_p=s.get("top_p", 1.0),
                                                       max_tokens=s["max_tokens"], seed=completion_seed(s["seed"], p["id"], j),
                                                       logprobs=0, skip_special_tokens=False))
        results = self.llm.generate(reqs, params, use_tqdm=False)
        out = []
        for i, r in enumerate(results):
            c = r.outputs[0]
            toks = list(c.token_ids)
            lps = [next(iter(d.values())).logprob for d in c.logprobs] if c.logprobs else None
            finish = "stop" if toks and toks[-1] in self.tok.eos else "length"
            if i % n == 0:
                out.append([])
            out[-1].append((toks, finish, lps))
        return out

    def load_weights(self, state):
        # The engine's model lives in its worker; vLLM's entry point for new
        # weights moved between releases, so try the ones we know.
        model = None
        try:
            model = self.llm.llm_engine.model_executor.driver_worker.model_runner.model
        except AttributeError:
            pass
        if model is None:
            raise RuntimeError("this vLLM release does not expose its model for weight updates; run the worker with --backend hf")
        model.load_weights(state.items())


def backend(name, lm, tok, model_path="", dtype="", tiny=False):
    """The generation backend: the plain loop for the tiny model; for a
    real model vLLM when asked for (or 'auto' and importable), else HF
    generate."""
    if tiny:
        return LoopGenerate(lm, tok)
    if name in ("vllm", "auto"):
        try:
            import vllm  # noqa: F401
            return VLLMGenerate(model_path, dtype, tok)
        except ImportError:
            if name == "vllm":
                raise
    return HFGenerate(lm, tok)
