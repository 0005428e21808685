"""The sampling loop and the vLLM backend without a GPU: completions that
do not depend on the batch (tiny model and a stand-in with transformers'
causal-LM call convention), the bound on rows per forward, and vLLM's
version gate and weight updates against a stand-in vllm module.

    /usr/bin/python3 -m unittest discover -s runners/worker/python
"""

import os
import sys
import tempfile
import types
import unittest
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import generate  # noqa: E402
import model  # noqa: E402
import tensors  # noqa: E402
import vllm_weights  # noqa: E402

SAMPLING = {"temperature": 0.9, "top_p": 0.95, "max_tokens": 20, "seed": 5}
SHORT = {"id": "p-short", "text": "What is 2 + 3?"}
LONG = {"id": "p-long", "text": "What is the remainder when $1234567$ is divided by $9$? Think it through, then box the answer."}


def tiny():
    lm = model.TinyLM(model.TinyConfig(format_steps=0))  # random weights: long, varied completions
    return lm.eval(), model.ByteTokenizer()


class StandInCache:
    """What the loop needs of transformers' DynamicCache: the model fills
    it, batch_select_indices keeps (or repeats) rows in place."""

    def __init__(self):
        self.blocks = None

    def get_seq_length(self):
        return self.blocks[0]["k"].shape[2] if self.blocks and self.blocks[0] else 0

    def batch_select_indices(self, indices):
        self.blocks = [{"k": b["k"][indices], "v": b["v"][indices]} for b in self.blocks]


class StandInCausalLM(nn.Module):
    """The tiny transformer behind transformers' causal-LM call: input_ids,
    attention_mask over past and new tokens, position_ids, past_key_values
    (a Cache), use_cache, logits_to_keep -> .logits, .past_key_values. It
    records each call's rows; eos_bias raises the end token's logit, so
    that rows end early."""

    def __init__(self, lm, eos_bias=0.0):
        super().__init__()
        self.lm, self.rows, self.eos_bias = lm, [], eos_bias

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None, use_cache=False, logits_to_keep=0):
        cache = past_key_values if past_key_values is not None else StandInCache()
        if cache.blocks is None:
            cache.blocks = [{} for _ in self.lm.blocks]
        if position_ids is None:  # transformers' default: the cache position
            past = cache.get_seq_length()
            position_ids = torch.arange(past, past + input_ids.shape[1])[None].expand(input_ids.shape[0], -1)
        keys = None if attention_mask is None else attention_mask.bool()
        self.rows.append(input_ids.shape[0])
        logits = self.lm(input_ids, cache.blocks, keys=keys, positions=position_ids)
        logits[..., model.ByteTokenizer.eos_id] += self.eos_bias
        if logits_to_keep:
            logits = logits[:, -logits_to_keep:]
        return SimpleNamespace(logits=logits, past_key_values=cache if use_cache else None)


def strip(done):
    """Completions without their log-probabilities."""
    return [(toks, finish) for toks, finish, _ in done]


class LoopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lm, cls.tok = tiny()

    def calls(self):
        standin = StandInCausalLM(self.lm)
        return {"tiny": generate.TinyCall(self.lm), "hf": generate.HFCall(standin, StandInCache)}, standin

    def run_rows(self, call, prompts, rows, gen_batch=generate.GEN_BATCH, **sampling):
        s = dict(SAMPLING, **sampling)
        ids = [self.tok.prompt(p["text"]) for p in prompts]
        return generate.sample_loop(call, ids, rows, self.tok.eos, s["max_tokens"], s["temperature"], s["top_p"], gen_batch)

    def seeds(self, prompt, n):
        return [generate.completion_seed(SAMPLING["seed"], prompt["id"], j) for j in range(n)]

    def test_a_completion_does_not_depend_on_its_batch(self):
        calls, _ = self.calls()
        short = self.seeds(SHORT, 8)
        for name, call in calls.items():
            with self.subTest(call=name):
                alone = self.run_rows(call, [SHORT], [(0, short[3])])
                eight = self.run_rows(call, [SHORT], [(0, s) for s in short])
                # The short prompt is left-padded to the long one's length.
                mixed = self.run_rows(call, [LONG, SHORT], [(0, s) for s in self.seeds(LONG, 3)] + [(1, s) for s in short])
                self.assertEqual(strip(alone), strip(eight[3:4]))
                self.assertEqual(strip(eight), strip(mixed[3:]))
                self.assertEqual(strip(mixed[:3]), strip(self.run_rows(call, [LONG], [(0, s) for s in self.seeds(LONG, 3)])))
                for got, want in ((alone[0], eight[3]), (eight[5], mixed[8])):
                    # The same arithmetic in other matrix shapes: equal up to
                    # the order BLAS sums in (README, "Generation").
                    self.assertTrue(torch.allclose(torch.tensor(got[2]), torch.tensor(want[2]), rtol=0, atol=1e-5))
                self.assertGreater(len({tuple(t) for t, _, _ in eight}), 4, "eight seeds, eight completions")

    def test_the_hf_call_computes_what_the_tiny_model_does(self):
        calls, _ = self.calls()
        rows = [(0, s) for s in self.seeds(LONG, 2)] + [(1, s) for s in self.seeds(SHORT, 3)]
        tiny_done, hf_done = (self.run_rows(calls[k], [LONG, SHORT], rows) for k in ("tiny", "hf"))
        self.assertEqual(tiny_done, hf_done, "the same model behind either call: the same floats")

    @torch.no_grad()
    def test_a_padded_row_computes_what_it_would_alone(self):
        ids = [self.tok.prompt(LONG["text"]), self.tok.prompt(SHORT["text"])]
        call = generate.TinyCall(self.lm)
        both, mask, pos = generate.left_pad(ids, call.device)
        logits, past = call.forward(both, mask, pos, None)
        alone, mask1, pos1 = generate.left_pad(ids[1:], call.device)
        want, past1 = call.forward(alone, mask1, pos1, None)
        self.assertTrue(torch.allclose(logits[1], want[0], rtol=0, atol=1e-5))
        for t in (65, 66, 67):  # a few decoding steps on top of the padded cache
            mask = torch.cat([mask, mask.new_ones(2, 1)], 1)
            mask1 = torch.cat([mask1, mask1.new_ones(1, 1)], 1)
            logits, past = call.forward(torch.tensor([[t], [t]]), mask, mask.sum(-1, keepdim=True) - 1, past)
            want, past1 = call.forward(torch.tensor([[t]]), mask1, mask1.sum(-1, keepdim=True) - 1, past1)
            self.assertTrue(torch.allclose(logits[1], want[0], rtol=0, atol=1e-5))
            self.assertTrue(torch.isfinite(logits).all(), "padding never turns into NaN")

    def test_gen_batch_bounds_rows(self):
        _, standin = self.calls()
        call = generate.HFCall(standin, StandInCache)
        rows = [(0, s) for s in self.seeds(SHORT, 7)]
        full = self.run_rows(call, [SHORT], rows)
        standin.rows.clear()
        capped = self.run_rows(call, [SHORT], rows, gen_batch=3)
        self.assertEqual(strip(full), strip(capped))
        self.assertEqual(max(standin.rows), 3)
        self.assertEqual(standin.rows[0], 1, "a batch runs its one distinct prompt once")

    def test_rows_that_end_leave_the_batch(self):
        standin = StandInCausalLM(self.lm, eos_bias=3.0)
        call = generate.HFCall(standin, StandInCache)
        rows = [(0, s) for s in self.seeds(SHORT, 8)]
        together = self.run_rows(call, [SHORT], rows, max_tokens=40)
        self.assertGreater(sum(f == "stop" for _, f, _ in together), 4)
        self.assertLess(standin.rows[-1], standin.rows[1], "fewer rows at the end than at the start")
        alone = [self.run_rows(call, [SHORT], [r], max_tokens=40)[0] for r in rows]
        self.assertEqual(strip(together), strip(alone))

    def test_logits_to_keep_reaches_the_model(self):
        _, standin = self.calls()
        self.assertEqual(generate.HFCall(standin, StandInCache).last_only, {"logits_to_keep": 1})
        plain = SimpleNamespace(forward=lambda input_ids, attention_mask=None: None, parameters=self.lm.parameters)
        self.assertEqual(generate.HFCall(plain, StandInCache).last_only, {})

    def test_refusals_and_edges(self):
        call = generate.TinyCall(self.lm)
        with self.assertRaisesRegex(ValueError, "temperature"):
            self.run_rows(call, [SHORT], [(0, 1)], temperature=0)
        self.assertEqual(self.run_rows(call, [SHORT], [(0, 1)], max_tokens=0), [([], "length", [])])


# --- vLLM, against a stand-in module ------------------------------------------------


class FakeWorker(vllm_weights.WeightLoader):
    """vLLM's GPU worker as the extension sees it: model_runner.model."""

    def __init__(self):
        self.loaded = []
        self.model_runner = SimpleNamespace(model=SimpleNamespace(load_weights=lambda weights: self.loaded.append(dict(weights))))


def fake_vllm(version):
    m = types.ModuleType("vllm")
    m.__version__ = version

    class LLM:
        def __init__(self, **kwargs):
            self.kwargs, self.worker, self.calls, self.requests = kwargs, FakeWorker(), [], []

        def collective_rpc(self, method, args=()):
            self.calls.append((method, args, os.path.exists(args[0])))
            return [getattr(self.worker, method)(*args)]  # one GPU worker

        def reset_prefix_cache(self):
            self.calls.append(("reset_prefix_cache",))

        def generate(self, reqs, params, use_tqdm=True):
            self.requests.append((reqs, params))
            eos = sorted(model.ByteTokenizer().eos)[0]
            return [SimpleNamespace(outputs=[SimpleNamespace(token_ids=[65, 66] + ([eos] if p.seed % 2 else []))]) for p in params]

    m.LLM = LLM
    m.SamplingParams = lambda **kw: SimpleNamespace(**kw)
    return m


