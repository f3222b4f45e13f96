"""Run under ``mpiexec -n K``: the last rank returns an error status (no exception) while the others wait.

``chainrule.cli.distributed.setup`` installs an exit hook: a rank that leaves before the command
finished aborts the job, so the ranks waiting in a collective do not hang.
"""

import sys

import chainrule.distributed as dist
from chainrule.cli import distributed as D

ctx = D.setup(force=True)
if ctx.rank == ctx.world_size - 1:
    print("leaving early", file=sys.stderr, flush=True)
    sys.exit(2)
dist.barrier()  # never completes: the last rank is gone
print("UNREACHABLE: the barrier completed", flush=True)
