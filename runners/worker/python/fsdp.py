"""The training step sharded with FSDP (--shard fsdp): the gate that refuses
a torch without it, and the model under torch.distributed.fsdp's
FullyShardedDataParallel on every rank.

    torchrun --nnodes 1 --nproc_per_node N ... worker.py --shard fsdp

Written against torch's documented FSDP API of torch 2.1 (MIN_TORCH):

- FullyShardedDataParallel(module, process_group, sharding_strategy=FULL_SHARD,
  auto_wrap_policy=partial(transformer_auto_wrap_policy, transformer_layer_cls=...),
  mixed_precision=MixedPrecision(...), device_id, use_orig_params=True);
- FullyShardedDataParallel.state_dict_type(module, StateDictType.FULL_STATE_DICT,
  FullStateDictConfig(offload_to_cpu=True, rank0_only=...),
  FullOptimStateDictConfig(offload_to_cpu=True, rank0_only=...)) around
  module.state_dict() / module.load_state_dict(), and
  FullyShardedDataParallel.optim_state_dict(model, optim) /
  optim_state_dict_to_load(model, optim, optim_state_dict) (2.1's order of
  arguments; 2.0 took the state dict first).

Each rank holds a 1/N shard of every parameter (use_orig_params keeps the
module's own parameter objects, each a 1-D view of this rank's piece of it,
possibly empty). The shards are float32 and are the master weights: AdamW
updates them in place; with a bfloat16 or float16 model MixedPrecision casts
them to the model's dtype for the forward and backward passes, as DDP mode
computes in the model's dtype from its float32 master weights, and reduces
the gradients in float32.
"""

import functools
import importlib
import re
import sys
from types import SimpleNamespace

# The oldest torch this module is written against: FullOptimStateDictConfig,
# FullyShardedDataParallel.optim_state_dict and optim_state_dict_to_load with
# the model first.
MIN_TORCH = (2, 1)
NAMES = ("FullyShardedDataParallel", "MixedPrecision", "ShardingStrategy", "StateDictType", "FullStateDictConfig",
         "FullOptimStateDictConfig")


def torch_version(text):
    """(major, minor) of a torch version string such as 2.1.0, 2.4.1+cu121
    or 1.13.0a0; None when it is not one."""
    m = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def refusal(torch_text, python_text, import_error):
    """Why --shard fsdp cannot run on this torch (one line), or None when it
    can: torch_text is torch.__version__, import_error what importing
    torch.distributed.fsdp raised (None when it imported)."""
    v = torch_version(torch_text)
    minimum = ".".join(map(str, MIN_TORCH))
    why = f"this is torch {torch_text or '(no version)'} under Python {python_text}"
    if v is not None and v >= MIN_TORCH:
        if import_error is None:
            return None
        error = " ".join(str(import_error).split())  # one line, whatever the error said
        why += f", where torch.distributed.fsdp does not import ({error})"
    return f"--shard fsdp needs torch >= {minimum} with torch.distributed.fsdp; {why} (use --shard ddp, or a newer torch)"


def load_api():
    """The FSDP names this module uses, from torch.distributed.fsdp (or what
    stands in sys.modules for it)."""
    fsdp = importlib.import_module("torch.distributed.fsdp")
    wrap = importlib.import_module("torch.distributed.fsdp.wrap")
    api = SimpleNamespace(**{n: getattr(fsdp, n) for n in NAMES})
    api.transformer_auto_wrap_policy = wrap.transformer_auto_wrap_policy
    return api


def check(load=load_api):
    """At start-up: None and the API where --shard fsdp can run, else the
    one-line reason it cannot."""
    import torch

    python = sys.version.split()[0]
    error = None
    try:
        import torch.distributed

        if not torch.distributed.is_available():
            raise ImportError("torch.distributed is not available in this build")
        api = load()
    except Exception as e:  # Debian's torch 1.13 under Python 3.11 raises ValueError here
        error, api = f"{type(e).__name__}: {e}", None
    why = refusal(torch.__version__, python, error)
    return (why, None) if why else (None, api)


def layer_classes(lm):
    """The model's decoder layer classes: the ones Hugging Face models name
    in _no_split_modules (the tiny model names its Block the same way)."""
    names = set()
    for m in lm.modules():
        names.update(getattr(m, "_no_split_modules", None) or ())
    return {type(m) for m in lm.modules() if type(m).__name__ in names}


