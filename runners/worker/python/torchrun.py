#!/usr/bin/env python3
"""torchrun, for a torch whose own torchrun cannot start under this Python.

    python3 runners/worker/python/torchrun.py --nproc_per_node 2 ... worker.py --tiny

Debian's torch 1.13 under Python 3.11 fails before starting any process
(AttributeError: 'NoneType' object has no attribute 'get'): it parses
--redirects and --tee by iterating over an IntFlag, and Python 3.11 no
longer yields the flag's zero and composite members, so "0", the default,
parses to None. This fixes that parse and then runs torch's torchrun
(torch.distributed.run) unchanged; on a torch without the fault it changes
nothing, and plain torchrun does the same.
"""

import os
import sys


def fix_std_parse():
    from torch.distributed.elastic.multiprocessing import api

    if api.Std.from_str("0") is not None:
        return
    parse = api.Std.from_str.__func__

    def from_str(cls, vm):
        parsed = parse(cls, vm)
        if parsed is None:  # a single value: the regex has already checked it is 0 to 3
            return cls(int(vm))
        if isinstance(parsed, dict):
            return {rank: cls(int(v)) for rank, v in (m.split(":") for m in vm.split(","))}
        return parsed

    api.Std.from_str = classmethod(from_str)


def main():
    # The worker's modules live beside this file; torch's must not find them.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    fix_std_parse()
    from torch.distributed.run import main as torchrun

    sys.exit(torchrun())


if __name__ == "__main__":
    main()
