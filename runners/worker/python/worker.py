#!/usr/bin/env python3
"""relix's reference worker: the worker protocol (../PROTOCOL.md) in front of
a PyTorch policy. It reads one JSON request per line on stdin and writes one
response per line on stdout; everything else goes to stderr, which relix
keeps as the run's worker.log.

    python3 worker.py --tiny                # a tiny random model on the CPU (tests, CI)
    python3 worker.py                       # the model, dtype and device of the spec's runner block

The model, dtype and device come from relix at hello (runner.model, .dtype,
.device); flags override them. Rewards, prompts and schedules are relix's:
this worker generates, trains, and keeps checkpoints.
"""

import argparse
import hashlib
import json
import math
import os
import sys
import time
import traceback

PROTOCOL = 1
NAME = "relix-python/1"
FORMAT = "relix-python-checkpoint/1"


class RequestError(Exception):
    """A request that fails with a structured error code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# A checkpoint's training state when it was let go (or saved without it):
# it can still generate and be a reference, but not be trained from.
DROPPED = "dropped"


class Checkpoint:
    """One state of the policy, on the CPU: its weights in the model's dtype
    (what generation, hidden states and the KL reference use) and its
    training state — float32 master weights and AdamW's moments, or None for
    a policy never trained (the base). Only the newest trained checkpoint
    keeps its training state in memory (a real model's is four times its
    weights); the others' is DROPPED, and relix reloads it from the saved
    files if it ever trains from them."""

    def __init__(self, weights, train):
        self.weights, self.train = weights, train
        self.used = time.monotonic()


class Worker:
    def __init__(self, args):
        self.args = args
        self.max_message = 256 << 20
        self.lm = None
        self.checkpoints = {}
        self.active = None  # the checkpoint whose weights the model holds

    # --- hello ---------------------------------------------------------------

    def hello(self, p):
        if p.get("protocol") != PROTOCOL:
            raise RequestError("protocol_version", f"relix speaks protocol version {p.get('protocol')}; this worker speaks {PROTOCOL} "
                                                   "(use a relix and a worker of the same protocol)")
        import torch  # here, so that a missing torch is a clear error in the log

        import generate
        import model

        torch.set_grad_enabled(False)
        self.torch = torch
        self.max_message = p.get("max_message") or self.max_message
        cfg = p.get("config", {})
        a = self.args
        m, dtype, device = a.model or cfg.get("model", ""), a.dtype or cfg.get("dtype", ""), a.device or cfg.get("device", "")
        t0 = time.monotonic()
        self.lm, self.tok, self.identity = model.build(m, dtype, device, tiny=a.tiny)
        self.gen = generate.backend(a.backend, self.lm, self.tok, model_path=m, dtype=dtype, tiny=a.tiny)
        self.base = "base-" + hashlib.sha256(f"{NAME}\x00{self.identity}".encode()).hexdigest()[:16]
        self.checkpoints[self.base] = Checkpoint(self.snapshot(), None)
        self.active = self.base
        log(f"worker: {self.identity} on {next(self.lm.parameters()).device} in {time.monotonic() - t0:.1f}s; base {self.base}")
        return {"protocol": PROTOCOL, "worker": NAME, "model": self.identity, "base": self.base,
                "capabilities": ["generate", "step", "hidden", "save", "load"], "concurrency": 1}

    # --- checkpoints ---------------------------------------------------------

    def snapshot(self):
        return {n: t.detach().to("cpu", copy=True) for n, t in self.lm.state_dict().items()}

    def checkpoint(self, ck):
        c = self.checkpoints.get(ck)
        if c is None:
            raise RequestError("unknown_checkpoint", f"checkpoint {ck!r} is not held by this worker")
        c.used = time.monotonic()
        return c

    def activate(self, ck):
        """Loads checkpoint ck's weights into the model."""
        c = self.checkpoint(ck)
        if self.active != ck:
            self.lm.load_state_dict(c.weights)
            self.gen.load_weights(c.weights)
            self.active = ck
        return c

    def add(self, ck, c):
        """Holds c as ck, letting the least recently used go beyond --keep
        (never the base: a fresh worker always holds it)."""
        self.checkpoints[ck] = c
        others = sorted((x.used, k) for k, x in self.checkpoints.items() if k not in (self.base, ck))
        for _, k in others[: max(0, len(others) + 1 - self.args.keep)]:
            del self.checkpoints[k]

    # --- the protocol's methods ------------------------------------------------

    def generate(self, p):
        s = p["sampling"]
        self.activate(p["checkpoint"])
        groups = self.gen.generate(p.get("prompts") or [], p["n"], s)
        out = []
        for group in groups:
            out.append([])
            for toks, finish, lps in group:
                c = {"text": self.tok.decode(toks), "num_tokens": len(toks), "finish": finish,
                     # trace: what step needs to score it again; relix passes it back unchanged
                     "trace": [float(s["temperature"])] + toks}
                if s.get("tokens"):
                    c["tokens"] = toks
                if lps is not None:
                    c["logprobs"] = [min(lp, 0.0) for lp in lps]
                out[-1].append(c)
        return {"completions": out}

    def step(self, p):
        import grpo

        torch = self.torch
        h, parent = p["hyper"], p["checkpoint"]
        self.checkpoint(parent)
        samples, by_behaviour, skipped = [], {}, 0
        for g in p.get("groups") or []:
            rewards, comps = g.get("rewards") or [], g.get("completions") or []
            adv = grpo.advantages(rewards, h["advantage"], h["std_epsilon"])
            if adv is None:
                skipped += 1
                continue
            if len(rewards) != len(comps):
                raise RequestError("bad_request", f"group {g['prompt']['id']}: {len(rewards)} rewards for {len(comps)} completions")
            prompt = self.tok.prompt(g["prompt"]["text"])
            for c, a in zip(comps, adv):
                trace = c.get("trace") or []
                if len(trace) < 2:
                    continue  # no tokens: nothing to score
                s = grpo.Sample(prompt, [int(t) for t in trace[1:]], trace[0], a)
                samples.append(s)
                by_behaviour.setdefault(g.get("checkpoint") or parent, []).append(s)
        metrics = {"loss": 0.0, "grad_norm": 0.0, "clip_frac": 0.0, "kl": 0.0, "entropy": 0.0, "groups": len(p.get("groups") or []),
                   "skipped": skipped, "sequences": len(samples), "tokens": sum(len(s.completion) for s in samples), "updated": False}
        if not samples:
            return {"checkpoint": parent, "metrics": metrics}
        import model

        for ck, ss in by_behaviour.items():  # the behaviour policy of the PPO ratio
            self.activate(ck)
            for s in ss:
                s.lp_old = model.token_logprobs(self.lm, s.prompt, s.completion, s.temperature)
        if h["kl_beta"] > 0 and h.get("reference"):
            self.activate(h["reference"])
            for s in samples:
                s.lp_ref = model.token_logprobs(self.lm, s.prompt, s.completion, s.temperature)
        start = self.activate(parent)
        if start.train == DROPPED:
            raise RequestError("unknown_checkpoint", f"checkpoint {parent!r}: its optimizer state is not held (relix reloads it from its save)")
        device = next(self.lm.parameters()).device
        if start.train is None:
            train = {"t": 0, "master": {n: q.detach().float().clone() for n, q in self.lm.named_parameters()}, "m": {}, "v": {}}
        else:
            train = {"t": start.train["t"], **{k: {n: v.to(device, torch.float32, copy=True) for n, v in start.train[k].items()}
                                               for k in ("master", "m", "v")}}
        self.active = None  # training changes the live weights; until it succeeds they are no checkpoint's
        with torch.enable_grad():
            metrics.update(grpo.train_step(self.lm, samples, h, train))
        if not all(math.isfinite(metrics[k]) for k in ("loss", "grad_norm", "kl", "entropy")):
            raise RequestError("failed", f"the step's metrics are not finite: {metrics}")
        metrics["updated"] = True
        # The new id names the parent and the request: the same history
        # gives the same ids in every process, as relix's restarts need.
        ck = "ck-" + hashlib.sha256((parent + "\x00" + json.dumps(p, sort_keys=True, separators=(",", ":"))).encode()).hexdigest()[:16]
        for c in self.checkpoints.values():
            if c.train is not None:
                c.train = DROPPED
        self.add(ck, Checkpoint(self.snapshot(), {"t": train["t"], **{k: {n: v.cpu() for n, v in train[k].items()} for k in ("master", "m", "v")}}))
        self.active = ck  # the model now holds the new weights
        self.gen.load_weights(self.checkpoints[ck].weights)
        return {"checkpoint": ck, "metrics": metrics}

    def hidden(self, p):
        torch = self.torch
        self.activate(p["checkpoint"])
        tokens, positions = p.get("tokens") or [], p.get("positions") or []
        bad = [q for q in positions if not 0 <= q < len(tokens)]
        if bad:
            raise RequestError("bad_request", f"positions {bad} outside a {len(tokens)}-token sequence")
        device = next(self.lm.parameters()).device
        h = self.lm.hidden(torch.tensor([tokens], device=device))[0].float().cpu()
        return {"hidden": [h[q].tolist() for q in positions]}

    def save(self, p):
        import tensors

        c, ck, d = self.checkpoint(p["checkpoint"]), p["checkpoint"], p["dir"]
        os.makedirs(d, exist_ok=True)
        tensors.save(os.path.join(d, "model.safetensors"), c.weights)
        train = "full"
        if c.train is None:
            train = "fresh"
        elif c.train == DROPPED:
            train = "weights-only"
        else:
            named = {f"{k}.{n}": v for k in ("master", "m", "v") for n, v in c.train[k].items()}
            tensors.save(os.path.join(d, "optimizer.safetensors"), named, {"t": str(c.train["t"])})
        meta = {"format": FORMAT, "id": ck, "model": self.identity, "train": train}
        tensors.write_atomic(os.path.join(d, "checkpoint.json"), (json.dumps(meta, indent=2) + "\n").encode())
        return {}

    def load(self, p):
        import tensors

        d = p["dir"]
        try:
            with open(os.path.join(d, "checkpoint.json")) as f:
                meta = json.load(f)
        except OSError as e:
            raise RequestError("failed", f"{d}: no relix-python checkpoint ({e})")
        if meta.get("format") != FORMAT or meta.get("model") != self.identity:
            raise RequestError("failed", f"{d}: a checkpoint of {meta.get('model')!r} ({meta.get('format')}); this worker serves {self.identity!r}")
        weights, _ = tensors.load(os.path.join(d, "model.safetensors"))
        train = {"fresh": None, "weights-only": DROPPED}.get(meta["train"])
        if meta["train"] == "full":
            named, info = tensors.load(os.path.join(d, "optimizer.safetensors"))
            train = {"t": int(info["t"])}
            for k in ("master", "m", "v"):
                train[k] = {n[len(k) + 1 :]: v for n, v in named.items() if n.startswith(k + ".")}
        if meta["id"] == self.active:
            self.active = None  # reload: the weights may be the saved ones, not the live ones
        self.add(meta["id"], Checkpoint(weights, train))
        return {"checkpoint": meta["id"]}

    def handle(self, req):
        method, p = req.get("method"), req.get("params") or {}
        if method == "hello":
            return self.hello(p)
        if self.lm is None:
            raise RequestError("bad_request", f"{method} before hello: hello comes first")
        if method == "shutdown":
            return {}
        fn = {"generate": self.generate, "step": self.step, "hidden": self.hidden, "save": self.save, "load": self.load}.get(method)
        if fn is None:
            raise RequestError("unknown_method", f"method {method!r} is not served here")
        try:
            return fn(p)
        except (KeyError, TypeError) as e:  # a missing or mistyped field
            raise RequestError("bad_request", f"{method}: {type(e).__name__}: {e}")


