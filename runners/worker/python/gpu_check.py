#!/usr/bin/env python3
"""A short check of the reference worker on one GPU, with nothing to
download: how fast it generates and trains, how much memory it takes and
what share of the time the protocol costs.

    scripts/gpu-check.sh                        # a Qwen3-architecture model of 0.6B random parameters on cuda
    scripts/gpu-check.sh --device cpu --tiny    # the same path in seconds on a CPU (CI)

The model is built from a transformers config (Qwen3Config; Qwen2Config
where this transformers has no Qwen3, and the report says so) with random
weights from a fixed seed, and saved with a byte-level tokenizer to a
temporary directory. With --tiny and no transformers, the worker's own tiny
model stands in. The worker runs as relix runs it: worker.py as a
subprocess speaking ../PROTOCOL.md on its stdin and stdout, offered the
binary and handles features, here by a client in this script rather than
by relix, so that the check needs only Python and torch on the GPU machine
and can time each request at both ends (relix's own side of the pipe is
measured in BENCHMARKS.md, "The worker pipe"). The client runs a GRPO loop
of generate and step requests, with made-up rewards that vary within each
group, through the HF sampling loop and, when vllm imports, through vLLM.

It prints generation's tokens per second, the step's time, the worker's
peak memory (torch.cuda.max_memory_allocated on a GPU, the peak resident
set on a CPU) and the protocol's share of the wall time: the requests'
round trips less the time the worker spent in their methods (decoding,
encoding and the pipe), over the whole session.
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import frames  # noqa: E402

# Model shapes. "full" is Qwen3-0.6B's (0.6B parameters, 0.44B of them
# outside the tied embedding); "tiny" runs in seconds on a CPU.
SHAPES = {
    "full": dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
                 num_attention_heads=16, num_key_value_heads=8, head_dim=128),
    "tiny": dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, head_dim=16),
}
HYPER = {"lr": 1e-6, "advantage": "std", "std_epsilon": 1e-8, "clip_low": 0.2, "clip_high": 0.2, "kl_beta": 0.04,
         "betas": [0.9, 0.999], "weight_decay": 0.01, "grad_clip": 1.0, "epochs": 1, "loss_agg": "seq-mean-token-mean"}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    ap.add_argument("--tiny", action="store_true", help="a tiny model: the whole path in seconds")
    ap.add_argument("--dtype", default="", help="default: bfloat16 on cuda, float32 on cpu")
    ap.add_argument("--prompts", type=int, default=0, help="prompts per generate (default 16; 4 with --tiny)")
    ap.add_argument("--n", type=int, default=8, help="completions per prompt")
    ap.add_argument("--max-tokens", type=int, default=0, help="tokens per completion at most (default 256; 32 with --tiny)")
    ap.add_argument("--steps", type=int, default=0, help="GRPO steps (default 3; 2 with --tiny)")
    ap.add_argument("--gen-batch", type=int, default=32, help="the worker's rows per generation forward pass")
    ap.add_argument("--backend", default="auto", choices=["auto", "hf", "vllm"], help="auto: the HF loop, then vLLM when it imports")
    ap.add_argument("--shard", default="ddp", choices=["ddp", "fsdp"],
                    help="the worker's --shard: fsdp runs the step under FSDP in a world of one process (torch >= 2.1)")
    ap.add_argument("--budget", type=int, default=450, help="seconds before the check gives up (it is meant to take under 8 minutes)")
    a = ap.parse_args()
    a.dtype = a.dtype or ("float32" if a.device == "cpu" else "bfloat16")
    a.prompts = a.prompts or (4 if a.tiny else 16)
    a.max_tokens = a.max_tokens or (32 if a.tiny else 256)
    a.steps = a.steps or (2 if a.tiny else 3)
    return a


# --- the model, with nothing downloaded -------------------------------------------


def byte_tokenizer(transformers, vocab_size, eos_id):
    """A byte-level tokenizer over the model's whole vocabulary: the 256
    byte symbols, then placeholders (a random model samples any id, and
    every id must decode), the end token at eos_id."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    symbols = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {s: i for i, s in enumerate(symbols)}
    for i in range(len(symbols), vocab_size):
        vocab["<|endoftext|>" if i == eos_id else f"<|id{i}|>"] = i
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tk.decoder = decoders.ByteLevel()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|endoftext|>")


