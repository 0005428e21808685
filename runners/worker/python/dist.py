"""The worker's processes: one, or the ranks torchrun starts.

    torchrun --nnodes 1 --nproc_per_node N --rdzv_backend c10d --rdzv_endpoint localhost:0 worker.py ...

Rank 0 speaks the protocol on stdin and stdout; it sends every request the
other ranks take part in (hello, step, load) to them, and they answer
nothing. A step's sequences are split between the ranks (share), each
computes the gradient of its own sequences and DistributedDataParallel adds
them up; every rank then takes the same AdamW step, so every rank holds the
same weights. Generation and hidden states run on rank 0 alone. With
--shard fsdp (Sharded, fsdp.py) each rank holds a shard of the weights and
the training state instead, and saves gather them.

Without torchrun (no WORLD_SIZE in the environment, or 1) the worker is one
process and nothing here talks to another.
"""

import contextlib
import ctypes
import datetime
import os
import signal
import sys

# The other ranks wait for rank 0's next request for as long as relix goes
# without one (an eval of a large model between two steps can take hours).
# A hang inside a step is relix's to notice (runner.timeouts.step), and
# then it kills the whole process group.
IDLE = datetime.timedelta(days=30)


class Group:
    """One process: rank 0 of 1."""

    rank, size, local_rank = 0, 1, 0
    sharded = False  # the model is one FSDP shard per rank (Sharded)

    def device(self, requested):
        import torch

        return torch.device(requested or ("cuda" if torch.cuda.is_available() else "cpu"))

    def wrap(self, lm):
        return lm

    def no_sync(self, trainer):
        return contextlib.nullcontext()

    def share(self, lengths):
        return list(range(len(lengths)))

    def idle(self, lengths, mine):
        """The backward passes of zeros a rank adds to its own: one when it
        has no sequence, so that it joins the ranks' sum of gradients."""
        return 0 if mine else 1

    def summed(self, grads):
        """The gradients (name -> float32) summed over the ranks, as the
        wrapped model left them: DDP already sums them (its comm hook)."""
        return grads

    def grad_norm(self, grads):
        """The global L2 norm of the gradients (name -> float32 tensor)."""
        import torch

        return float(torch.norm(torch.stack([g.float().norm() for g in grads.values()])))

    def gather(self, obj):
        return [obj]

    def send(self, msg):
        pass

    def receive(self):
        raise RuntimeError("rank 0 receives nothing")

    def close(self):
        pass


class Ranks(Group):
    """The ranks torchrun started: torch.distributed's default group (gloo)
    carries the requests and the metrics, Python objects on the CPU; the
    gradients travel in a group of their own (NCCL on GPUs)."""

    def __init__(self, env=os.environ):
        die_with_parent()  # first: torch takes a while to import
        import torch.distributed as dist

        self.dist = dist
        self.rank, self.size, self.local_rank = int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", 0))
        # Requests and metrics: gloo, whatever the device, and no timeout to
        # speak of. The gradients get a group of their own at hello, when
        # the device is known.
        dist.init_process_group("gloo", timeout=IDLE)

    def device(self, requested):
        """This rank's device: the spec's cuda means the rank's own GPU
        (cuda:LOCAL_RANK), whatever index it names."""
        import torch

        d = super().device(requested)
        if d.type != "cuda":
            return d
        torch.cuda.set_device(self.local_rank)
        return torch.device("cuda", self.local_rank)

    def wrap(self, lm):
        """lm under DistributedDataParallel, summing the ranks' gradients
        rather than averaging them: each rank's loss is already its share of
        the whole step's loss (every rank knows the whole request, hence the
        step's sequence and token counts), so the sum is the 1-process
        gradient. Buffers are not broadcast: every rank built the same model."""
        from torch.nn.parallel import DistributedDataParallel

        p = next(lm.parameters())
        cuda = p.device.type == "cuda"
        grads = self.dist.new_group(backend="nccl" if cuda else "gloo")
        ddp = DistributedDataParallel(lm, device_ids=[p.device.index] if cuda else None, process_group=grads, broadcast_buffers=False)
        ddp.register_comm_hook(grads, _sum_hook)
        return ddp

    def no_sync(self, trainer):
        return trainer.no_sync()

    def share(self, lengths):
        return share(lengths, self.size, self.rank)

    def gather(self, obj):
        out = [None] * self.size
        self.dist.all_gather_object(out, obj)
        return out

    def send(self, msg):
        self.dist.broadcast_object_list([msg], src=0)

    def receive(self):
        box = [None]
        self.dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self):
        """Rank 0: tells the others to stop, then leaves the group."""
        if self.rank == 0:
            self.send(None)
        self.dist.destroy_process_group()


