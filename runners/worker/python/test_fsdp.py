"""--shard fsdp: the gate that refuses a torch without the FSDP the worker is
written against (the real one, on this machine's torch), its decision over
versions and imports, and the FSDP code path against a stand-in
torch.distributed.fsdp that wraps modules transparently, in a world of one
process: the wrapping, the lock-step passes, the save gathered once through
the full-state-dict calls and the load back through the matching ones, with
the ids, metrics and files of one unsharded process.

FSDP itself never runs here: the stand-in shards nothing, casts nothing and
exchanges nothing.

    /usr/bin/python3 -m unittest discover -s runners/worker/python
"""

import contextlib
import dataclasses
import enum
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import types
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.distributed  # noqa: E402
import torch.nn as nn  # noqa: E402

import dist  # noqa: E402
import fsdp  # noqa: E402
import optim  # noqa: E402
import tensors  # noqa: E402
import worker  # noqa: E402
from test_worker import HYPER, PROMPTS, SAMPLING, args, converse  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TORCHRUN = [sys.executable, os.path.join(HERE, "torchrun.py"), "--nnodes", "1", "--nproc_per_node", "2",
            "--rdzv_backend", "c10d", "--rdzv_endpoint", "localhost:0"]
HELLO = {"id": 1, "method": "hello", "params": {"protocol": 1, "config": {}}}


def fsdp_runs_here():
    return fsdp.check()[0] is None


