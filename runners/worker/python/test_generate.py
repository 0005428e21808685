"""The sampling loop without a GPU: completions that do not depend on the
batch (tiny model and a stand-in with transformers' causal-LM call
convention), and the bound on rows per forward.

    /usr/bin/python3 -m unittest discover -s runners/worker/python
"""

import os
import sys
import unittest
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import generate  # noqa: E402
import model  # noqa: E402

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


if __name__ == "__main__":
    unittest.main()
