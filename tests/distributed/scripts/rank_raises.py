"""Run under ``mpiexec -n K``: the last rank raises mid-loop while the others keep reducing.

The exception hook of ``init_process_group`` must print the failing rank's traceback and abort
the whole job (MPI_Abort), so ``mpiexec`` returns non-zero within seconds instead of hanging.
"""

import chainrule as cr
import chainrule.distributed as dist

dist.init_process_group("mpi")
rank, k = dist.get_rank(), dist.get_world_size()
for step in range(100000):
    if rank == k - 1 and step == 3:
        raise ValueError(f"boom at step {step} on the last rank")
    t = cr.ones(4)
    dist.all_reduce(t)
print("UNREACHABLE: the loop finished", flush=True)
