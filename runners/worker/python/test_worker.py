"""The worker's protocol loop with the tiny model: round trips of every
method, structured errors instead of crashes, seeded generation that does
not depend on batching, a step that trains and one that cannot, and
checkpoint files that load back to the same id and weights.

    /usr/bin/python3 -m unittest discover -s runners/worker/python
"""

import argparse
import contextlib
import io
import json
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import frames  # noqa: E402
import tensors  # noqa: E402
import worker  # noqa: E402

HYPER = {"step": 0, "lr": 1e-3, "advantage": "std", "std_epsilon": 1e-8, "clip_low": 0.2, "clip_high": 0.2, "kl_beta": 0.04,
         "reference": "", "betas": [0.9, 0.999], "weight_decay": 0.01, "grad_clip": 1.0, "epochs": 1, "loss_agg": "seq-mean-token-mean"}
SAMPLING = {"temperature": 0.9, "top_p": 1, "max_tokens": 24, "seed": 11, "tokens": True}
PROMPTS = [{"id": "p-a", "text": "What is the remainder when $28$ is divided by $8$?"},
           {"id": "p-b", "text": "What is the remainder when $40$ is divided by $7$?"}]


def args(**kw):
    a = {"tiny": True, "model": "", "dtype": "", "device": "cpu", "backend": "auto", "gen_batch": 32, "keep": 3, "trace": False, "json_only": False}
    a.update(kw)
    return argparse.Namespace(**a)