def build_model_dir(d, tiny, dtype):
    """Saves a random Qwen3-architecture model and its tokenizer in d;
    returns what it built, in words."""
    import torch
    import transformers

    shape = dict(SHAPES["tiny" if tiny else "full"])
    config_cls, arch = getattr(transformers, "Qwen3Config", None), "Qwen3"
    if config_cls is None:
        config_cls, arch = transformers.Qwen2Config, "Qwen2 (this transformers has no Qwen3Config)"
        shape.pop("head_dim")  # Qwen2 derives it from the width
    eos = shape["vocab_size"] - 1
    config = config_cls(**shape, max_position_embeddings=32768, tie_word_embeddings=True, eos_token_id=eos, bos_token_id=None)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config).to(getattr(torch, dtype))
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(d)
    byte_tokenizer(transformers, shape["vocab_size"], eos).save_pretrained(d)
    return f"{arch} architecture, {params / 1e9:.2f}B random parameters, byte-level tokenizer"


# --- a client of the protocol -------------------------------------------------------


class Session:
    """One worker process and the requests sent to it, each timed from
    before its bytes are written to after its answer is read."""

    def __init__(self, cmd, log_path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.rid, self.trips, self.binary = 0, [], False

    def call(self, method, params):
        self.rid += 1
        t = time.monotonic()
        self.proc.stdin.write(frames.encode_request(self.rid, method, params, binary=self.binary))
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker exited during {method}:\n{self.tail()}")
        resp = json.loads(line)
        att = frames.read_exactly(self.proc.stdout, resp["bin"]) if resp.get("bin") else b""
        resp = frames.resolve(resp, att)
        self.trips.append((method, time.monotonic() - t))
        if "error" in resp:
            raise RuntimeError(f"{method}: {resp['error']['code']}: {resp['error']['message']}")
        if method == "hello":  # hello travels as plain JSON; what follows uses the features both sides listed
            self.binary = "binary" in (resp["result"].get("features") or [])
            self.started = time.monotonic() - self.t0
        return resp["result"]

    def close(self, graceful=True):
        """Shuts the worker down (or, after a failure, kills it)."""
        try:
            if graceful:
                self.call("shutdown", {})
                self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.wall = time.monotonic() - self.t0
            self.log.close()

    def tail(self, lines=20):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])


TRACE = re.compile(r"worker: (\w+) (\d+).*?: ([\d.]+)s \(([\d.]+)s in the method\), (\d+) bytes, (.*)$")


def traced(log_path):
    """The worker's --trace lines: {id: (method, seconds in the method, memory)}."""
    out = {}
    with open(log_path, errors="replace") as f:
        for line in f:
            m = TRACE.search(line.strip())
            if m:
                out[int(m.group(2))] = (m.group(1), float(m.group(4)), m.group(6))
    return out


# --- the GRPO loop ---------------------------------------------------------------------


def prompts(count, round_):
    return [{"id": f"check-{round_}-{i}", "text": f"Problem {i}: what is {17 * i + round_} + {29 * i + 3}? Box the answer."}
            for i in range(count)]


def rewards(n, g, step):
    """Made-up rewards, 0 and 1 in turn (so every group has signal)."""
    return [float((j + g + step) % 2) for j in range(n)]


def grpo_loop(s, a, base):
    """generate, then step on what it generated, a.steps times; returns
    the completions' token counts per generate."""
    sampling = {"temperature": 1.0, "top_p": 1.0, "max_tokens": a.max_tokens, "seed": 7, "tokens": True}
    s.call("generate", {"checkpoint": base, "prompts": prompts(1, -1), "n": 2, "sampling": dict(sampling, max_tokens=4)})  # warm-up
    ck, tokens = base, []
    for step in range(a.steps):
        ps = prompts(a.prompts, step)
        comps = s.call("generate", {"checkpoint": ck, "prompts": ps, "n": a.n, "sampling": sampling})["completions"]
        tokens.append(sum(c["num_tokens"] for cs in comps for c in cs))
        # Completions go back as relix keeps them: without the handle, which names their ids to hidden only.
        comps = [[{k: v for k, v in c.items() if k != "handle"} for c in cs] for cs in comps]
        groups = [{"prompt": p, "completions": cs, "rewards": rewards(a.n, g, step)} for g, (p, cs) in enumerate(zip(ps, comps))]
        res = s.call("step", {"checkpoint": ck, "groups": groups, "hyper": dict(HYPER, step=step, reference=base)})
        if not res["metrics"]["updated"]:
            raise RuntimeError(f"step {step} did not train: {res['metrics']}")
        ck = res["checkpoint"]
    return tokens