class GateTest(unittest.TestCase):
    def test_the_decision(self):
        err = "ValueError: mutable default"
        for version, error, ok in [
            ("2.1.0", None, True),
            ("2.1.2+cu121", None, True),
            ("2.4.0a0+git1234", None, True),
            ("2.10.1", None, True),
            ("3.0.0", None, True),
            ("2.1.0", err, False),  # new enough, but it does not import
            ("2.0.1", None, False),  # imports, but older than the API used
            ("1.13.1", None, False),
            ("1.13.0a0", err, False),  # Debian's python3-torch under Python 3.11
            ("", None, False),
            ("unknown", None, False),
        ]:
            why = fsdp.refusal(version, "3.11.2", error)
            self.assertEqual(why is None, ok, (version, error, why))
            if why:
                self.assertIn(f"torch {version or '(no version)'} under Python 3.11.2", why)
                self.assertIn("torch >= 2.1", why)
                self.assertNotIn("\n", why)
                if error and fsdp.torch_version(version) >= fsdp.MIN_TORCH:
                    self.assertIn(err, why)

    def test_an_import_failure_is_one_line(self):
        def fails():
            raise ValueError("line one\nline two")

        with mock.patch.object(torch, "__version__", "2.3.0"):
            why, api = fsdp.check(load=fails)
        self.assertIsNone(api)
        self.assertIn("does not import (ValueError: line one line two)", why)
        with mock.patch.object(torch, "__version__", "2.3.0"):
            self.assertEqual(fsdp.check(load=lambda: "the api"), (None, "the api"))

    def assertRefused(self, out, err, status):
        self.assertEqual(status, 2)
        self.assertEqual(out, b"", "nothing said on the protocol")
        line = f"worker: {fsdp.check()[0]}"
        self.assertIn(f"torch {torch.__version__} under Python {platform.python_version()}", line)
        return line

    @unittest.skipIf(fsdp_runs_here(), "this torch has the FSDP the worker is written against")
    def test_this_torch_is_refused_before_the_protocol(self):
        p = subprocess.run([sys.executable, os.path.join(HERE, "worker.py"), "--tiny", "--shard", "fsdp"],
                           input=json.dumps(HELLO).encode() + b"\n", capture_output=True, timeout=120)
        line = self.assertRefused(p.stdout, p.stderr, p.returncode)
        self.assertEqual(p.stderr.decode().splitlines(), [line], "one line on stderr")

    @unittest.skipIf(fsdp_runs_here(), "this torch has the FSDP the worker is written against")
    @unittest.skipUnless(torch.distributed.is_available(), "no torch.distributed")
    def test_under_torchrun_the_line_ends_torchruns_report_too(self):
        p = subprocess.run(TORCHRUN + [os.path.join(HERE, "worker.py"), "--tiny", "--shard", "fsdp"],
                           input=json.dumps(HELLO).encode() + b"\n", capture_output=True, timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(p.stdout, b"", "nothing said on the protocol")
        err = p.stderr.decode().splitlines()
        why = fsdp.check()[0]
        self.assertIn(f"worker: {why}", err)
        self.assertIn(f"rank 1: worker: {why}", err)
        # relix quotes the last 20 lines of the log when a worker cannot
        # start: torchrun's report of the failed ranks ends with the reason.
        self.assertTrue(any(why in line for line in err[-20:]), err[-20:])


# --- a stand-in torch.distributed.fsdp -----------------------------------------

PREFIX = "_fsdp_wrapped_module."


def clean(name):
    return name.replace(PREFIX, "")


class StandIn:
    """What the stand-in was asked to do."""

    def __init__(self):
        self.calls, self.wrapped, self.settings = [], [], None


class StateDictType(enum.Enum):
    FULL_STATE_DICT = 1
    SHARDED_STATE_DICT = 2


class ShardingStrategy(enum.Enum):
    FULL_SHARD = 1
    NO_SHARD = 3


@dataclasses.dataclass
class MixedPrecision:
    param_dtype: object = None
    reduce_dtype: object = None
    buffer_dtype: object = None


@dataclasses.dataclass
class FullStateDictConfig:
    offload_to_cpu: bool = False
    rank0_only: bool = False


@dataclasses.dataclass
class FullOptimStateDictConfig:
    offload_to_cpu: bool = False
    rank0_only: bool = False


def transformer_auto_wrap_policy(module, recurse, nonwrapped_numel, transformer_layer_cls):
    return True if recurse else isinstance(module, tuple(transformer_layer_cls))


def stand_in():
    """A torch.distributed.fsdp whose FullyShardedDataParallel wraps a module
    (and, by the policy, its submodules) as FSDP does — the module under
    _fsdp_wrapped_module, its own parameter objects kept — but shards
    nothing: every call computes what the unwrapped module would. Returns
    the modules for sys.modules and the record of calls."""
    seen = StandIn()

    class FullyShardedDataParallel(nn.Module):
        def __init__(self, module, process_group=None, sharding_strategy=None, auto_wrap_policy=None, mixed_precision=None,
                     use_orig_params=False, device_id=None, root=True):
            super().__init__()
            if root:
                seen.calls.append(("init", dict(process_group=process_group, sharding_strategy=sharding_strategy,
                                                mixed_precision=mixed_precision, use_orig_params=use_orig_params, device_id=device_id)))
                if auto_wrap_policy is not None:
                    self._wrap_children(module, auto_wrap_policy)
            seen.wrapped.append(type(module).__name__)
            self._fsdp_wrapped_module = module

        @staticmethod
        def _wrap_children(module, policy):
            for name, child in list(module.named_children()):
                FullyShardedDataParallel._wrap_children(child, policy)
                if policy(module=child, recurse=False, nonwrapped_numel=sum(p.numel() for p in child.parameters())):
                    setattr(module, name, FullyShardedDataParallel(child, root=False))

        def forward(self, *a, **kw):
            return self._fsdp_wrapped_module(*a, **kw)

        @staticmethod
        @contextlib.contextmanager
        def state_dict_type(module, state_dict_type, state_dict_config=None, optim_state_dict_config=None):
            seen.calls.append(("state_dict_type", state_dict_type, state_dict_config, optim_state_dict_config))
            seen.settings = (state_dict_type, state_dict_config, optim_state_dict_config)
            try:
                yield
            finally:
                seen.settings = None

        def _full(self, what):
            if seen.settings is None or seen.settings[0] != StateDictType.FULL_STATE_DICT:
                raise AssertionError(f"{what} outside state_dict_type(FULL_STATE_DICT)")
            return seen.settings

        def state_dict(self, *a, **kw):
            if a or kw:  # a nested unit, inside its parent's state_dict
                return super().state_dict(*a, **kw)
            _, cfg, _ = self._full("state_dict")
            seen.calls.append(("state_dict",))
            if cfg.rank0_only and torch.distributed.get_rank() != 0:
                return {}
            return {clean(n): t.detach().to("cpu" if cfg.offload_to_cpu else t.device, copy=True)
                    for n, t in self._fsdp_wrapped_module.state_dict().items()}

        def load_state_dict(self, sd, strict=True):
            self._full("load_state_dict")
            seen.calls.append(("load_state_dict",))
            mine = {clean(n): t for n, t in self._fsdp_wrapped_module.state_dict(keep_vars=True).items()}
            missing, unexpected = sorted(set(mine) - set(sd)), sorted(set(sd) - set(mine))
            if strict and (missing or unexpected):
                raise RuntimeError(f"keys differ: {missing[:4]} {unexpected[:4]}")
            with torch.no_grad():
                for n, t in sd.items():
                    if n in mine:
                        mine[n].copy_(t)
            return nn.modules.module._IncompatibleKeys(missing, unexpected)

        @staticmethod
        def optim_state_dict(model, optim):
            _, _, cfg = model._full("optim_state_dict")
            seen.calls.append(("optim_state_dict",))
            if cfg.rank0_only and torch.distributed.get_rank() != 0:
                return {}
            fqn = {id(p): clean(n) for n, p in model.named_parameters()}
            sd = optim.state_dict()
            params = [p for g in optim.param_groups for p in g["params"]]
            return {"state": {fqn[id(params[i])]: {k: v.clone() for k, v in s.items()} for i, s in sd["state"].items()},
                    "param_groups": [dict(g, params=[fqn[id(params[i])] for i in g["params"]]) for g in sd["param_groups"]]}

        @staticmethod
        def optim_state_dict_to_load(model, optim, optim_state_dict):
            model._full("optim_state_dict_to_load")
            seen.calls.append(("optim_state_dict_to_load",))
            order = [id(p) for g in optim.param_groups for p in g["params"]]
            at = {clean(n): order.index(id(p)) for n, p in model.named_parameters()}
            osd = optim_state_dict
            return {"state": {at[n]: s for n, s in osd["state"].items()},
                    "param_groups": [dict(g, params=[at[n] for n in g["params"]]) for g in osd["param_groups"]]}

    mod = types.ModuleType("torch.distributed.fsdp")
    for cls in (FullyShardedDataParallel, MixedPrecision, ShardingStrategy, StateDictType, FullStateDictConfig, FullOptimStateDictConfig):
        setattr(mod, cls.__name__, cls)
    wrap = types.ModuleType("torch.distributed.fsdp.wrap")
    wrap.transformer_auto_wrap_policy = transformer_auto_wrap_policy
    mod.wrap = wrap
    return {"torch.distributed.fsdp": mod, "torch.distributed.fsdp.wrap": wrap}, seen


@unittest.skipUnless(torch.distributed.is_available() and torch.distributed.is_gloo_available(), "no torch.distributed with gloo")
class StandInTest(unittest.TestCase):
    """The worker under --shard fsdp in one process, over the stand-in:
    what one unsharded process gives, by the FSDP calls."""

    def setUp(self):
        modules, self.seen = stand_in()
        with mock.patch.dict(sys.modules, modules):
            self.api = fsdp.load_api()  # through the import, as the worker loads it
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.addCleanup(torch.set_grad_enabled, torch.is_grad_enabled())  # hello turns gradients off for the process
        self.group = None

    def sharded(self, **kw):
        """A worker under --shard fsdp in a world of one (the test's one
        process group), greeted."""
        if self.group is None:
            self.group = dist.Sharded(env={})
            self.addCleanup(self.group.close)
        w = worker.Worker(args(**kw), self.group, fsdp_api=self.api)
        out = io.BytesIO()
        with contextlib.redirect_stderr(io.StringIO()) as log:
            worker.serve(w, io.BytesIO(json.dumps(HELLO).encode() + b"\n"), out)
        return w, json.loads(out.getvalue())["result"], log.getvalue()

    def one(self, **kw):
        w = worker.Worker(args(**kw))
        _, [hello] = converse(w, HELLO)
        return w, hello["result"]

    def call(self, w, method, params):
        _, [resp] = converse(w, {"id": 7, "method": method, "params": params})
        self.assertIn("result", resp, resp)
        return resp["result"]

    def groups(self, w, ck, seed, rewards=(1, 0, 0, 1)):
        comps = self.call(w, "generate", {"checkpoint": ck, "prompts": PROMPTS, "n": 4, "sampling": dict(SAMPLING, seed=seed)})["completions"]
        return [{"prompt": p, "completions": cs, "rewards": list(rewards)} for p, cs in zip(PROMPTS, comps)]

    def assertSameFiles(self, a, b):
        self.assertEqual(sorted(os.listdir(a)), sorted(os.listdir(b)))
        for name in os.listdir(a):
            if name == "checkpoint.json":
                with open(os.path.join(a, name)) as f, open(os.path.join(b, name)) as g:
                    self.assertEqual(json.load(f), json.load(g))
                continue
            (x, mx), (y, my) = tensors.load(os.path.join(a, name)), tensors.load(os.path.join(b, name))
            self.assertEqual(mx, my, name)
            self.assertEqual(set(x), set(y), name)
            for n in x:
                self.assertEqual(x[n].dtype, y[n].dtype, n)
                self.assertTrue(torch.equal(x[n], y[n]), f"{name} {n}")

    def test_steps_saves_and_loads_as_one_process(self):
        w, hello, log = self.sharded()
        one, one_hello = self.one()
        self.assertEqual(hello, one_hello, "the same base: its id hashes the model, not how it is sharded")
        self.assertIn("FSDP over 1 rank(s)", log)
        self.assertIn("wrapping Block", log)
        [(_, init)] = [c for c in self.seen.calls if c[0] == "init"]
        self.assertEqual(init["use_orig_params"], True)
        self.assertEqual(init["sharding_strategy"], ShardingStrategy.FULL_SHARD)
        self.assertIsNone(init["mixed_precision"], "a float32 model computes in float32")
        self.assertEqual(sorted(self.seen.wrapped), ["Block", "Block", "TinyLM"], "each decoder layer a unit, then the root")
        base = hello["base"]

        # Two steps, the second off-policy from the base and per token over
        # two epochs: the same ids (ids hash requests) and, the stand-in
        # computing what one process does, the same metrics to the bit.
        steps = []
        for w_ in (w, one):
            first = self.call(w_, "step", {"checkpoint": base, "groups": self.groups(w_, base, 1), "hyper": dict(HYPER, reference=base)})
            a = first["checkpoint"]
            groups = self.groups(w_, a, 2, rewards=(0, 1, 1, 1))
            groups[0] = dict(self.groups(w_, base, 3)[0], checkpoint=base)
            second = self.call(w_, "step", {"checkpoint": a, "groups": groups,
                                            "hyper": dict(HYPER, step=1, loss_agg="token-mean", epochs=2, reference=base)})
            steps.append((first, second))
        self.assertEqual(steps[0], steps[1])
        b = steps[0][1]["checkpoint"]
        self.assertEqual(self.groups(w, b, 4), self.groups(one, b, 4), "rank 0's copy of the model generates from the new weights")
        self.assertEqual(w.checkpoints[b].shard, w.checkpoints[b].train.master, "a trained checkpoint's shards are its master weights")

        # A save: the full state gathered once, to rank 0, offloaded.
        self.seen.calls.clear()
        dirs = [os.path.join(self.tmp.name, name) for name in ("fsdp", "one")]
        for w_, d in zip((w, one), dirs):
            self.assertEqual(self.call(w_, "save", {"checkpoint": b, "dir": d}), {})
        self.assertEqual([c[0] for c in self.seen.calls], ["state_dict_type", "state_dict", "optim_state_dict"])
        _, _, model_cfg, optim_cfg = self.seen.calls[0]
        self.assertEqual((model_cfg.offload_to_cpu, model_cfg.rank0_only), (True, True))
        self.assertEqual((optim_cfg.offload_to_cpu, optim_cfg.rank0_only), (True, True))
        self.assertSameFiles(dirs[0], dirs[1])

        # A weights-only save (the first step's state was let go) gathers nothing.
        self.seen.calls.clear()
        a = steps[0][0]["checkpoint"]
        self.assertEqual(self.call(w, "save", {"checkpoint": a, "dir": os.path.join(self.tmp.name, "a")}), {})
        self.assertEqual(self.seen.calls, [])

        # A load of one process's save, back through the matching calls
        # (every rank reads the files, so not rank 0's alone), then a step
        # from it: what one process gives.
        fresh, _, _ = self.sharded()
        self.seen.calls.clear()
        self.assertEqual(self.call(fresh, "load", {"dir": dirs[1]}), {"checkpoint": b})
        self.assertEqual([c[0] for c in self.seen.calls], ["state_dict_type", "load_state_dict", "optim_state_dict_to_load"])
        _, _, model_cfg, optim_cfg = self.seen.calls[0]
        self.assertEqual((model_cfg.rank0_only, optim_cfg.rank0_only), (False, False))
        self.assertEqual(self.call(one, "load", {"dir": dirs[1]}), {"checkpoint": b})
        step = {"checkpoint": b, "groups": self.groups(one, b, 5), "hyper": dict(HYPER, step=2, reference=base)}
        third = self.call(fresh, "step", step)
        self.assertEqual(third, self.call(one, "step", step))
        again = [os.path.join(self.tmp.name, name) for name in ("fsdp-c", "one-c")]
        for w_, d in zip((fresh, one), again):
            self.call(w_, "save", {"checkpoint": third["checkpoint"], "dir": d})
        self.assertSameFiles(*again)

        # A save that cannot be written is an answer (the ranks have
        # finished the gather), not the end of the worker.
        blocked = os.path.join(self.tmp.name, "file")
        open(blocked, "w").close()
        _, [resp] = converse(fresh, {"id": 8, "method": "save", "params": {"checkpoint": b, "dir": os.path.join(blocked, "x")}})
        self.assertEqual(resp["error"]["code"], "failed")

    def test_a_bfloat16_model_computes_in_its_dtype_on_float32_shards(self):
        w, hello, log = self.sharded(dtype="bfloat16")
        [(_, init)] = [c for c in self.seen.calls if c[0] == "init"]
        self.assertEqual(init["mixed_precision"], MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, buffer_dtype=None))
        self.assertIn("torch.bfloat16 compute on float32 shards", log)
        self.assertTrue(all(p.dtype == torch.float32 for p in w.sharding.params), "the shards are the master weights")
        self.assertTrue(all(t.dtype == torch.bfloat16 for t in w.lm.state_dict().values()), "rank 0's copy for generation keeps the dtype")
        self.assertEqual(hello["base"], self.one(dtype="bfloat16")[1]["base"])
        base = hello["base"]
        ck = self.call(w, "step", {"checkpoint": base, "groups": self.groups(w, base, 1), "hyper": HYPER})["checkpoint"]
        d = os.path.join(self.tmp.name, "bf16")
        self.call(w, "save", {"checkpoint": ck, "dir": d})
        weights, _ = tensors.load(os.path.join(d, "model.safetensors"))
        named, _ = tensors.load(os.path.join(d, "optimizer.safetensors"))
        self.assertEqual({t.dtype for t in weights.values()}, {torch.bfloat16})
        self.assertEqual({t.dtype for t in named.values()}, {torch.float32})
        for n, t in weights.items():
            self.assertTrue(torch.equal(t, named[f"master.{n}"].to(torch.bfloat16)), f"{n}: the weights are the masters in the model's dtype")


