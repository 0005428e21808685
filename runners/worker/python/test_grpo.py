"""The GRPO loss on hand-made cases: its gradient against the formula in
runners/README.md and against finite differences, the skipped group, the
clip, the optimizer's state carried across steps, and the split of a
step's sequences between ranks.

    /usr/bin/python3 -m unittest discover -s runners/worker/python
"""

import inspect
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import dist  # noqa: E402
import grpo  # noqa: E402
import optim  # noqa: E402

H = {"clip_low": 0.2, "clip_high": 0.2, "kl_beta": 0.04}


def sample(lp_old, lp_ref, adv, weight):
    s = grpo.Sample(prompt=[], completion=[0] * len(lp_old), temperature=1.0, adv=adv, weight=weight)
    s.lp_old = torch.tensor(lp_old, dtype=torch.float64)
    s.lp_ref = None if lp_ref is None else torch.tensor(lp_ref, dtype=torch.float64)
    return s


class AdvantagesTest(unittest.TestCase):
    def test_std_and_mean(self):
        a = grpo.advantages([1, 0, 1, 0], "std", 1e-8)
        self.assertEqual(a, [1.0, -1.0, 1.0, -1.0])  # mean 0.5, population std 0.5
        self.assertEqual(grpo.advantages([1, 0, 0, 0], "mean", 1e-8), [0.75, -0.25, -0.25, -0.25])

    def test_a_group_without_variance_is_skipped(self):
        self.assertIsNone(grpo.advantages([1, 1, 1, 1], "std", 1e-8))
        self.assertIsNone(grpo.advantages([0, 0], "mean", 1e-8))
        self.assertIsNone(grpo.advantages([], "std", 1e-8))
        self.assertIsNone(grpo.advantages([0.5, 0.5 + 1e-9], "std", 1e-8))


class LossGradientTest(unittest.TestCase):
    """The log-probabilities are the parameters themselves (lp_t = θ_t), so
    ∂L/∂θ_t is the coefficient the README writes in front of ∇ log π:

        w_j / T_j · ( −[not clipped] ρ_t A_j + β (1 − r_t) ),  r_t = π_ref/π = exp(lp_ref_t − θ_t)
    """

    def case(self):
        # Token 1 has ρ = e^0.3 > 1.2 with A > 0: clipped, no surrogate gradient.
        lp_old = [-1.0, -2.0, -0.5]
        theta = [-0.9, -1.7, -0.5]
        lp_ref = [-1.2, -1.5, -0.4]
        return lp_old, theta, lp_ref, 1.5, 0.5

    def test_gradient_matches_the_formula(self):
        lp_old, theta, lp_ref, adv, w = self.case()
        s = sample(lp_old, lp_ref, adv, w)
        th = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
        loss, clipped, kl = grpo.sequence_loss(th, s, H)
        loss.backward()
        want_loss, want_kl = 0.0, 0.0
        for t in range(3):
            rho = math.exp(theta[t] - lp_old[t])
            r = math.exp(lp_ref[t] - theta[t])
            k3 = r - math.log(r) - 1
            is_clipped = rho > 1 + H["clip_high"]
            surrogate = (1 + H["clip_high"]) * adv if is_clipped else rho * adv
            want_loss += w / 3 * (-surrogate + H["kl_beta"] * k3)
            want_kl += k3 / 3
            coef = (0 if is_clipped else -rho * adv) + H["kl_beta"] * (1 - r)
            self.assertAlmostEqual(th.grad[t].item(), w / 3 * coef, places=12, msg=f"token {t}")
        self.assertAlmostEqual(loss.item(), want_loss, places=12)
        self.assertAlmostEqual(kl, want_kl, places=12)
        self.assertEqual(clipped, 1)

    def test_gradient_matches_finite_differences(self):
        lp_old, theta, lp_ref, _, w = self.case()
        for adv in (1.5, -0.7):
            s = sample(lp_old, lp_ref, adv, w)
            th = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
            grpo.sequence_loss(th, s, H)[0].backward()
            for t in range(3):
                e = torch.zeros(3, dtype=torch.float64)
                e[t] = 1e-6
                up = grpo.sequence_loss(torch.tensor(theta, dtype=torch.float64) + e, s, H)[0].item()
                down = grpo.sequence_loss(torch.tensor(theta, dtype=torch.float64) - e, s, H)[0].item()
                self.assertAlmostEqual(th.grad[t].item(), (up - down) / 2e-6, places=6, msg=f"adv {adv} token {t}")

    def test_negative_advantage_clips_below(self):
        s = sample([-1.0, -1.0], None, -1.0, 1.0)
        th = torch.tensor([-1.5, -1.0], dtype=torch.float64, requires_grad=True)  # ρ = e^-0.5 < 0.8, then 1
        loss, clipped, kl = grpo.sequence_loss(th, s, H)
        loss.backward()
        self.assertEqual(clipped, 1)
        self.assertEqual(kl, 0.0)
        self.assertEqual(th.grad[0].item(), 0.0)  # clipped: the surrogate is flat
        self.assertAlmostEqual(th.grad[1].item(), 0.5 * 1.0, places=12)  # −ρA/T = 1/2

    def test_aggregation_weights(self):
        a = grpo.Sample([], [0] * 2, 1.0, 1.0)
        b = grpo.Sample([], [0] * 6, 1.0, 1.0)
        grpo.set_weights([a, b], "seq-mean-token-mean")
        self.assertEqual((a.weight, b.weight), (0.5, 0.5))
        grpo.set_weights([a, b], "token-mean")
        self.assertEqual((a.weight, b.weight), (0.25, 0.75))


