"""Two ranks under torchrun (gloo, CPU, the tiny model) against one process:
the same requests give the same completions and checkpoint ids, metrics
and weights equal to float tolerance, one set of files per save, and a
clean exit — on shutdown, at the end of stdin, and when torchrun dies.

    /usr/bin/python3 -m unittest discover -s runners/worker/python
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.distributed  # noqa: E402

import tensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = [os.path.join(HERE, "worker.py"), "--tiny", "--device", "cpu"]
TORCHRUN = [sys.executable, os.path.join(HERE, "torchrun.py"), "--nnodes", "1", "--nproc_per_node", "2",
            "--rdzv_backend", "c10d", "--rdzv_endpoint", "localhost:0"]
HYPER = {"step": 0, "lr": 1e-3, "advantage": "std", "std_epsilon": 1e-8, "clip_low": 0.2, "clip_high": 0.2, "kl_beta": 0.04,
         "reference": "", "betas": [0.9, 0.999], "weight_decay": 0.01, "grad_clip": 1.0, "epochs": 1, "loss_agg": "seq-mean-token-mean"}
SAMPLING = {"temperature": 0.9, "top_p": 1, "max_tokens": 24, "seed": 5, "tokens": True}
PROMPTS = [{"id": f"p-{i}", "text": f"What is the remainder when ${20 + 7 * i}$ is divided by $6$?"} for i in range(3)]
# Float tolerance: the ranks add their gradients in another order than one
# process does, so the weights after a step, and what is computed from them
# later, differ in the last bits.
RTOL = 1e-5


class Process:
    """A worker process spoken to over its stdin and stdout."""

    def __init__(self, argv, log):
        # One thread each: the two ranks and the one process then run the
        # same kernels (torchrun sets the same for its ranks).
        env = dict(os.environ, OMP_NUM_THREADS="1")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env)
        self.next_id = 0

    def send(self, method, params):
        self.next_id += 1
        self.p.stdin.write(json.dumps({"id": self.next_id, "method": method, "params": params}).encode() + b"\n")
        self.p.stdin.flush()

    def receive(self):
        line = self.p.stdout.readline()
        if not line:
            raise AssertionError(f"the worker closed stdout (exit status {self.p.wait()})")
        resp = json.loads(line)  # anything else on stdout fails here
        assert resp["id"] == self.next_id, resp
        return resp


def both(procs, method, params):
    """Sends one request to every process, then reads their answers."""
    for p in procs:
        p.send(method, params)
    return [p.receive() for p in procs]


@unittest.skipUnless(torch.distributed.is_available() and torch.distributed.is_gloo_available(), "no torch.distributed with gloo")
class TwoRanksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.logs = [open(os.path.join(cls.tmp.name, f"{name}.log"), "w+") for name in ("one", "two")]
        cls.one = Process([sys.executable] + WORKER, cls.logs[0])
        cls.two = Process(TORCHRUN + WORKER, cls.logs[1])
        cls.procs = [cls.one, cls.two]
        hellos = both(cls.procs, "hello", {"protocol": 1, "config": {}})
        cls.base = hellos[0]["result"]["base"]
        cls.hellos = hellos

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            if p.p.poll() is None:
                p.p.kill()
                p.p.wait()
            p.p.stdin.close()
            p.p.stdout.close()
        for f in cls.logs:
            f.close()
        cls.tmp.cleanup()

    def call(self, method, params):
        one, two = both(self.procs, method, params)
        self.assertEqual("error" in one, "error" in two, (one, two))
        return one, two

    def assertClose(self, a, b, what):
        self.assertLessEqual(abs(a - b), RTOL * max(abs(a), abs(b), 1e-8), f"{what}: {a} against {b}")

    def assertSameStep(self, one, two, exact=()):
        self.assertEqual(one["result"]["checkpoint"], two["result"]["checkpoint"], "ids hash the request")
        m1, m2 = one["result"]["metrics"], two["result"]["metrics"]
        for k in ("groups", "skipped", "sequences", "tokens", "updated"):
            self.assertEqual(m1[k], m2[k], k)
        for k in ("loss", "grad_norm", "kl", "entropy", "clip_frac"):
            if k in exact:
                self.assertEqual(m1[k], m2[k], f"{k} is summed per sequence in request order on every rank")
            else:
                self.assertClose(m1[k], m2[k], k)

    def assertSameWeights(self, want_dir, got_dir, updates):
        """The saved weights, master weights and AdamW moments agree to float
        tolerance but in a few coordinates: those whose gradient was, at
        some update, no more than rounding noise against AdamW's eps — an
        attention key's bias (softmax does not change when a row's scores
        shift, so its exact gradient is 0), the output row of a token the
        sequences give almost no probability. AdamW divides that noise by
        sqrt(v) + eps, which is about eps, and moves the weight by up to lr
        in a direction the order of summation decides; such a weight then
        differs by up to lr per update, never more."""
        off = total = 0
        for name in ("model.safetensors", "optimizer.safetensors"):
            (want, meta), (got, got_meta) = (tensors.load(os.path.join(d, name)) for d in (want_dir, got_dir))
            self.assertEqual(meta, got_meta, name)
            self.assertEqual(set(want), set(got), name)
            for n, t in want.items():
                diff = (t - got[n]).abs()
                self.assertLessEqual(float(diff.max()), updates * HYPER["lr"], f"{name} {n}")
                off += int((diff > 1e-6 + RTOL * t.abs()).sum())
                total += t.numel()
        self.assertLess(off, total / 1000, f"{off} of {total} numbers differ by more than float tolerance")

    def groups(self, checkpoint, seed, rewards=(1, 0, 0, 1)):
        one, two = self.call("generate", {"checkpoint": checkpoint, "prompts": PROMPTS, "n": 4, "sampling": dict(SAMPLING, seed=seed)})
        # Rank 0 generates as one process does. After a step the weights
        # differ in their last bits, and so do the log-probabilities; a
        # sampled token would differ only if its uniform draw fell within
        # that difference of a boundary between two tokens.
        for g1, g2 in zip(one["result"]["completions"], two["result"]["completions"], strict=True):
            for c1, c2 in zip(g1, g2, strict=True):
                self.assertEqual({k: v for k, v in c1.items() if k != "logprobs"}, {k: v for k, v in c2.items() if k != "logprobs"})
                for x, y in zip(c1["logprobs"], c2["logprobs"], strict=True):
                    self.assertAlmostEqual(x, y, places=5)
        return [{"prompt": p, "completions": cs, "rewards": list(rewards)} for p, cs in zip(PROMPTS, one["result"]["completions"])]

    def test_steps_saves_and_loads_match_one_process(self):
        self.assertEqual(self.hellos[0]["result"], self.hellos[1]["result"], "the same base and capabilities")

        # From the base, KL to it: both start from the same weights, so the
        # metrics of the first epoch are the same numbers.
        first = self.call("step", {"checkpoint": self.base, "groups": self.groups(self.base, 1), "hyper": dict(HYPER, reference=self.base)})
        self.assertSameStep(*first, exact=("loss", "kl", "entropy", "clip_frac"))
        a = first[0]["result"]["checkpoint"]

        # Per-token aggregation, two epochs, and one group sampled from the
        # base (off-policy): the global token count comes from the request,
        # which every rank has.
        groups = self.groups(a, 2, rewards=(0, 1, 1, 1))
        groups[0] = dict(self.groups(self.base, 3)[0], checkpoint=self.base)
        second = self.call("step", {"checkpoint": a, "groups": groups,
                                    "hyper": dict(HYPER, step=1, loss_agg="token-mean", epochs=2, reference=self.base)})
        self.assertSameStep(*second)
        b = second[0]["result"]["checkpoint"]

        # One sequence for two ranks: rank 1 adds zeros.
        group = self.groups(b, 4)[0]
        empty = dict(group["completions"][1], trace=[0.9])  # no tokens: not scored
        lone = dict(group, completions=[group["completions"][0], empty], rewards=[1, 0])
        third = self.call("step", {"checkpoint": b, "groups": [lone], "hyper": dict(HYPER, step=2)})
        self.assertEqual(third[0]["result"]["metrics"]["sequences"], 1)
        self.assertSameStep(*third)
        c = third[0]["result"]["checkpoint"]

        dirs = [os.path.join(self.tmp.name, name, "c") for name in ("one", "two")]
        for p, d in zip(self.procs, dirs):
            p.send("save", {"checkpoint": c, "dir": d})
        self.assertEqual([p.receive()["result"] for p in self.procs], [{}, {}])
        self.assertEqual(sorted(os.listdir(dirs[1])), ["checkpoint.json", "model.safetensors", "optimizer.safetensors"],
                         "rank 0 alone writes, once")
        self.assertSameWeights(dirs[0], dirs[1], updates=1 + 2 + 1)
        with open(os.path.join(dirs[0], "checkpoint.json")) as f1, open(os.path.join(dirs[1], "checkpoint.json")) as f2:
            self.assertEqual(json.load(f1), json.load(f2))

        # Every rank loads the one process's save: from the same weights and
        # optimizer state again, a step (inside a batch) has the same
        # first-epoch metrics.
        self.assertEqual([r["result"]["checkpoint"] for r in self.call("load", {"dir": dirs[0]})], [c, c])
        step = {"checkpoint": c, "groups": self.groups(c, 5), "hyper": dict(HYPER, step=3)}
        hidden = {"checkpoint": c, "tokens": [1, 2, 3], "positions": [2]}
        one, two = self.call("batch", {"requests": [{"method": "hidden", "params": hidden}, {"method": "step", "params": step}]})
        self.assertEqual(one["result"]["responses"][0], two["result"]["responses"][0], "hidden states of the same weights")
        self.assertSameStep(one["result"]["responses"][1], two["result"]["responses"][1], exact=("loss", "kl", "entropy", "clip_frac"))

        # A structured error is every rank's, and the ranks go on.
        one, two = self.call("step", {"checkpoint": "ck-nope", "groups": self.groups(c, 6), "hyper": HYPER})
        self.assertEqual(one["error"]["code"], two["error"]["code"])
        self.assertEqual(two["error"]["code"], "unknown_checkpoint")

        self.assertEqual([r["result"] for r in self.call("shutdown", {})], [{}, {}])
        for p in self.procs:
            p.p.stdin.close()
            self.assertEqual(p.p.wait(timeout=60), 0)
        self.logs[1].seek(0)
        log = self.logs[1].read()
        self.assertIn("rank 1: worker: tiny", log)
        self.assertNotIn("Traceback", log)


@unittest.skipUnless(torch.distributed.is_available() and torch.distributed.is_gloo_available(), "no torch.distributed with gloo")
class EndTest(unittest.TestCase):
    """How the ranks end when relix does not say shutdown."""

    def start(self):
        """torchrun with two ranks, once both wait for requests; returns it
        and the ranks' pids."""
        log = tempfile.TemporaryFile("w+")
        self.addCleanup(log.close)
        p = subprocess.Popen(TORCHRUN + WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        self.addCleanup(p.stdout.close)
        self.addCleanup(p.stdin.close)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            log.seek(0)
            pids = [int(m) for m in re.findall(r"rank \d of 2 \(pid (\d+)\)", log.read())]
            if len(pids) == 2:
                return p, pids
            self.assertIsNone(p.poll(), "torchrun exited before its ranks started")
            time.sleep(0.2)
        self.fail("the ranks did not start within 2 minutes")

    def test_the_end_of_stdin_ends_every_rank(self):
        p, _ = self.start()
        p.stdin.close()
        self.assertEqual(p.wait(timeout=60), 0)
        self.assertEqual(p.stdout.read(), b"", "nothing on stdout but answers")

    def test_the_ranks_die_with_torchrun(self):
        p, pids = self.start()
        p.kill()  # torchrun alone, as when relix dies and takes torchrun with it
        p.wait()
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in pids):
            self.assertLess(time.monotonic(), deadline, f"ranks {pids} outlived torchrun")
            time.sleep(0.1)


def alive(pid):
    """Whether pid runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


if __name__ == "__main__":
    unittest.main()