class VLLMTest(unittest.TestCase):
    def keep_pythonpath(self):
        """Restores PYTHONPATH, which the backend extends, after the test."""
        was = os.environ.get("PYTHONPATH")
        self.addCleanup(lambda: os.environ.pop("PYTHONPATH", None) if was is None else os.environ.__setitem__("PYTHONPATH", was))

    def test_the_version_gate(self):
        for ok in ("0.8.2", "0.9.2+cu128", "0.10.1.post1", "0.11.2"):
            generate.check_vllm_version(ok)
        for bad in ("0.8.1", "0.6.3.post1", "0.12.0", "1.0.0", "main", ""):
            with self.assertRaises(RuntimeError) as e:
                generate.check_vllm_version(bad)
            self.assertIn("supports vLLM 0.8.2 to 0.11.x", str(e.exception))
            self.assertIn("--backend hf", str(e.exception))

    def test_an_unsupported_vllm_is_refused_not_skipped(self):
        sys.modules["vllm"] = fake_vllm("0.6.3")
        self.addCleanup(sys.modules.pop, "vllm", None)
        with self.assertRaisesRegex(RuntimeError, "not supported"):
            generate.backend("auto", None, model.ByteTokenizer(), model_path="/models/m")

    def test_generation_seeds_and_weight_updates(self):
        sys.modules["vllm"] = fake_vllm("0.10.2")
        self.addCleanup(sys.modules.pop, "vllm", None)
        self.keep_pythonpath()
        tok = model.ByteTokenizer()
        gen = generate.backend("auto", None, tok, model_path="/models/m", dtype="bfloat16")
        llm = gen.llm
        self.assertEqual(llm.kwargs["worker_extension_cls"], "vllm_weights.WeightLoader")
        self.assertIn(os.path.dirname(os.path.abspath(generate.__file__)), os.environ["PYTHONPATH"].split(os.pathsep))

        out = gen.generate([SHORT, LONG], 2, SAMPLING)
        reqs, params = llm.requests[-1]
        self.assertEqual([p.seed for p in params], [generate.completion_seed(5, p["id"], j) for p in (SHORT, LONG) for j in range(2)])
        self.assertEqual(reqs[2], {"prompt_token_ids": tok.prompt(LONG["text"])})
        self.assertEqual([[f for _, f, _ in g] for g in out], [["stop" if p.seed % 2 else "length" for p in params[i:i + 2]] for i in (0, 2)])
        self.assertEqual(llm.calls, [], "no new weights, no update")

        state = {"model.embed_tokens.weight": torch.randn(4, 3).to(torch.bfloat16), "lm_head.weight": torch.randn(4, 3)}
        gen.load_weights({"stale": torch.zeros(1)})
        gen.load_weights(state)  # only the weights of the next generate travel
        self.assertEqual(llm.calls, [])
        gen.generate([SHORT], 1, SAMPLING)
        (method, (path,), existed), reset = llm.calls
        self.assertEqual((method, existed, reset), ("relix_load_weights", True, ("reset_prefix_cache",)))
        self.assertFalse(os.path.exists(os.path.dirname(path)), "the weights file is removed")
        [loaded] = llm.worker.loaded
        self.assertEqual(sorted(loaded), sorted(state))
        for name, t in state.items():
            self.assertTrue(torch.equal(loaded[name], t), name)
        gen.generate([SHORT], 1, SAMPLING)
        self.assertEqual(len(llm.calls), 2, "loaded once")

    def test_a_short_load_is_an_error(self):
        sys.modules["vllm"] = fake_vllm("0.9.0")
        self.addCleanup(sys.modules.pop, "vllm", None)
        self.keep_pythonpath()
        gen = generate.backend("vllm", None, model.ByteTokenizer(), model_path="/models/m")
        gen.llm.collective_rpc = lambda method, args=(): [1]
        gen.load_weights({"a": torch.zeros(1), "b": torch.zeros(1)})
        with self.assertRaisesRegex(RuntimeError, r"loaded \[1\] tensors of 2"):
            gen.generate([SHORT], 1, SAMPLING)
        self.assertIsNotNone(gen.pending, "the load is tried again at the next generate")

    def test_the_weights_file_is_safetensors(self):
        w = FakeWorker()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "w.safetensors")
            tensors.save(path, {"x": torch.arange(3.0)})
            self.assertEqual(w.relix_load_weights(path), 1)
        self.assertTrue(torch.equal(w.loaded[0]["x"], torch.arange(3.0)))


if __name__ == "__main__":
    unittest.main()