def converse(w, *requests):
    """Runs the protocol loop over requests; returns the exit status and the
    responses."""
    stdin = io.BytesIO(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
    stdout = io.BytesIO()
    with contextlib.redirect_stderr(io.StringIO()):  # the worker's log: tracebacks of the errors provoked here
        status = worker.serve(w, stdin, stdout)
    return status, [json.loads(line) for line in stdout.getvalue().splitlines()]


class WorkerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = worker.Worker(args())
        _, [hello] = converse(cls.w, {"id": 1, "method": "hello", "params": {"protocol": 1, "max_message": 1 << 24, "config": {}}})
        cls.hello = hello["result"]
        cls.base = cls.hello["base"]

    def call(self, method, params, rid=7):
        _, [resp] = converse(self.w, {"id": rid, "method": method, "params": params})
        self.assertEqual(resp["id"], rid)
        return resp

    def generate(self, prompts, n, checkpoint=None, **sampling):
        resp = self.call("generate", {"checkpoint": checkpoint or self.base, "prompts": prompts, "n": n, "sampling": dict(SAMPLING, **sampling)})
        self.assertIn("result", resp, resp)
        return resp["result"]["completions"]

    def test_hello(self):
        self.assertEqual(self.hello["protocol"], 1)
        self.assertTrue(self.base.startswith("base-"))
        self.assertEqual(set(self.hello["capabilities"]), {"generate", "step", "hidden", "save", "load", "batch"})
        self.assertNotIn("features", self.hello, "relix offered none")
        again = worker.Worker(args())
        _, [h] = converse(again, {"id": 1, "method": "hello", "params": {"protocol": 1, "config": {}}})
        self.assertEqual(h["result"]["base"], self.base, "a fresh process names the same base")

    def test_generate_is_seeded_per_completion(self):
        both = self.generate(PROMPTS, 3)
        self.assertEqual([len(g) for g in both], [3, 3])
        for c in both[0]:
            self.assertEqual(c["num_tokens"], len(c["tokens"]))
            self.assertIn(c["finish"], ("stop", "length"))
            self.assertEqual(c["trace"][1:], c["tokens"])
            self.assertTrue(all(lp <= 0 for lp in c["logprobs"]))
        # The call's completions are sampled together, across prompts: the
        # tokens must not depend on the batch, but BLAS kernels may sum a
        # matrix product of another shape in another order, so the reported
        # log-probabilities may differ in their last bits.
        self.assertSameCompletions(self.generate(PROMPTS[1:], 3)[0], both[1], "another prompt in the call changes nothing")
        self.assertSameCompletions(self.generate(PROMPTS[:1], 1)[0], both[0][:1], "nor does n")
        self.assertNotEqual(self.generate(PROMPTS[:1], 3, seed=12)[0], both[0])

    def assertSameCompletions(self, got, want, msg):
        self.assertEqual(len(got), len(want), msg)
        for g, w in zip(got, want):
            self.assertEqual({k: v for k, v in g.items() if k != "logprobs"}, {k: v for k, v in w.items() if k != "logprobs"}, msg)
            for a, b in zip(g["logprobs"], w["logprobs"], strict=True):
                self.assertAlmostEqual(a, b, places=5, msg=msg)

    def test_the_tiny_model_knows_the_answer_format(self):
        texts = [c["text"] for c in self.generate(PROMPTS, 8)[0]]
        boxed = [t for t in texts if t.startswith("\\boxed{") and t.endswith("}")]
        self.assertGreaterEqual(len(boxed), 6, texts)

    def test_step_trains_and_checkpoints_round_trip(self):
        comps = self.generate(PROMPTS, 4)
        groups = [{"prompt": p, "completions": cs, "rewards": [1, 0, 0, 1]} for p, cs in zip(PROMPTS, comps)]
        params = {"checkpoint": self.base, "groups": groups, "hyper": dict(HYPER, reference=self.base)}
        first = self.call("step", params)["result"]
        m = first["metrics"]
        self.assertTrue(m["updated"])
        self.assertEqual((m["groups"], m["skipped"], m["sequences"]), (2, 0, 8))
        self.assertGreater(m["grad_norm"], 0)
        self.assertEqual(m["kl"], 0.0, "the policy is the reference at its first step")
        self.assertEqual(self.call("step", params)["result"], first, "the same request, the same id and metrics")
        nudged = [dict(g, completions=[dict(c, logprobs=[lp * (1 + 1e-6) for lp in c["logprobs"]]) for c in g["completions"]]) for g in groups]
        self.assertEqual(self.call("step", dict(params, groups=nudged))["result"], first,
                         "the generator's log-probs are not the step's: it scores the tokens itself")
        ck = first["checkpoint"]
        self.assertNotEqual(self.generate(PROMPTS, 4, checkpoint=ck), comps, "the step changed the policy")

        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(self.call("save", {"checkpoint": ck, "dir": d})["result"], {})
            self.assertEqual(sorted(os.listdir(d)), ["checkpoint.json", "model.safetensors", "optimizer.safetensors"])
            fresh = worker.Worker(args())
            _, [_, loaded] = converse(fresh, {"id": 1, "method": "hello", "params": {"protocol": 1, "config": {}}},
                                      {"id": 2, "method": "load", "params": {"dir": d}})
            self.assertEqual(loaded["result"]["checkpoint"], ck)
            for name, t in self.w.checkpoints[ck].weights.items():
                self.assertTrue(torch.equal(t, fresh.checkpoints[ck].weights[name]), name)
            self.assertEqual(fresh.checkpoints[ck].train.step, 1)
            for k in ("master", "exp_avg", "exp_avg_sq"):
                ours, theirs = getattr(self.w.checkpoints[ck].train, k), getattr(fresh.checkpoints[ck].train, k)
                self.assertEqual(set(ours), set(theirs), k)
                for n, t in ours.items():
                    self.assertTrue(torch.equal(t, theirs[n]), f"{k}.{n}")
            with open(os.path.join(d, "checkpoint.json")) as f:
                self.assertEqual(json.load(f)["format"], "relix-python-checkpoint/2")
            _, info = tensors.load(os.path.join(d, "optimizer.safetensors"))
            self.assertEqual(info, {"optimizer": "torch.optim.AdamW", "step": "1"})

        hidden = self.call("hidden", {"checkpoint": ck, "tokens": [1, 2, 3, 4], "positions": [0, 3]})["result"]["hidden"]
        self.assertEqual([len(v) for v in hidden], [64, 64])
        other = self.call("hidden", {"checkpoint": self.base, "tokens": [1, 2, 3, 4], "positions": [0, 3]})["result"]["hidden"]
        self.assertNotEqual(hidden, other)

    def test_only_the_newest_checkpoint_keeps_its_optimizer_state(self):
        comps = self.generate(PROMPTS, 4)
        groups = [{"prompt": p, "completions": cs, "rewards": [0, 1, 0, 1]} for p, cs in zip(PROMPTS, comps)]
        first = self.call("step", {"checkpoint": self.base, "groups": groups, "hyper": HYPER})["result"]["checkpoint"]
        with tempfile.TemporaryDirectory() as d:
            self.call("save", {"checkpoint": first, "dir": d})
            second = self.call("step", {"checkpoint": first, "groups": groups, "hyper": dict(HYPER, step=1)})["result"]["checkpoint"]
            self.assertEqual(self.w.checkpoints[first].train, worker.DROPPED)
            again = {"checkpoint": first, "groups": groups, "hyper": dict(HYPER, step=1)}
            self.assertEqual(self.call("step", again)["error"]["code"], "unknown_checkpoint")
            self.assertEqual(self.call("load", {"dir": d})["result"]["checkpoint"], first)
            self.assertEqual(self.call("step", again)["result"]["checkpoint"], second, "reloaded, it trains to the same id")

    def test_a_format_1_checkpoint_loads_and_trains_on(self):
        """Format 1 held the same numbers under the names m, v and t: a run
        saved before format 2 resumes to the same ids and weights."""
        comps = self.generate(PROMPTS, 4)
        groups = [{"prompt": p, "completions": cs, "rewards": [1, 1, 0, 1]} for p, cs in zip(PROMPTS, comps)]
        first = self.call("step", {"checkpoint": self.base, "groups": groups, "hyper": HYPER})["result"]["checkpoint"]
        again = {"checkpoint": first, "groups": groups, "hyper": dict(HYPER, step=1)}
        with tempfile.TemporaryDirectory() as d:
            self.call("save", {"checkpoint": first, "dir": d})
            second = self.call("step", again)["result"]["checkpoint"]
            want = {n: t.clone() for n, t in self.w.checkpoints[second].weights.items()}
            named, info = tensors.load(os.path.join(d, "optimizer.safetensors"))
            old = {k.replace("exp_avg_sq.", "v.").replace("exp_avg.", "m."): t for k, t in named.items()}
            tensors.save(os.path.join(d, "optimizer.safetensors"), old, {"t": info["step"]})
            with open(os.path.join(d, "checkpoint.json")) as f:
                meta = json.load(f)
            tensors.write_atomic(os.path.join(d, "checkpoint.json"), json.dumps(dict(meta, format="relix-python-checkpoint/1")).encode())

            fresh = worker.Worker(args())
            _, [_, loaded, stepped] = converse(fresh, {"id": 1, "method": "hello", "params": {"protocol": 1, "config": {}}},
                                              {"id": 2, "method": "load", "params": {"dir": d}},
                                              {"id": 3, "method": "step", "params": again})
            self.assertEqual(loaded["result"]["checkpoint"], first)
            self.assertEqual(stepped["result"]["checkpoint"], second)
            for n, t in want.items():
                self.assertTrue(torch.equal(t, fresh.checkpoints[second].weights[n]), n)

            tensors.write_atomic(os.path.join(d, "checkpoint.json"), json.dumps(dict(meta, format="relix-python-checkpoint/9")).encode())
            err = self.call("load", {"dir": d})["error"]
            self.assertEqual(err["code"], "failed")
            self.assertIn("checkpoint format 'relix-python-checkpoint/9'; this worker reads relix-python-checkpoint/2, relix-python-checkpoint/1",
                          err["message"])

    def test_a_step_without_signal_changes_nothing(self):
        comps = self.generate(PROMPTS[:1], 2)
        m = self.call("step", {"checkpoint": self.base, "groups": [{"prompt": PROMPTS[0], "completions": comps[0], "rewards": [1, 1]}],
                               "hyper": HYPER})["result"]
        self.assertEqual(m["checkpoint"], self.base)
        self.assertFalse(m["metrics"]["updated"])
        self.assertEqual(m["metrics"]["skipped"], 1)
        self.assertEqual(self.call("step", {"checkpoint": self.base, "groups": None, "hyper": HYPER})["result"]["checkpoint"], self.base)

    def test_errors_are_answers(self):
        self.assertEqual(self.call("generate", {"checkpoint": "nope", "prompts": PROMPTS, "n": 1, "sampling": SAMPLING})["error"]["code"], "unknown_checkpoint")
        self.assertEqual(self.call("frobnicate", {})["error"]["code"], "unknown_method")
        self.assertEqual(self.call("generate", {"checkpoint": self.base})["error"]["code"], "bad_request")
        self.assertEqual(self.call("hidden", {"checkpoint": self.base, "tokens": [1], "positions": [3]})["error"]["code"], "bad_request")
        self.assertEqual(self.call("load", {"dir": "/nonexistent"})["error"]["code"], "failed")
        self.assertIn("temperature", self.call("generate", {"checkpoint": self.base, "prompts": PROMPTS, "n": 1,
                                                            "sampling": dict(SAMPLING, temperature=0)})["error"]["message"])

    def test_hello_comes_first_and_versions_must_match(self):
        w = worker.Worker(args())
        status, [early, refused] = converse(w, {"id": 1, "method": "generate", "params": {}},
                                            {"id": 2, "method": "hello", "params": {"protocol": 2}},
                                            {"id": 3, "method": "shutdown"})
        self.assertEqual(early["error"]["code"], "bad_request")
        self.assertEqual(refused["error"]["code"], "protocol_version")
        self.assertIn("relix speaks protocol version 2; this worker speaks 1", refused["error"]["message"])
        self.assertEqual(status, 1, "it exits after refusing")

    def test_shutdown_and_garbage(self):
        status, [resp] = converse(self.w, {"id": 9, "method": "shutdown"}, {"id": 10, "method": "generate"})
        self.assertEqual((status, resp), (0, {"id": 9, "result": {}}))
        with contextlib.redirect_stderr(io.StringIO()) as log:
            status = worker.serve(self.w, io.BytesIO(b"not json\n"), io.BytesIO())
        self.assertEqual(status, 2)
        self.assertIn("request line 1 is not a protocol request", log.getvalue())


def frame(request, att=b""):
    """A request's bytes: its line, then its attachment."""
    if att:
        request = dict(request, bin=len(att))
    return json.dumps(request).encode() + b"\n" + att


def converse_frames(w, *frames_):
    """The protocol loop over request frames; returns the exit status and
    the responses with their attachments resolved."""
    stdout = io.BytesIO()
    with contextlib.redirect_stderr(io.StringIO()):
        status = worker.serve(w, io.BytesIO(b"".join(frames_)), stdout)
    out, data = [], io.BytesIO(stdout.getvalue())
    while line := data.readline():
        resp = json.loads(line)
        att = data.read(resp.get("bin", 0))
        out.append((resp, frames.resolve(resp, att)))
    return status, out


def u32(*xs):
    return struct.pack(f"<{len(xs)}I", *xs)


class FeaturesTest(unittest.TestCase):
    """The binary attachment and handles, against the plain JSON of the same
    worker: the same completions, hidden states and steps."""

    @classmethod
    def setUpClass(cls):
        cls.w = worker.Worker(args())
        cls.json = worker.Worker(args())
        hello = {"id": 1, "method": "hello", "params": {"protocol": 1, "config": {}, "features": ["binary", "handles", "future"]}}
        _, [(h, _)] = converse_frames(cls.w, frame(hello))
        cls.hello = h["result"]
        _, [(hj, _)] = converse_frames(cls.json, frame({"id": 1, "method": "hello", "params": {"protocol": 1, "config": {}}}))
        cls.base = hj["result"]["base"]

    def call(self, w, method, params, att=b""):
        _, [(raw, resp)] = converse_frames(w, frame({"id": 7, "method": method, "params": params}, att))
        return raw, resp

    def test_negotiation(self):
        self.assertEqual(self.hello["features"], ["binary", "handles"], "what it knows of what relix offered")
        quiet = worker.Worker(args(json_only=True))
        _, [(h, _)] = converse_frames(quiet, frame({"id": 1, "method": "hello", "params": {"protocol": 1, "config": {}, "features": ["binary"]}}))
        self.assertNotIn("features", h["result"])

    def test_generate_hidden_and_batch(self):
        params = {"checkpoint": self.base, "prompts": PROMPTS, "n": 3, "sampling": SAMPLING}
        raw, got = self.call(self.w, "generate", params)
        self.assertIn("bin", raw, "ids, log-probs and traces travel in the attachment")
        self.assertIn("bin", raw["result"]["completions"][0][0]["tokens"])
        _, want = self.call(self.json, "generate", params)
        comps = got["result"]["completions"]
        handles = [c.pop("handle") for cs in comps for c in cs]
        self.assertEqual(len(set(handles)), 6)
        for cs, ws in zip(comps, want["result"]["completions"], strict=True):
            for c, wc in zip(cs, ws, strict=True):
                self.assertEqual({k: v for k, v in c.items() if k != "logprobs"}, {k: v for k, v in wc.items() if k != "logprobs"})
                for a, b in zip(c["logprobs"], wc["logprobs"], strict=True):
                    self.assertAlmostEqual(a, b, places=5)  # f32 in the attachment, f64 in JSON

        toks = comps[0][1]["tokens"]
        pos = [0, len(toks) - 1]
        raw, by_handle = self.call(self.w, "hidden", {"checkpoint": self.base, "handle": handles[1], "positions": pos})
        self.assertEqual(raw["result"]["hidden"]["width"], 64)
        _, by_ids = self.call(self.json, "hidden", {"checkpoint": self.base, "tokens": toks, "positions": pos})
        self.assertEqual(by_handle["result"]["hidden"], by_ids["result"]["hidden"], "f32 both ways: the same numbers")

        batch = {"requests": [{"method": "hidden", "params": {"checkpoint": self.base, "handle": handles[1], "positions": pos}},
                              {"method": "hidden", "params": {"checkpoint": self.base, "tokens": {"bin": [0, len(toks)]}, "positions": pos}},
                              {"method": "hidden", "params": {"checkpoint": self.base, "handle": 10**6, "positions": [0]}},
                              {"method": "shutdown", "params": {}}]}
        _, res = self.call(self.w, "batch", batch, u32(*toks))
        r = res["result"]["responses"]
        self.assertEqual(r[0]["result"]["hidden"], by_ids["result"]["hidden"])
        self.assertEqual(r[1]["result"]["hidden"], by_ids["result"]["hidden"])
        self.assertEqual(r[2]["error"]["code"], "unknown_handle")
        self.assertEqual(r[3]["error"]["code"], "bad_request")

    def test_a_step_from_the_attachment(self):
        comps = self.call(self.json, "generate", {"checkpoint": self.base, "prompts": PROMPTS[:1], "n": 2, "sampling": SAMPLING})[1]["result"]["completions"][0]
        att, sent = b"", []
        for c in comps:  # the traces as relix sends them: f64 in the attachment
            trace = struct.pack(f"<{len(c['trace'])}d", *c["trace"])
            sent.append(dict(c, trace={"bin": [len(att), len(c["trace"])]}))
            att += trace
        step = {"checkpoint": self.base, "groups": [{"prompt": PROMPTS[0], "completions": comps, "rewards": [1, 0]}], "hyper": HYPER}
        _, want = self.call(self.json, "step", step)
        _, got = self.call(self.w, "step", dict(step, groups=[dict(step["groups"][0], completions=sent)]), att)
        self.assertEqual(got["result"], want["result"])

    def test_bad_frames(self):
        _, resp = self.call(self.w, "hidden", {"checkpoint": self.base, "tokens": {"bin": [4, 3]}, "positions": [0]}, u32(1, 2))
        self.assertEqual(resp["error"]["code"], "bad_request")
        self.assertIn("outside the 8-byte attachment", resp["error"]["message"])
        with contextlib.redirect_stderr(io.StringIO()) as log:
            status = worker.serve(self.w, io.BytesIO(b'{"id":3,"method":"hidden","params":{},"bin":10}\n1234'), io.BytesIO())
        self.assertEqual(status, 2, "an attachment cut short: relix went away mid-message")
        self.assertIn("ends after 4 of its 10 bytes", log.getvalue())


class TensorsTest(unittest.TestCase):
    TENSORS = {"b": torch.arange(6, dtype=torch.float32).reshape(2, 3), "a": torch.tensor([1.5, -2.25], dtype=torch.bfloat16),
               "e": torch.zeros(0, dtype=torch.int64)}

    def assertSameTensors(self, got, want):
        self.assertEqual(set(got), set(want))
        for k, t in want.items():
            self.assertEqual(got[k].dtype, t.dtype, k)
            self.assertTrue(torch.equal(got[k], t), k)

    def test_round_trip_and_layout(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.safetensors")
            tensors.Fallback().save(path, self.TENSORS, {"t": 3})
            with open(path, "rb") as f:
                data = f.read()
            (n,) = struct.unpack("<Q", data[:8])
            self.assertEqual(n % 8, 0)
            header = json.loads(data[8 : 8 + n])
            self.assertEqual(header["__metadata__"], {"t": "3"})
            self.assertEqual(header["a"], {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]})
            self.assertEqual(header["b"]["data_offsets"], [4, 28])
            back, meta = tensors.Fallback().load(path)
            self.assertEqual(meta, {"t": "3"})
            self.assertSameTensors(back, self.TENSORS)

    def test_reads_what_the_package_writes(self):
        # The safetensors package's own serialization tests
        # (bindings/python/tests/test_simple.py): a 2×2 int32 tensor, then
        # one with metadata, whose header the package pads with spaces.
        plain = b'<\x00\x00\x00\x00\x00\x00\x00{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}' + struct.pack("<4i", 0, 0, 0, 1)
        back, meta = tensors.parse(plain)
        self.assertEqual(meta, {})
        self.assertTrue(torch.equal(back["test"], torch.tensor([[0, 0], [0, 1]], dtype=torch.int32)))
        padded = (b'f\x00\x00\x00\x00\x00\x00\x00{"__metadata__":{"framework":"pt"},"test1":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}'
                  + b" " * 7 + bytes(16))
        back, meta = tensors.parse(padded)
        self.assertEqual(meta, {"framework": "pt"})
        self.assertTrue(torch.equal(back["test1"], torch.zeros(2, 2, dtype=torch.int32)))

    def test_the_package_is_used_where_it_imports(self):
        self.assertIsInstance(tensors.choose(import_module=missing), tensors.Fallback)
        fake = FakeSafetensors()
        chosen = tensors.choose(import_module=fake.import_module)
        self.assertIsInstance(chosen, tensors.Package)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "x.safetensors")
            chosen.save(path, self.TENSORS, {"t": 3})
            self.assertEqual(os.listdir(d), ["x.safetensors"], "written under another name, then renamed")
            self.assertEqual(fake.saved, [(path + f".tmp-{os.getpid()}", {"t": "3"})])
            back, meta = chosen.load(path)
            self.assertEqual(fake.opened, [(path, "pt", "cpu")])
            self.assertEqual(meta, {"t": "3"})
            self.assertSameTensors(back, self.TENSORS)
            self.assertSameTensors(tensors.Fallback().load(path)[0], self.TENSORS)

    @unittest.skipUnless(isinstance(tensors.IMPL, tensors.Package), "the safetensors package does not import here")
    def test_the_package_and_the_fallback_read_each_other(self):
        with tempfile.TemporaryDirectory() as d:
            ours, theirs = os.path.join(d, "ours.safetensors"), os.path.join(d, "theirs.safetensors")
            tensors.Fallback().save(ours, self.TENSORS, {"t": 3})
            tensors.IMPL.save(theirs, self.TENSORS, {"t": 3})
            for read in (tensors.IMPL.load(ours), tensors.Fallback().load(theirs)):
                self.assertEqual(read[1], {"t": "3"})
                self.assertSameTensors(read[0], self.TENSORS)


def missing(name):
    raise ImportError(f"No module named {name!r}")


class FakeSafetensors:
    """The safetensors package's surface the worker uses (safetensors.torch.
    save_file, safetensors.safe_open), over the fallback's format: the
    package's code path, run where the package is not installed."""

    def __init__(self):
        self.saved, self.opened = [], []

    def import_module(self, name):
        return argparse.Namespace(save_file=self.save_file) if name == "safetensors.torch" else argparse.Namespace(safe_open=self.safe_open)

    def save_file(self, ts, filename, metadata=None):
        self.saved.append((filename, metadata))
        tensors.Fallback().save(filename, ts, metadata)

    @contextlib.contextmanager
    def safe_open(self, filename, framework, device):
        self.opened.append((filename, framework, device))
        ts, meta = tensors.Fallback().load(filename)
        yield argparse.Namespace(keys=lambda: list(ts), get_tensor=ts.__getitem__, metadata=lambda: meta or None)


if __name__ == "__main__":
    unittest.main()
