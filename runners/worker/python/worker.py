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
import array
import collections
import hashlib
import json
import math
import os
import sys
import time
import traceback

import dist
import frames

PROTOCOL = 1
NAME = "relix-python/1"
# checkpoint.json's format. 2: optimizer.safetensors holds torch.optim.AdamW's
# state by its names (exp_avg, exp_avg_sq, step); 1 held the same numbers as
# m, v and t, and still loads.
FORMAT = "relix-python-checkpoint/2"
FORMATS = (FORMAT, "relix-python-checkpoint/1")
# Requests every rank takes part in under torchrun; the others are rank 0's.
# Under FSDP a save is every rank's too: the training state is gathered from
# the shards.
COLLECTIVE = ("hello", "step", "load")
SHARDED_COLLECTIVE = COLLECTIVE + ("save",)
# The optional features this worker takes up when relix offers them.
FEATURES = ("binary", "handles")
# With handles, the ids of this many completions generated with
# sampling.tokens are kept (4 bytes an id), the oldest let go first; relix
# sends the ids again for a handle let go.
KEEP_IDS = 4096


class RequestError(Exception):
    """A request that fails with a structured error code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class RankFailure(Exception):
    """A request every rank takes part in failed on this rank in a way the
    others may not have seen: the ranks may no longer agree, so the worker
    exits (torchrun then stops the other ranks) and relix starts a new one."""


LOG_PREFIX = ""  # "rank N: " on the ranks besides rank 0, whose lines share worker.log


def log(*args):
    print(LOG_PREFIX + " ".join(str(a) for a in args), file=sys.stderr, flush=True)


# A checkpoint's training state when it was let go (or saved without it):
# it can still generate and be a reference, but not be trained from.
DROPPED = "dropped"


class Checkpoint:
    """One state of the policy, on the CPU: its weights in the model's dtype
    (what generation, hidden states and the KL reference use) and its
    training state — an optim.TrainState (float32 master weights and AdamW's
    state), or None for a policy never trained (the base). Only the newest
    trained checkpoint keeps its training state in memory (six times a
    bfloat16 model's weights); the others' is DROPPED, and relix reloads it
    from the saved files if it ever trains from them.

    Under FSDP shard holds this rank's shards of the weights (float32; the
    master weights of a trained checkpoint, train.master), train this rank's
    shards of the training state, and weights the full weights on rank 0
    alone (None on the others), for generation, hidden states and saves."""

    def __init__(self, weights, train, shard=None):
        self.weights, self.train, self.shard = weights, train, shard
        self.used = time.monotonic()


class Worker:
    def __init__(self, args, group=None, fsdp_api=None):
        self.args = args
        self.group = group or dist.Group()
        self.fsdp_api = fsdp_api  # torch.distributed.fsdp's names (fsdp.load_api) under --shard fsdp
        self.sharding = None  # the FSDP model (fsdp.Sharding) under --shard fsdp
        self.gen = None  # rank 0's generation backend
        self.max_message = 256 << 20
        self.base = None  # set at hello
        self.lm = None  # the model generation and hidden states run on (rank 0's copy under FSDP)
        self.checkpoints = {}
        self.active = None  # the checkpoint whose weights the model holds
        self.binary = self.handles = False  # the features hello took up
        self.ids = collections.OrderedDict()  # handle -> the ids it names, oldest first
        self.next_handle = 0

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
        m, dtype = a.model or cfg.get("model", ""), a.dtype or cfg.get("dtype", "")
        device = self.device = self.group.device(a.device or cfg.get("device", ""))
        t0 = time.monotonic()
        self.lm, self.tok, self.identity = model.build(m, dtype, str(device), tiny=a.tiny)
        base = "base-" + hashlib.sha256(f"{NAME}\x00{self.identity}".encode()).hexdigest()[:16]
        if self.group.sharded:
            base_ck = self.shard_model(device, base)
        else:
            self.trainer = self.group.wrap(self.lm)
            base_ck = Checkpoint(self.snapshot(), None)
        if self.group.rank == 0:
            self.gen = generate.backend(a.backend, self.lm, self.tok, model_path=m, dtype=dtype, tiny=a.tiny, gen_batch=a.gen_batch)
        self.base = base
        self.checkpoints[self.base] = base_ck
        self.active = self.base
        features = [f for f in FEATURES if f in (p.get("features") or []) and not getattr(self.args, "json_only", False)]
        self.binary, self.handles = "binary" in features, "handles" in features
        ranks = f" (rank {self.group.rank} of {self.group.size})" if self.group.size > 1 else ""
        log(f"worker: {self.identity} on {device}{ranks} in {time.monotonic() - t0:.1f}s; base {self.base}; "
            f"features {', '.join(features) or 'none'}")
        res = {"protocol": PROTOCOL, "worker": NAME, "model": self.identity, "base": self.base,
               "capabilities": ["generate", "step", "hidden", "save", "load", "batch"], "concurrency": 1}
        if features:
            res["features"] = features
        return res

    def shard_model(self, device, base):
        """Under FSDP: rank 0 keeps an unsharded copy of the model, in its
        dtype, for generation and hidden states; every rank's model becomes
        its FSDP shard. Returns the base checkpoint."""
        import copy

        import fsdp

        weights = self.snapshot() if self.group.rank == 0 else None
        replica = copy.deepcopy(self.lm) if self.group.rank == 0 else None
        self.sharding = fsdp.Sharding(self.lm, self.group, self.group.grads_group(device.type == "cuda"), device, self.fsdp_api, log=log)
        self.lm, self.trainer = replica, self.sharding.root
        self.sharding.active = base
        return Checkpoint(weights, None, self.sharding.shard())

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
            if self.gen is not None:
                self.gen.load_weights(c.weights)
            self.active = ck
        return c

    def activate_train(self, ck):
        """Loads checkpoint ck's weights into the model the step trains: the
        model itself, or under FSDP this rank's shards (rank 0's copy for
        generation keeps what it holds)."""
        if self.sharding is None:
            return self.activate(ck)
        c = self.checkpoint(ck)
        self.sharding.activate(ck, c.shard)
        return c

    def add(self, ck, c):
        """Holds c as ck, letting the least recently used go beyond --keep
        (never the base: a fresh worker always holds it). Only rank 0 sees
        every use, so only rank 0 lets checkpoints go; the other ranks follow
        it at the next request they share (hold)."""
        self.checkpoints[ck] = c
        if self.group.rank != 0:
            return
        others = sorted((x.used, k) for k, x in self.checkpoints.items() if k not in (self.base, ck))
        for _, k in others[: max(0, len(others) + 1 - self.args.keep)]:
            del self.checkpoints[k]

    def hold(self, held):
        """Lets go of the checkpoints rank 0 no longer holds, so that every
        rank answers a request the same way."""
        for k in [k for k in self.checkpoints if k not in held]:
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
                    if self.handles:
                        c["handle"] = self.keep_ids(toks)
                if lps is not None:
                    c["logprobs"] = [min(lp, 0.0) for lp in lps]
                out[-1].append(c)
        return {"completions": out}

    def step(self, p):
        import grpo
        import optim

        torch = self.torch
        h, parent = p["hyper"], p["checkpoint"]
        self.checkpoint(parent)
        samples, behaviour, skipped = [], [], 0
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
                samples.append(grpo.Sample(prompt, [int(t) for t in trace[1:]], trace[0], a))
                behaviour.append(g.get("checkpoint") or parent)
        metrics = {"loss": 0.0, "grad_norm": 0.0, "clip_frac": 0.0, "kl": 0.0, "entropy": 0.0, "groups": len(p.get("groups") or []),
                   "skipped": skipped, "sequences": len(samples), "tokens": sum(len(s.completion) for s in samples), "updated": False}
        if not samples:
            return {"checkpoint": parent, "metrics": metrics}
        start = self.checkpoint(parent)
        if start.train == DROPPED:
            raise RequestError("unknown_checkpoint", f"checkpoint {parent!r}: its optimizer state is not held (relix reloads it from its save)")
        for ck in set(behaviour) | ({h["reference"]} if h["kl_beta"] > 0 and h.get("reference") else set()):
            self.checkpoint(ck)  # every one is there before any rank starts
        self.score_old(samples, behaviour, h)
        self.activate_train(parent)
        sh = self.sharding
        if sh is None:
            opt = optim.Optimizer(start.train or optim.TrainState.fresh(self.lm), next(self.lm.parameters()).device)
            self.active = None  # training changes the live weights; until it succeeds they are no checkpoint's
            lm, params = self.lm, None
        else:
            # The shards are the master weights: AdamW updates them in place.
            opt = optim.Optimizer(start.train or optim.TrainState(0, start.shard), self.device, params=sh.named())
            sh.active = None
            lm, params = sh.root, sh.named()
        with torch.enable_grad():
            metrics.update(grpo.train_step(lm, samples, h, opt, self.group, self.trainer, params=params))
        if not all(math.isfinite(metrics[k]) for k in ("loss", "grad_norm", "kl", "entropy")):
            raise RequestError("failed", f"the step's metrics are not finite: {metrics}")
        metrics["updated"] = True
        # The new id names the parent and the request: the same history
        # gives the same ids in every process, as relix's restarts need —
        # whether the request came as JSON or with its arrays attached, from
        # one process or several (canonical).
        ck = "ck-" + hashlib.sha256((parent + "\x00" + json.dumps(canonical(p), sort_keys=True, separators=(",", ":"))).encode()).hexdigest()[:16]
        for c in self.checkpoints.values():
            if c.train is not None:
                c.train = DROPPED
        if sh is not None:
            # Every rank: the full weights gathered to rank 0; each rank's
            # training state stays its own shards.
            weights, train = sh.full_weights(), opt.state()
            self.add(ck, Checkpoint(weights, train, train.master))
            sh.active = ck
            return {"checkpoint": ck, "metrics": metrics}
        self.add(ck, Checkpoint(self.snapshot(), opt.state()))
        self.active = ck  # the model now holds the new weights
        if self.gen is not None:
            self.gen.load_weights(self.checkpoints[ck].weights)
        return {"checkpoint": ck, "metrics": metrics}

    def score_old(self, samples, behaviour, h):
        """Sets the log-probs of this rank's share of samples under their
        behaviour policy (the PPO ratio's denominator) and the reference."""
        import model

        lengths = [len(s.prompt) + len(s.completion) for s in samples]
        mine = self.group.share(lengths)
        if self.sharding is not None:
            return self.score_old_sharded(samples, behaviour, h, lengths, mine)
        by_behaviour = {}
        for i in mine:
            by_behaviour.setdefault(behaviour[i], []).append(samples[i])
        for ck, ss in by_behaviour.items():
            self.activate(ck)
            for s in ss:
                s.lp_old = model.token_logprobs(self.lm, s.prompt, s.completion, s.temperature)
        if h["kl_beta"] > 0 and h.get("reference"):
            self.activate(h["reference"])
            for i in mine:
                s = samples[i]
                s.lp_ref = model.token_logprobs(self.lm, s.prompt, s.completion, s.temperature)

    def score_old_sharded(self, samples, behaviour, h, lengths, mine):
        """score_old under FSDP: every forward is every rank's, so the ranks
        go through the behaviour checkpoints in the same order (their first
        use in the request) and each runs as many forward passes for one as
        the rank with the most of its sequences, padding with one-token
        passes whose result it drops."""
        import model

        root = self.sharding.root
        passes = [(ck, "lp_old", {i for i, b in enumerate(behaviour) if b == ck}) for ck in dict.fromkeys(behaviour)]
        if h["kl_beta"] > 0 and h.get("reference"):
            passes.append((h["reference"], "lp_ref", set(range(len(samples)))))
        for ck, field, among in passes:
            self.activate_train(ck)
            todo = [i for i in mine if i in among]
            for k in range(self.group.passes(lengths, among)):
                if k < len(todo):
                    s = samples[todo[k]]
                    setattr(s, field, model.token_logprobs(root, s.prompt, s.completion, s.temperature))
                else:
                    s = samples[0]
                    model.token_logprobs(root, s.prompt[:1], s.completion[:1], s.temperature)

    def keep_ids(self, toks):
        """Keeps a completion's ids under a new handle (FEATURES)."""
        self.next_handle += 1
        self.ids[self.next_handle] = array.array("I", toks)
        while len(self.ids) > KEEP_IDS:
            self.ids.popitem(last=False)
        return self.next_handle

    def hidden(self, p):
        torch = self.torch
        self.activate(p["checkpoint"])
        tokens, positions, handle = p.get("tokens") or [], p.get("positions") or [], p.get("handle")
        if handle:
            if tokens or not self.handles:
                raise RequestError("bad_request", "hidden: a handle with tokens, or without the handles feature")
            if handle not in self.ids:
                raise RequestError("unknown_handle", f"handle {handle} is not held (any more): send the token ids")
            tokens = self.ids[handle].tolist()
        bad = [q for q in positions if not 0 <= q < len(tokens)]
        if bad:
            raise RequestError("bad_request", f"positions {bad} outside a {len(tokens)}-token sequence")
        device = next(self.lm.parameters()).device
        h = self.lm.hidden(torch.tensor([tokens], device=device))[0].float().cpu()
        return {"hidden": h[positions]}  # a tensor: frames writes it as bytes or as lists

    def batch(self, p):
        """Independent requests, each answered as if it came alone."""
        out = []
        for item in p.get("requests") or []:
            method = item.get("method")
            try:
                if method in ("hello", "problems", "shutdown", "batch"):
                    raise RequestError("bad_request", f"a batch may not hold a {method} request")
                out.append({"result": self.handle({"method": method, "params": item.get("params") or {}})})
            except RequestError as e:
                out.append({"error": {"code": e.code, "message": str(e)}})
            except RankFailure:
                raise
            except Exception as e:  # one request failed; the others stand
                log(traceback.format_exc())
                out.append({"error": {"code": "failed", "message": f"{type(e).__name__}: {e}"}})
        return {"responses": out}

    def save(self, p):
        import tensors

        c, ck, d = self.checkpoint(p["checkpoint"]), p["checkpoint"], p["dir"]
        train, full = "full", c.train
        if c.train is None:
            train = "fresh"
        elif c.train == DROPPED:
            train = "weights-only"
        elif self.sharding is not None:
            # Every rank: the shards' master weights and AdamW's state
            # gathered in full to rank 0, which alone writes.
            import optim

            self.activate_train(ck)
            full = self.sharding.gather(ck, c.shard, optim.Optimizer(c.train, self.device, params=self.sharding.named()))
        if self.group.rank != 0:
            return {}
        try:
            os.makedirs(d, exist_ok=True)
            tensors.save(os.path.join(d, "model.safetensors"), c.weights)
            if train == "full":
                named, info = optimizer_file(full)
                tensors.save(os.path.join(d, "optimizer.safetensors"), named, info)
            meta = {"format": FORMAT, "id": ck, "model": self.identity, "train": train}
            tensors.write_atomic(os.path.join(d, "checkpoint.json"), (json.dumps(meta, indent=2) + "\n").encode())
        except OSError as e:
            if self.sharding is None:
                raise
            # Under FSDP a save is every rank's: after the gather the others
            # have finished it, so a write that fails is an answer, not a
            # failure that would end the worker.
            raise RequestError("failed", f"{type(e).__name__}: {e}")
        return {}

    def load(self, p):
        import tensors

        d = p["dir"]
        try:
            with open(os.path.join(d, "checkpoint.json")) as f:
                meta = json.load(f)
        except OSError as e:
            raise RequestError("failed", f"{d}: no relix-python checkpoint ({e})")
        if meta.get("format") not in FORMATS:
            raise RequestError("failed", f"{d}: checkpoint format {meta.get('format')!r}; this worker reads {', '.join(FORMATS)}")
        if meta.get("model") != self.identity:
            raise RequestError("failed", f"{d}: a checkpoint of {meta.get('model')!r}; this worker serves {self.identity!r}")
        weights, _ = tensors.load(os.path.join(d, "model.safetensors"))
        train = {"fresh": None, "weights-only": DROPPED}.get(meta["train"])
        if meta["train"] == "full":
            train = train_state(*tensors.load(os.path.join(d, "optimizer.safetensors")), meta["format"])
        if meta["id"] == self.active:
            self.active = None  # reload: the weights may be the saved ones, not the live ones
        if self.sharding is None:
            self.add(meta["id"], Checkpoint(weights, train))
            return {"checkpoint": meta["id"]}
        # Every rank read the files; each keeps its shards.
        shard, mine = self.sharding.restore(meta["id"], weights, train if meta["train"] == "full" else None, self.device)
        self.add(meta["id"], Checkpoint(weights if self.group.rank == 0 else None, mine if meta["train"] == "full" else train, shard))
        return {"checkpoint": meta["id"]}

    def handle(self, req):
        method, p = req.get("method"), req.get("params") or {}
        if method in (SHARDED_COLLECTIVE if self.group.sharded else COLLECTIVE) and self.group.size > 1:
            # The others run it too, seeing the checkpoints rank 0 holds.
            self.group.send({"method": method, "params": p, "held": sorted(self.checkpoints)})
            return self.run_collective(method, p)
        return self.run(method, p)

    def run(self, method, p):
        if method == "hello":
            return self.hello(p)
        if self.base is None:
            raise RequestError("bad_request", f"{method} before hello: hello comes first")
        if method == "shutdown":
            return {}
        fn = {"generate": self.generate, "step": self.step, "hidden": self.hidden, "save": self.save, "load": self.load,
              "batch": self.batch}.get(method)
        if fn is None:
            raise RequestError("unknown_method", f"method {method!r} is not served here")
        try:
            return fn(p)
        except (KeyError, TypeError) as e:  # a missing or mistyped field
            raise RequestError("bad_request", f"{method}: {type(e).__name__}: {e}")

    def run_collective(self, method, p):
        """A request every rank runs. Its structured errors depend only on
        the request and on the checkpoints held, which every rank agrees on,
        and come before the ranks exchange anything, so every rank raises the
        same; any other failure may be this rank's alone (out of memory),
        with the others waiting on it, and ends the worker."""
        try:
            return self.run(method, p)
        except RequestError:
            raise
        except Exception as e:
            log(traceback.format_exc())
            raise RankFailure(f"{method} failed on rank {self.group.rank}: {type(e).__name__}: {e}") from e

    def follow(self):
        """The loop of a rank besides rank 0: rank 0's requests, until it
        says stop. Their answers are rank 0's to give."""
        while (msg := self.group.receive()) is not None:
            self.hold(set(msg["held"]))
            try:
                self.run_collective(msg["method"], msg["params"])
            except RequestError:
                pass
        return 0


def optimizer_file(train):
    """optimizer.safetensors' tensors and metadata for a TrainState: the
    master weights and AdamW's moments by parameter name, its step count in
    the metadata."""
    import optim

    named = {f"master.{n}": t for n, t in train.master.items()}
    for k in optim.MOMENTS:
        named.update({f"{k}.{n}": t for n, t in getattr(train, k).items()})
    return named, {"optimizer": "torch.optim.AdamW", "step": str(train.step)}


# Format 1's names for the same numbers: m and v for the moments, t for the step.
V1_NAMES = {"master": "master", "exp_avg": "m", "exp_avg_sq": "v"}


def train_state(named, info, fmt):
    """The TrainState an optimizer.safetensors of format fmt holds."""
    import optim

    names = V1_NAMES if fmt.endswith("/1") else {k: k for k in V1_NAMES}
    parts = {k: {n[len(prefix) + 1 :]: t for n, t in named.items() if n.startswith(prefix + ".")} for k, prefix in names.items()}
    return optim.TrainState(int(info["t"] if fmt.endswith("/1") else info["step"]), **parts)


def canonical(value, key=None):
    """A step request as its checkpoint id hashes it: its numbers in one
    form however they travelled (a trace's as f64: JSON writes 512.0 as
    512, which Python reads as an int), without the completions' log-probs.
    The step scores the tokens again under the behaviour checkpoint, so
    those never shape its result; they are the one part of a request that
    depends on the generator's arithmetic (weights that differ in their last
    bits after a step across ranks, another kernel, another engine), and
    hashing them would give the same training two names."""
    if isinstance(value, dict):
        return {k: canonical(v, k) for k, v in value.items() if k != "logprobs"}
    if isinstance(value, list) and key == "trace":
        return [float(x) for x in value]
    if isinstance(value, list):
        return [canonical(v, key) for v in value]
    return value


def peak_memory():
    """The process's peak memory so far, for --trace: on a GPU what torch
    allocated (and what the whole device holds now, vLLM's engine
    included), else the peak resident set."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        free, total = torch.cuda.mem_get_info()
        return f"peak {torch.cuda.max_memory_allocated() >> 20} MiB allocated, {(total - free) >> 20} MiB in use on the device"
    import resource

    return f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10} MiB resident"


def serve(worker, stdin, stdout):
    """The protocol loop: one request (its line, and the attachment it
    announces), one response, until shutdown or the end of stdin. Returns
    the exit status."""
    n = 0
    while True:
        line = stdin.readline()
        if not line:
            return 0
        n += 1
        try:
            req = json.loads(line)
            rid = req["id"]
            att = frames.read_exactly(stdin, req["bin"]) if req.get("bin") else b""
        except (ValueError, KeyError, TypeError, EOFError) as e:
            log(f"worker: request line {n} is not a protocol request: {e}")
            return 2
        t0 = time.monotonic()
        method_s = 0.0  # of the time to answer, the method's own (not decoding and encoding)
        try:
            try:
                req["params"] = frames.resolve(req.get("params") or {}, att)
            except ValueError as e:
                raise RequestError("bad_request", f"{req.get('method')}: {e}")
            t1 = time.monotonic()
            result = worker.handle(req)
            method_s = time.monotonic() - t1
            out = frames.encode(rid, result, binary=worker.binary)
        except RequestError as e:
            out = frames.encode(rid, error={"code": e.code, "message": str(e)})
        except RankFailure:
            raise
        except Exception as e:  # the request failed (a NaN in a JSON result, among others); the worker lives on
            log(traceback.format_exc())
            out = frames.encode(rid, error={"code": "failed", "message": f"{type(e).__name__}: {e}"})
        if len(out) > worker.max_message:
            out = frames.encode(rid, error={"code": "failed", "message": f"result of {len(out)} bytes is longer than the message limit"})
        stdout.write(out)
        stdout.flush()
        if worker.args.trace:
            p = req.get("params") or {}
            what = f" {len(p['prompts'])}x{p['n']} {p['sampling']}" if req.get("method") == "generate" else ""
            log(f"worker: {req.get('method')} {rid}{what}: {time.monotonic() - t0:.3f}s ({method_s:.3f}s in the method), "
                f"{len(out)} bytes, {peak_memory()}")
        if req.get("method") == "shutdown" or (req.get("method") == "hello" and b'"protocol_version"' in out):
            return 0 if req.get("method") == "shutdown" else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="a tiny random model with a byte-level tokenizer (no weights needed)")
    ap.add_argument("--model", default="", help="local model directory (default: runner.model)")
    ap.add_argument("--dtype", default="", choices=["", "float32", "float16", "bfloat16"], help="default: runner.dtype")
    ap.add_argument("--device", default="", help="default: runner.device, else cuda when available")
    ap.add_argument("--backend", default="auto", choices=["auto", "vllm", "hf"], help="generation backend of a real model (auto: vLLM when importable)")
    ap.add_argument("--gen-batch", type=int, default=32, help="rows of one generation forward pass: bounds the KV cache's memory")
    ap.add_argument("--keep", type=int, default=3, help="checkpoints held in memory besides the base (relix restores others)")
    ap.add_argument("--trace", action="store_true", help="log every request's method, time and answer size")
    ap.add_argument("--json-only", action="store_true", help="take up no optional feature: plain JSON, no handles (as before them)")
    ap.add_argument("--shard", default="ddp", choices=["ddp", "fsdp"],
                    help="how the step spreads over torchrun's ranks: ddp (every rank the whole model) or fsdp "
                         "(each rank a shard of the weights and training state; needs torch >= 2.1)")
    args = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    api = None
    if args.shard == "fsdp":
        api = start_fsdp()
    protocol = protocol_stdout()
    group = dist.from_env(shard=args.shard)
    if group.rank != 0:
        global LOG_PREFIX
        LOG_PREFIX = f"rank {group.rank}: "
        protocol.close()  # rank 0 alone answers
    w = Worker(args, group, fsdp_api=api)
    if group.size > 1:
        role = "speaks the protocol" if group.rank == 0 else "follows rank 0"
        log(f"worker: rank {group.rank} of {group.size} (pid {os.getpid()}) {role}")
    try:
        status = serve(w, sys.stdin.buffer, protocol) if group.rank == 0 else w.follow()
    except RankFailure as e:
        # No goodbye to the other ranks: they may be waiting inside a step
        # for this one. torchrun sees this rank exit and stops them.
        log(f"worker: {e}; exiting")
        os._exit(1)
    except BaseException:
        group.close()
        raise
    group.close()
    sys.exit(status)


def start_fsdp():
    """--shard fsdp's gate, before anything is said on the protocol: on a
    torch without the FSDP this worker is written against, one line on
    stderr (relix quotes the worker's last log lines when it cannot start
    it) and exit status 2, as for a bad flag. Returns the FSDP API."""
    import fsdp

    why, api = fsdp.check()
    if why:
        rank = os.environ.get("RANK", "0")
        print(f"{'' if rank == '0' else f'rank {rank}: '}worker: {why}", file=sys.stderr, flush=True)
        if os.environ.get("TORCHELASTIC_ERROR_FILE"):
            from torch.distributed.elastic.multiprocessing.errors import ErrorHandler

            try:
                raise RuntimeError(why)
            except RuntimeError as e:
                ErrorHandler().record_exception(e)
        sys.exit(2)
    return api


def protocol_stdout():
    """The protocol's own copy of stdout, with file descriptor 1 then
    pointed at stderr: nothing else this process runs — a stray print, a C
    library's printf, a CUDA or NCCL message — can write a line on the
    protocol's stream."""
    sys.stdout.flush()
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


if __name__ == "__main__":
    main()
