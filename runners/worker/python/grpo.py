"""GRPO's loss and optimizer step on token log-probabilities, as
runners/README.md defines them for every runner:

    A_j  = (r_j - mean) / std  (advantage "std", population std) or r_j - mean ("mean");
           a group with std < std_epsilon is skipped: it adds nothing, not even to a denominator
    rho  = pi(t) / pi_behaviour(t)                 per token t of sequence j
    k3   = r - log r - 1,  r = pi_ref(t) / pi(t)   (k3 estimator of KL(pi || ref))
    l_jt = -min(rho A_j, clip(rho, 1 - clip_low, 1 + clip_high) A_j) + kl_beta k3
    L    = sum_j w_j mean_t l_jt,  w_j = 1/S ("seq-mean-token-mean") or T_j / sum T ("token-mean")

then gradient-norm clipping and one torch.optim.AdamW update (optim.py) at
the request's already-scheduled learning rate, once per epoch. The update
goes to float32 master weights, then into the model in its own dtype: a
bfloat16 weight cannot hold a 5e-6 step.
"""

import contextlib
import math
from dataclasses import dataclass
from typing import Optional

import torch

import dist
from model import token_logprobs

MAX_LOG_RATIO = 50.0  # |log rho|, |log r| are clamped before exp, as in the sim


def advantages(rewards, mode, eps):
    """Group-relative advantages, or None for a group without signal."""
    if not rewards:
        return None
    mean = sum(rewards) / len(rewards)
    std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards))
    if std < eps or std == 0:
        return None
    return [(r - mean) / std if mode == "std" else r - mean for r in rewards]


@dataclass
class Sample:
    """One completion that carries signal in this step."""

    prompt: list
    completion: list
    temperature: float
    adv: float
    weight: float = 0.0  # w_j
    lp_old: Optional[torch.Tensor] = None  # behaviour log-probs per token
    lp_ref: Optional[torch.Tensor] = None  # reference log-probs per token (KL on)


def sequence_loss(lp, s, h):
    """w_j · mean_t l_jt for one sequence, its clipped-token count and its
    mean k3."""
    log_ratio = (lp - s.lp_old).clamp(-MAX_LOG_RATIO, MAX_LOG_RATIO)
    rho = log_ratio.exp()
    surrogate = torch.minimum(rho * s.adv, rho.clamp(1 - h["clip_low"], 1 + h["clip_high"]) * s.adv)
    per_token = -surrogate
    clipped = 0
    if s.adv > 0:
        clipped = int((rho > 1 + h["clip_high"]).sum())
    elif s.adv < 0:
        clipped = int((rho < 1 - h["clip_low"]).sum())
    kl = 0.0
    if s.lp_ref is not None:
        log_r = (s.lp_ref - lp).clamp(-MAX_LOG_RATIO, MAX_LOG_RATIO)
        k3 = log_r.exp() - log_r - 1
        per_token = per_token + h["kl_beta"] * k3
        kl = float(k3.mean())
    return s.weight * per_token.mean(), clipped, kl


def set_weights(samples, loss_agg):
    tokens = sum(len(s.completion) for s in samples)
    for s in samples:
        s.weight = len(s.completion) / tokens if loss_agg == "token-mean" else 1 / len(samples)


def train_step(lm, samples, h, opt, group=None, trainer=None, params=None):
    """Runs h["epochs"] optimizer steps of the loss on samples (lp_old and
    lp_ref already set for this rank's share) with opt (an optim.Optimizer
    over lm's master weights), and copies the new weights into lm. Returns
    the metrics: loss, gradient norm (before clipping), KL and entropy from
    the first epoch, the clipped share of tokens over all epochs.

    Under torchrun every rank gets every sample and trains on its share
    (group.share); trainer, lm under DistributedDataParallel, adds the
    ranks' gradients. The metrics are summed per sequence in request order
    on every rank, as one process sums them, so they do not depend on the
    split.

    Under FSDP (group.sharded) lm and trainer are the wrapped model, params
    names its shards, and opt updates them in place; every rank runs as many
    backward passes as the rank with the most sequences (group.idle)."""
    group = group or dist.Group()
    trainer = trainer or lm
    set_weights(samples, h["loss_agg"])
    lengths = [len(s.prompt) + len(s.completion) for s in samples]
    mine = group.share(lengths)
    params = params if params is not None else dict(lm.named_parameters())
    m = {}
    clipped = units = 0
    for epoch in range(max(h["epochs"], 1)):
        lm.zero_grad(set_to_none=True)
        rows = {}
        for k, i in enumerate(mine):
            # One backward per sequence keeps one sequence's activations
            # alive; the ranks add their gradients up at the last one.
            with group.no_sync(trainer) if k < len(mine) - 1 else contextlib.nullcontext():
                rows[i] = sequence_backward(trainer, samples[i], h)
        for _ in range(group.idle(lengths, mine)):
            idle_backward(trainer, samples[0], short=group.sharded)
        per_seq = [None] * len(samples)
        for part in group.gather(rows):
            for i, row in part.items():
                per_seq[i] = row
        loss = kl = entropy = 0.0
        for l, c, k, ent, n in per_seq:
            loss += l
            clipped += c
            units += n
            kl += k / len(samples)
            entropy += ent / len(samples)
        grads = group.summed({n: (p.grad.float() if p.grad is not None else torch.zeros_like(opt.master[n])) for n, p in params.items()})
        norm = group.grad_norm(grads)
        if h["grad_clip"] > 0:  # torch.nn.utils.clip_grad_norm_'s rule
            coef = h["grad_clip"] / (norm + 1e-6)
            if coef < 1:
                for g in grads.values():
                    g.mul_(coef)
        if epoch == 0:
            m.update(loss=loss, grad_norm=norm, kl=kl, entropy=entropy)
        opt.step(grads, h)
        with torch.no_grad():
            for n, p in params.items():
                if opt.master[n] is not p:  # FSDP: AdamW updated the parameter itself
                    p.copy_(opt.master[n])
    lm.zero_grad(set_to_none=True)
    m["clip_frac"] = clipped / units if units else 0.0
    return m


def sequence_backward(trainer, s, h):
    """The backward of one sequence's share of the loss; returns its
    (loss, clipped tokens, mean k3, mean entropy, tokens)."""
    lp, ent = token_logprobs(trainer, s.prompt, s.completion, s.temperature, with_entropy=True)
    l, c, k = sequence_loss(lp, s, h)
    l.backward()
    return float(l), c, k, float(ent.mean()), len(s.completion)


def idle_backward(trainer, s, short=False):
    """A rank with no sequence of its own (fewer sequences than ranks) still
    joins the ranks' sum of gradients, with zeros. Under FSDP (short) a
    rank with fewer sequences than another joins each of that rank's extra
    passes with the first token of a prompt and of a completion."""
    if short:
        s = Sample(s.prompt[:1], s.completion[:1], s.temperature, 0.0)
    lp = token_logprobs(trainer, s.prompt, s.completion, s.temperature)
    (lp.sum() * 0.0).backward()
