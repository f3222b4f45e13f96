"""``chainrule.distributed`` (``torch.distributed`` on MPI): process groups and collectives.

Start K processes with an MPI launcher and join them::

    # mpiexec -n 2 python train.py
    import chainrule.distributed as dist
    dist.init_process_group("mpi")
    t = chainrule.ones(3) * dist.get_rank()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)      # in place, on every rank

The package knows tensors, not layers: ``chainrule.nn.parallel.DistributedDataParallel`` and
``chainrule.nn.SyncBatchNorm`` are built on it. mpi4py is imported only when MPI is first used.
"""

from . import launch, nn
from .collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .process_group import (
    GroupMember,
    ProcessGroup,
    ReduceOp,
    destroy_process_group,
    get_backend,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    new_group,
)

__all__ = [
    "init_process_group", "destroy_process_group", "is_available", "is_initialized", "is_mpi_available",
    "get_rank", "get_world_size", "get_backend", "get_process_group_ranks", "new_group", "group", "GroupMember",
    "ProcessGroup", "ReduceOp", "Work",
    "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter",
    "reduce_scatter_tensor", "gather", "scatter", "barrier", "launch", "nn",
]