class OptimizerTest(unittest.TestCase):
    """optim.Optimizer is torch.optim.AdamW on master weights, rebuilt from a
    TrainState before every step as the worker does: the same numbers as one
    torch.optim.AdamW kept alive across the steps, with each step's own lr."""

    def test_a_restored_optimizer_continues_exactly(self):
        torch.manual_seed(0)
        p = torch.randn(5, 3)
        theirs = torch.nn.Parameter(p.clone())
        ref = torch.optim.AdamW([theirs], lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
        state = optim.TrainState(0, {"w": p.clone()})
        for step, lr in enumerate([1e-2, 5e-3, 5e-3, 1e-3]):
            g = torch.randn(5, 3)
            for group in ref.param_groups:
                group["lr"] = lr
            theirs.grad = g.clone()
            ref.step()
            opt = optim.Optimizer(state, torch.device("cpu"))
            opt.step({"w": g.clone()}, {"lr": lr, "betas": [0.9, 0.999], "weight_decay": 0.01})
            state = opt.state()
            self.assertTrue(torch.equal(state.master["w"], theirs.detach()), f"step {step}")
        self.assertEqual(state.step, 4)
        self.assertTrue(torch.equal(state.exp_avg["w"], ref.state[theirs]["exp_avg"]))
        self.assertTrue(torch.equal(state.exp_avg_sq["w"], ref.state[theirs]["exp_avg_sq"]))

    def test_first_step_follows_the_formula(self):
        # Bias-corrected moments at t = 1 are g and g², so the step is
        # θ(1 − lr·wd) − lr·g / (|g| + eps).
        p, g = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64), torch.tensor([1e-3, -2.0, 0.0], dtype=torch.float64)
        opt = optim.Optimizer(optim.TrainState(0, {"w": p.clone()}), torch.device("cpu"))
        opt.step({"w": g.float()}, {"lr": 0.1, "betas": [0.9, 0.999], "weight_decay": 0.01})
        want = p * (1 - 0.1 * 0.01) - 0.1 * g / (g.abs() + optim.EPS)
        self.assertTrue(torch.allclose(opt.master["w"].double(), want, rtol=0, atol=1e-6), (opt.master["w"], want))

    def test_the_fused_kernel_is_asked_for_on_cuda_only(self):
        self.assertEqual(optim.fused(torch.device("cpu")), {})
        has_fused = "fused" in inspect.signature(torch.optim.AdamW).parameters
        self.assertEqual(optim.fused(torch.device("cuda")), {"fused": True} if has_fused else {})


class ShareTest(unittest.TestCase):
    def test_the_split_is_by_tokens_and_keeps_request_order(self):
        lengths = [10, 300, 20, 280, 30, 5]
        shares = [dist.share(lengths, 2, r) for r in range(2)]
        self.assertEqual(shares, [[1, 2, 5], [0, 3, 4]])  # 325 and 320 tokens
        self.assertEqual(sorted(shares[0] + shares[1]), list(range(6)), "every sequence exactly once")
        self.assertEqual(dist.share(lengths, 1, 0), list(range(6)))
        self.assertEqual([dist.share([7], 2, r) for r in range(2)], [[0], []], "a rank may get none")


if __name__ == "__main__":
    unittest.main()