def run(a, backend, model_dir, what):
    """One worker session through the loop; prints its report."""
    logdir = tempfile.mkdtemp(prefix="relix-gpu-check-log-")
    cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--trace", "--gen-batch", str(a.gen_batch), "--device", a.device, "--dtype", a.dtype,
           "--shard", a.shard]
    cmd += ["--tiny"] if model_dir is None else ["--model", model_dir, "--backend", backend]
    s = Session(cmd, os.path.join(logdir, "worker.log"))
    try:
        hello = s.call("hello", {"protocol": 1, "relix": "gpu-check", "max_message": 1 << 30, "features": ["binary", "handles"], "config": {}})
        tokens = grpo_loop(s, a, hello["base"])
    except BaseException:
        s.close(graceful=False)
        print(f"worker log ({s.log_path}):\n{s.tail()}", file=sys.stderr)
        raise
    s.close()
    report(a, backend, what, s, tokens)
    shutil.rmtree(logdir, ignore_errors=True)


def report(a, backend, what, s, tokens):
    trace = traced(s.log_path)
    missing = [i + 1 for i in range(len(s.trips)) if i + 1 not in trace]
    if missing:
        raise RuntimeError(f"the worker's log has no --trace line for requests {missing}:\n{s.tail()}")
    rows = [(method, rt, trace[i + 1][1], trace[i + 1][2]) for i, (method, rt) in enumerate(s.trips)]
    gens = [r for r in rows if r[0] == "generate"][1:]  # after the warm-up
    steps = [r for r in rows if r[0] == "step"]
    memory = next((r[3] for r in reversed(rows) if r[3]), "not reported")
    # After hello: the process's start and the model's build are the start line's.
    protocol = sum(rt - m for _, rt, m, _ in rows[1:])
    wall = s.wall - s.started
    print(f"gpu-check: {what}; {a.dtype} on {device_name(a.device)}; generation: {backend}, --gen-batch {a.gen_batch}, --shard {a.shard}")
    print(f"  start        {rows[0][1]:.1f} s (hello: the worker builds the model)")
    print(f"  generate     {len(gens)} x ({a.prompts} prompts x {a.n}, {a.max_tokens} tokens at most): {sum(tokens)} tokens, "
          f"{sum(tokens) / sum(r[2] for r in gens):.0f} tokens/s in the method, {sum(tokens) / sum(r[1] for r in gens):.0f} round trip")
    print(f"  step         {len(steps)} steps of {a.prompts * a.n} sequences: {mean(r[2] for r in steps):.2f} s each in the method, "
          f"{mean(r[1] for r in steps):.2f} s round trip")
    print(f"  memory       {memory}")
    print(f"  protocol     {100 * protocol / wall:.2f}% of the {wall:.1f} s after hello ({protocol:.3f} s: round trips less the methods' own time)")


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else float("nan")


def device_name(device):
    if device == "cpu":
        return "cpu"
    try:
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=10).stdout
        return f"{device} ({names.splitlines()[0].strip()})"
    except (OSError, IndexError, subprocess.SubprocessError):
        return device


def give_up(signum, frame):
    raise TimeoutError("the check ran past its --budget")


def main():
    a = parse_args()
    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(a.budget)
    has_transformers = importlib.util.find_spec("transformers") is not None
    if not has_transformers and not a.tiny:
        sys.exit("gpu-check: transformers is not importable; install it, or run with --tiny")
    if not has_transformers:
        run(a, "the loop over the tiny model", None, "the worker's tiny model (transformers is not importable)")
        return
    model_dir = tempfile.mkdtemp(prefix="relix-gpu-check-model-")
    try:
        t = time.monotonic()
        what = build_model_dir(model_dir, a.tiny, a.dtype)
        print(f"gpu-check: built {what} in {time.monotonic() - t:.1f} s")
        if a.backend in ("auto", "hf"):
            run(a, "hf", model_dir, what)
        if a.backend == "vllm" or (a.backend == "auto" and importlib.util.find_spec("vllm") is not None and a.device != "cpu"):
            run(a, "vllm", model_dir, what)
        elif a.backend == "auto":
            print("gpu-check: vLLM not run (not importable here, or on a CPU)")
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except (TimeoutError, RuntimeError) as e:
        sys.exit(f"gpu-check: {e}")
