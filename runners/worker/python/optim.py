"""torch.optim.AdamW on float32 master weights, and its state as a
checkpoint holds it.

A bfloat16 weight cannot hold a 5e-6 step, so the optimizer updates float32
copies of the parameters and the model gets them back in its own dtype.
Between steps a checkpoint keeps this state on the CPU as a TrainState: the
master weights and the optimizer's per-parameter state (torch's exp_avg,
exp_avg_sq and step) by parameter name, which is what optimizer.safetensors
holds.
"""

import inspect
from dataclasses import dataclass, field

import torch

EPS = 1e-8
MOMENTS = ("exp_avg", "exp_avg_sq")  # torch.optim.AdamW's names for them


@dataclass
class TrainState:
    """What training from a checkpoint needs besides its weights, on the CPU."""

    step: int  # optimizer steps taken
    master: dict  # name -> float32 weights
    exp_avg: dict = field(default_factory=dict)  # name -> AdamW's first moment
    exp_avg_sq: dict = field(default_factory=dict)  # name -> its second moment

    @classmethod
    def fresh(cls, lm):
        """The state of a model never trained here: its weights, no moments."""
        return cls(0, {n: p.detach().to("cpu", torch.float32, copy=True) for n, p in lm.named_parameters()})


def fused(device):
    """The fused CUDA kernel (one launch for every parameter) where this
    torch has it; elsewhere torch's own default (one loop per tensor on the
    CPU, the arithmetic the unit tests pin)."""
    if device.type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters:
        return {"fused": True}
    return {}


class Optimizer:
    """One step's optimizer: the master weights on the device and
    torch.optim.AdamW over them, restored from a TrainState.

    With params (name -> float32 parameter: FSDP's shards, which already
    hold state's master weights) AdamW updates the parameters themselves
    and no copy is made."""

    def __init__(self, state, device, params=None):
        self.names = list(state.master)
        if params is None:
            self.master = {n: state.master[n].to(device, torch.float32, copy=True) for n in self.names}
        else:
            if list(params) != self.names or any(p.dtype != torch.float32 for p in params.values()):
                raise RuntimeError("AdamW in place needs float32 parameters named as the training state is")
            self.master = params
        self.adamw = torch.optim.AdamW(list(self.master.values()), lr=0.0, eps=EPS, **fused(device))
        if state.step > 0:
            sd = self.adamw.state_dict()
            sd["state"] = {i: {"step": torch.tensor(float(state.step)), **{k: getattr(state, k)[n] for k in MOMENTS}}
                           for i, n in enumerate(self.names)}
            self.adamw.load_state_dict(sd)

    def step(self, grads, h):
        """One AdamW update of the master weights with grads (name -> float32
        gradient, already clipped) and the request's hyper-parameters (its
        lr already scheduled)."""
        for g in self.adamw.param_groups:
            g.update(lr=h["lr"], betas=tuple(h["betas"]), weight_decay=h["weight_decay"])
        for n, p in self.master.items():
            p.grad = grads[n]
        self.adamw.step()
        for p in self.master.values():
            p.grad = None

    def groups(self):
        """AdamW's parameter groups without their parameters."""
        return [{k: v for k, v in g.items() if k != "params"} for g in self.adamw.state_dict()["param_groups"]]

    def state(self, step=None):
        """The state after the last step, copied to the CPU. A parameter
        with no elements on this rank (an FSDP shard can be empty) may have
        no state after a load; it gets empty moments at step (default: the
        others')."""
        sd = self.adamw.state_dict()
        by_name = {self.names[i]: s for i, s in sd["state"].items()}
        steps = {int(s["step"]) for s in by_name.values()}
        if step is not None or len(steps) == 1:
            at = step if step is not None else next(iter(steps))
            for n, p in self.master.items():
                if n not in by_name and p.numel() == 0:
                    by_name[n] = {"step": torch.tensor(float(at)), **{k: torch.zeros_like(p) for k in MOMENTS}}
                    steps.add(at)
        if len(steps) != 1 or len(by_name) != len(self.names):
            raise RuntimeError(f"AdamW holds state for {len(by_name)} of {len(self.names)} parameters at steps {sorted(steps)}")
        cpu = {k: {n: s[k].to("cpu", copy=True) for n, s in by_name.items()} for k in MOMENTS}
        return TrainState(steps.pop(), {n: p.detach().to("cpu", copy=True) for n, p in self.master.items()}, **cpu)