class Sharding:
    """The training model under FSDP on this rank: its parameters (float32
    shards, by the names the unwrapped model gives them), the wrapped root
    that runs forward and backward, and the full-state-dict gathers and
    scatters of saves and loads. Which checkpoint the shards hold is
    active."""

    def __init__(self, lm, group, grads_group, device, api, log=print):
        import torch

        self.torch, self.api, self.group = torch, api, group
        named = list(lm.named_parameters())
        self.names = [n for n, _ in named]
        self.params = [p for _, p in named]
        # A tied weight is one parameter under two state-dict names (the
        # embedding and the output layer): a load gives it its master copy.
        by_id = {id(p): n for n, p in named}
        self.alias = {n: by_id[id(t)] for n, t in lm.state_dict(keep_vars=True).items() if id(t) in by_id and by_id[id(t)] != n}
        self.dtypes = {n: t.dtype for n, t in lm.state_dict().items()}
        dtype = self.params[0].dtype
        low = {p.dtype for p in self.params if p.dtype in (torch.bfloat16, torch.float16)}
        mp = None
        if low:
            # The shards are the float32 master weights; forward and backward
            # run in the model's dtype, gradients are reduced in float32.
            mp = api.MixedPrecision(param_dtype=dtype, reduce_dtype=torch.float32, buffer_dtype=None)
            for p in self.params:
                if p.dtype in low:
                    p.data = p.data.float()
        classes = layer_classes(lm)
        policy = functools.partial(api.transformer_auto_wrap_policy, transformer_layer_cls=classes) if classes else None
        kw = {"device_id": device} if device.type == "cuda" else {}
        self.root = api.FullyShardedDataParallel(lm, process_group=grads_group, sharding_strategy=api.ShardingStrategy.FULL_SHARD,
                                                 auto_wrap_policy=policy, mixed_precision=mp, use_orig_params=True, **kw)
        kept = {id(p) for p in self.root.parameters()}
        if not all(id(p) in kept for p in self.params):
            raise RuntimeError("FSDP did not keep the module's own parameters (use_orig_params)")
        self.active = None
        log(f"worker: FSDP over {group.size} rank(s), {len(self.names)} parameters, wrapping "
            f"{', '.join(sorted(c.__name__ for c in classes)) or 'the whole model only (no decoder layer class found)'}"
            f"{f', {dtype} compute on float32 shards' if mp else ''}")

    def named(self):
        """name -> this rank's shard of the parameter (a 1-D view, maybe empty)."""
        return dict(zip(self.names, self.params))

    def shard(self):
        """A copy of this rank's shards on the CPU."""
        return {n: p.detach().to("cpu", copy=True) for n, p in zip(self.names, self.params)}

    def activate(self, ck, shard):
        """Puts a checkpoint's shards (shard()'s copy) into the model: each
        rank its own, nothing exchanged."""
        if self.active == ck:
            return
        with self.torch.no_grad():
            for n, p in zip(self.names, self.params):
                p.copy_(shard[n])
        self.active = ck

    def configs(self, rank0_only):
        api = self.api
        return api.FullyShardedDataParallel.state_dict_type(
            self.root, api.StateDictType.FULL_STATE_DICT, api.FullStateDictConfig(offload_to_cpu=True, rank0_only=rank0_only),
            api.FullOptimStateDictConfig(offload_to_cpu=True, rank0_only=rank0_only))

    def full_weights(self):
        """Every rank: the model's full state dict gathered to rank 0 (on the
        CPU, in the dtypes the unwrapped model had), for generation, hidden
        states and saves; None on the other ranks."""
        with self.configs(rank0_only=True):
            sd = self.root.state_dict()
        if self.group.rank != 0:
            return None
        return {n: t.to(self.dtypes[n]) for n, t in self.full(sd).items()}

    def full(self, sd):
        """FSDP's full state dict under the unwrapped model's names (a tied
        weight under each of its names, whether FSDP gives one or both),
        after checking that the parameters came back as the float32 masters,
        not cast down by the mixed precision."""
        out = {}
        for n in self.dtypes:
            t = sd[n] if n in sd else sd.get(self.alias.get(n, n))
            if t is None:
                raise RuntimeError(f"FSDP's full state dict has no {n}")
            out[n] = t
        bad = sorted({str(out[n].dtype) for n in self.names if out[n].dtype != self.torch.float32})
        if bad:
            raise RuntimeError(f"FSDP's full state dict holds the parameters as {', '.join(bad)}, not float32")
        return out

    def gather(self, ck, shard, opt):
        """Every rank, for a save: checkpoint ck's master weights and AdamW's
        state (opt, an optim.Optimizer over named() restored to it) gathered
        in full to rank 0 as an optim.TrainState; None on the other ranks."""
        import optim

        self.activate(ck, shard)
        with self.configs(rank0_only=True):
            sd = self.root.state_dict()
            osd = self.api.FullyShardedDataParallel.optim_state_dict(self.root, opt.adamw)
        if self.group.rank != 0:
            return None
        sd = self.full(sd)
        state = osd["state"]
        missing = [n for n in self.names if n not in state]
        steps = {int(state[n]["step"]) for n in self.names if n in state}
        if missing or len(steps) != 1:
            raise RuntimeError(f"FSDP's optimizer state dict lacks {missing[:3]} or holds steps {sorted(steps)}")
        moments = {k: {n: state[n][k].to("cpu", copy=True) for n in self.names} for k in optim.MOMENTS}
        return optim.TrainState(steps.pop(), {n: sd[n].to("cpu", copy=True) for n in self.names}, **moments)

    def restore(self, ck, weights, train, device):
        """Every rank, for a load: the full weights (state-dict names) and,
        when the save has them, the full training state (an
        optim.TrainState) scattered into this rank's shards. Returns the
        shards and this rank's training state (None without one)."""
        import optim

        full = dict(weights)
        if train is not None:
            full.update({n: train.master[self.alias.get(n, n)] for n in full if self.alias.get(n, n) in train.master})
        self.active = None
        with self.configs(rank0_only=False):
            # Not strict only for a tied weight's second name, which FSDP's
            # state dict may leave out.
            missing, unexpected = self.root.load_state_dict(full, strict=False)
            if missing or set(unexpected) - set(self.alias):
                raise RuntimeError(f"FSDP's load_state_dict: missing {list(missing)[:3]}, unexpected {list(unexpected)[:3]}")
            opt = None
            if train is not None:
                opt = optim.Optimizer(optim.TrainState(0, self.shard()), device, params=self.named())
                osd = {"state": {n: {"step": self.torch.tensor(float(train.step)), **{k: getattr(train, k)[n] for k in optim.MOMENTS}}
                                 for n in self.names},
                       "param_groups": [dict(g, params=list(self.names)) for g in opt.groups()]}
                opt.adamw.load_state_dict(self.api.FullyShardedDataParallel.optim_state_dict_to_load(self.root, opt.adamw, osd))
        self.active = ck
        state = opt.state(train.step) if opt is not None else None
        return (state.master if state else self.shard()), state