class Tied(nn.Module):
    """An embedding and an output layer sharing one weight, as Qwen3-4B's do."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(7, 4)
        self.out = nn.Linear(4, 7, bias=False)
        self.out.weight = self.emb.weight

    def forward(self, ids):
        return self.out(self.emb(ids))


class TiedTest(unittest.TestCase):
    """A tied weight is one parameter under two state-dict names: a load
    gives it its float32 master, not the model-dtype copy under its second
    name, and the full weights carry both names whether FSDP gives one."""

    def test_a_tied_weight(self):
        modules, _ = stand_in()
        with mock.patch.dict(sys.modules, modules):
            api = fsdp.load_api()
        sh = fsdp.Sharding(Tied().to(torch.bfloat16), types.SimpleNamespace(rank=0, size=1), None, torch.device("cpu"), api, log=lambda *a: None)
        self.assertEqual(sh.names, ["emb.weight"])
        self.assertEqual(sh.alias, {"out.weight": "emb.weight"})
        master = torch.randn(7, 4) * 1.001  # not representable in bfloat16
        weights = {n: master.to(torch.bfloat16) for n in ("emb.weight", "out.weight")}
        train = optim.TrainState(3, {"emb.weight": master}, {"emb.weight": torch.ones(7, 4)}, {"emb.weight": torch.ones(7, 4)})
        shard, state = sh.restore("ck", weights, train, torch.device("cpu"))
        self.assertTrue(torch.equal(sh.params[0], master), "the master, not the bfloat16 weight under the second name")
        self.assertTrue(torch.equal(shard["emb.weight"], master))
        self.assertEqual(state.step, 3)
        full = sh.full({"emb.weight": master})  # FSDP giving the tied weight under one name
        self.assertEqual(set(full), {"emb.weight", "out.weight"})
        with self.assertRaisesRegex(RuntimeError, "not float32"):
            sh.full({"emb.weight": master.to(torch.bfloat16)})


class PassesTest(unittest.TestCase):
    """Under FSDP every rank runs as many passes as the rank with the most."""

    def group(self, size, rank):
        g = object.__new__(dist.Sharded)  # the arithmetic alone, no process group
        g.size, g.rank = size, rank
        return g

    def test_passes_and_idle(self):
        lengths = [100, 3, 2, 1, 4]
        # share: the longest first, each to the rank with the fewest tokens
        self.assertEqual([dist.share(lengths, 2, r) for r in range(2)], [[0], [1, 2, 3, 4]])
        for rank, mine in enumerate([[0], [1, 2, 3, 4]]):
            g = self.group(2, rank)
            self.assertEqual(g.passes(lengths), 4)
            self.assertEqual(g.idle(lengths, mine), 4 - len(mine))
            self.assertEqual(g.passes(lengths, among={0, 1}), 1)
            self.assertEqual(g.passes(lengths, among={2, 3, 4}), 3)
        three = self.group(3, 2)
        self.assertEqual(three.passes([5]), 1, "one sequence, three ranks: two pass zeros")
        self.assertEqual(three.idle([5], []), 1)
        self.assertEqual(dist.Group().idle(lengths, [0, 1, 2, 3, 4]), 0, "one process: no pass of zeros")


if __name__ == "__main__":
    unittest.main()