def encode(rid, result=None, error=None):
    body = {"id": rid, "error": error} if error else {"id": rid, "result": result}
    return json.dumps(body, allow_nan=False, separators=(",", ":"))


def serve(worker, stdin, stdout):
    """The protocol loop: one request, one response, until shutdown or the
    end of stdin. Returns the exit status."""
    for n, line in enumerate(stdin, 1):
        try:
            req = json.loads(line)
            rid = req["id"]
        except (ValueError, KeyError, TypeError) as e:
            log(f"worker: request line {n} is not a protocol request: {e}")
            return 2
        t0 = time.monotonic()
        try:
            out = encode(rid, worker.handle(req))
        except RequestError as e:
            out = encode(rid, error={"code": e.code, "message": str(e)})
        except ValueError as e:  # a NaN in a result, among others
            log(traceback.format_exc())
            out = encode(rid, error={"code": "failed", "message": f"{type(e).__name__}: {e}"})
        except Exception as e:  # the request failed; the worker lives on
            log(traceback.format_exc())
            out = encode(rid, error={"code": "failed", "message": f"{type(e).__name__}: {e}"})
        if len(out) > worker.max_message:  # ASCII: characters are bytes
            out = encode(rid, error={"code": "failed", "message": f"result of {len(out)} bytes is longer than the message limit"})
        stdout.write(out.encode() + b"\n")
        stdout.flush()
        if worker.args.trace:
            p = req.get("params") or {}
            what = f" {len(p['prompts'])}x{p['n']} {p['sampling']}" if req.get("method") == "generate" else ""
            log(f"worker: {req.get('method')} {rid}{what}: {time.monotonic() - t0:.3f}s, {len(out)} bytes")
        if req.get("method") == "shutdown" or (req.get("method") == "hello" and '"protocol_version"' in out):
            return 0 if req.get("method") == "shutdown" else 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="a tiny random model with a byte-level tokenizer (no weights needed)")
    ap.add_argument("--model", default="", help="local model directory (default: runner.model)")
    ap.add_argument("--dtype", default="", choices=["", "float32", "float16", "bfloat16"], help="default: runner.dtype")
    ap.add_argument("--device", default="", help="default: runner.device, else cuda when available")
    ap.add_argument("--backend", default="auto", choices=["auto", "vllm", "hf"], help="generation backend of a real model (auto: vLLM when importable)")
    ap.add_argument("--keep", type=int, default=3, help="checkpoints held in memory besides the base (relix restores others)")
    ap.add_argument("--trace", action="store_true", help="log every request's method, time and answer size")
    args = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    stdout = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print from a library must not break the protocol
    sys.exit(serve(Worker(args), sys.stdin.buffer, stdout))


if __name__ == "__main__":
    main()