class Sharded(Ranks):
    """The ranks under FSDP (--shard fsdp; fsdp.py): each holds 1/N of the
    parameters, gradients and AdamW's state. Every forward gathers each
    layer's weights from every rank, so every rank runs the same number of
    forward and backward passes (passes), a rank short of sequences running
    short passes of zeros; each backward reduce-scatters at once (no
    no_sync, which would hold unsharded gradients).

    Without torchrun (no RANK in the environment) it is a group of one over
    a store in memory: FSDP over a single process, nothing sharded."""

    sharded = True

    def __init__(self, env=os.environ):
        if "RANK" in env and "WORLD_SIZE" in env:
            super().__init__(env)
            return
        import torch.distributed as dist

        self.dist = dist
        self.rank, self.size, self.local_rank = 0, 1, 0
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1, timeout=IDLE)

    def grads_group(self, cuda):
        """The group the gradients and weights travel in (NCCL on GPUs),
        made at hello on every rank once the device is known."""
        self.grads = self.dist.new_group(backend="nccl" if cuda else "gloo")
        return self.grads

    def wrap(self, lm):
        raise RuntimeError("under FSDP the worker wraps the model through fsdp.Sharding")

    def no_sync(self, trainer):
        return contextlib.nullcontext()

    def passes(self, lengths, among=None):
        """How many sequences every rank runs forward (and back) for a step's
        sequences of these lengths, counting only the indices in among
        (default all): the most any rank's share holds."""
        return max(len([i for i in share(lengths, self.size, r) if among is None or i in among]) for r in range(self.size))

    def idle(self, lengths, mine):
        return self.passes(lengths) - len(mine)

    def summed(self, grads):
        """FSDP averages the ranks' gradients; each rank's loss is already
        its part of the whole, so their sum is N times that average (exact
        for N a power of two)."""
        if self.size > 1:
            for g in grads.values():
                g.mul_(self.size)
        return grads

    def grad_norm(self, grads):
        """Each rank holds a shard of every gradient: the norm of every
        rank's per-parameter norms, gathered in rank order (with one rank,
        one process's arithmetic)."""
        import torch

        mine = torch.stack([g.float().norm() for g in grads.values()])
        every = [torch.empty_like(mine) for _ in range(self.size)]
        self.dist.all_gather(every, mine, group=self.grads)
        return float(torch.norm(torch.cat(every)))


def _sum_hook(group, bucket):
    import torch.distributed

    fut = torch.distributed.all_reduce(bucket.buffer(), group=group, async_op=True).get_future()
    return fut.then(lambda f: f.value()[0])


def share(lengths, size, rank):
    """The indices of the sequences rank trains on, in request order: the
    longest first, each to the rank with the fewest tokens so far (the lower
    rank on a tie). It depends on the lengths alone, so every rank computes
    the same split, and ranks finish their share at about the same time."""
    load, owner = [0] * size, [0] * len(lengths)
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        r = min(range(size), key=lambda r: (load[r], r))
        owner[i] = r
        load[r] += lengths[i]
    return [i for i in range(len(lengths)) if owner[i] == rank]


def from_env(env=os.environ, shard="ddp"):
    """The group this process belongs to; with shard "fsdp", Sharded even
    in one process (FSDP needs a process group)."""
    if shard == "fsdp":
        return Sharded(env)
    if int(env.get("WORLD_SIZE", "1")) > 1:
        return Ranks(env)
    return Group()


def die_with_parent():
    """On Linux, a rank is killed when torchrun dies: relix kills torchrun
    when relix itself dies, and a rank left behind would keep its GPU's
    memory while it waits for a request that never comes."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the signal was set
        os._exit(1)
