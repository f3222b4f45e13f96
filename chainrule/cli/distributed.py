"""Data-parallel ``chainrule train`` under an MPI launcher (``mpiexec -n K python -m chainrule train ...``).

A small API for the training command; nothing here parses arguments or writes files:

``setup() -> DistContext``
    Detects the launcher (``PMI_SIZE``/``OMPI_COMM_WORLD_SIZE`` > 1), joins the process group and,
    on ranks other than 0, sends stdout to ``/dev/null`` (only rank 0 prints). Without a launcher
    it returns a context of one rank and changes nothing.
``ctx.is_main()``
    True on rank 0: the only rank that prints, writes metrics, plots and checkpoints.
``shard_loader(ctx, loader)``
    The same global batches on every rank (same sampler, same generator), each rank taking its
    contiguous share of every batch: ``--batch-size`` stays the global batch, and a checkpoint of
    K ranks resumes on any K' (the shuffle generator is the same on all ranks).
``wrap_model(ctx, model, loader, compile=None)``
    The module to train: BatchNorm layers become ``SyncBatchNorm`` (statistics over the global
    batch), and ``DistributedDataParallel`` averages the gradients. Each rank's gradient is
    weighted by its share of the global batch (n_r K / N), so an uneven last batch is exact too.
    ``compile`` (``train --compile``) is applied to the converted model inside DDP, so DDP's own
    per-step bookkeeping and the share weighting run as Python on every call.
    Checkpoints, evaluation and plots keep using the bare ``model`` (no ``module.`` keys).
``combine_epoch(ctx, result)``
    A training epoch's loss/accuracy averaged over all samples of all ranks, images summed.
``evaluate_sharded(ctx, evaluate, model, dataset, batch_size)``
    Each rank evaluates a contiguous slice; loss and accuracy are all-reduced, predictions
    gathered in dataset order.
``threads_per_rank(ctx, requested)``
    The thread count for ``--threads``: the requested one, else (under a launcher, without
    ``OMP_NUM_THREADS``) the cores divided among the ranks on this machine.
``run_on_main(ctx, fn)``
    ``fn()`` on rank 0 alone once every rank got there (checking and creating ``--out``); when
    it fails, every rank leaves with its exit status.
``guard(ctx)``
    A context manager: an exception on one rank (a full disk on rank 0, a NaN on rank 1) is
    printed with the rank and aborts the whole job instead of leaving the others waiting. A rank
    that exits any other way before the command finished (an error outside ``guard``) aborts the
    job too, from an exit hook installed by ``setup``.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..distributed.launch import launched_by_mpi
from ..nn import Module
from ..utils.data import BatchSampler, DataLoader, Sampler
from ._common import CLIError


@dataclass
class DistContext:
    """Where this process stands in the job: rank, world size, and the process group when K > 1."""

    rank: int = 0
    world_size: int = 1
    local_size: int = 1  # ranks on this machine
    done: bool = False  # set when this rank leaves the command in agreement with the others

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def is_main(self) -> bool:
        return self.rank == 0


def setup(force: bool | None = None) -> DistContext:
    """Join the MPI job when started by a launcher (``force`` overrides the detection)."""
    wanted = launched_by_mpi() if force is None else force
    if not wanted:
        return DistContext()
    from .. import distributed as dist  # noqa: PLC0415  (imports mpi4py only under a launcher)
    from ..distributed import _mpi  # noqa: PLC0415

    if not dist.is_initialized():
        dist.init_process_group("mpi")
    world = dist.GroupMember.WORLD
    assert world is not None  # the process group was initialised just above
    comm = world.comm
    local = comm.Split_type(_mpi.mpi().COMM_TYPE_SHARED)
    ctx = DistContext(dist.get_rank(), dist.get_world_size(), local.Get_size())
    local.Free()
    if ctx.active and not ctx.is_main():
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (for the life of the process)
    if ctx.active:
        atexit.register(_abort_unless_done, ctx)
    return ctx


def _abort_unless_done(ctx: DistContext) -> None:
    """At exit: a rank leaving without the others (an error only it saw) takes the job down, never a hang."""
    if not ctx.done:
        sys.stderr.write(f"[rank {ctx.rank}] chainrule: this rank stopped before the others; aborting all "
                         f"{ctx.world_size} ranks\n")
        _abort(1)


def _abort(code: int) -> None:
    """Take the whole job down after this rank's message (already written to stderr)."""
    sys.stderr.flush()
    # mpiexec forwards the ranks' output through pipes; an abort right after the write could take
    # the job down before the message was passed on (seen once in about 20 runs of the test)
    time.sleep(0.2)
    from ..distributed import _mpi  # noqa: PLC0415

    _mpi.mpi().COMM_WORLD.Abort(code)


def run_on_main(ctx: DistContext, fn: Callable[[], Any]) -> Any:
    """``fn()`` on rank 0 only, after every rank got here (e.g. creating the output folder).

    When it raises, rank 0 re-raises and the other ranks leave with the same exit status
    (2 for a CLIError, else 1) without a message of their own.
    """
    if not ctx.active:
        return fn()
    from .. import distributed as dist  # noqa: PLC0415
    from ..tensor import Tensor  # noqa: PLC0415

    dist.barrier()
    status = Tensor._make(np.zeros(1, dtype=np.int64))
    result, error = None, None
    if ctx.is_main():
        try:
            result = fn()
        except BaseException as e:  # noqa: BLE001  (re-raised below, after telling the others)
            error = e
            status._data[0] = 2 if isinstance(e, CLIError) else 1
    dist.broadcast(status, src=0)
    if status._data[0]:
        ctx.done = True  # every rank leaves together: nobody is left waiting
        if error is not None:
            raise error
        raise SystemExit(int(status._data[0]))
    return result


def threads_per_rank(ctx: DistContext, requested: int | None) -> int | None:
    """``requested``; else, under a launcher and without OMP_NUM_THREADS, the cores shared by the local ranks."""
    if requested is not None or not ctx.active or "OMP_NUM_THREADS" in os.environ:
        return requested
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, ctx.local_size))


class _ShardedBatches(Sampler):
    """Rank r's contiguous share of every batch of ``batches`` (sizes differ by at most one).

    A batch smaller than the world leaves some ranks without a sample: they take one sample of the
    batch with weight 0 (``share`` below), so every rank still runs forward and backward.
    """

    def __init__(self, batches: Any, rank: int, world_size: int) -> None:
        self.batches, self.rank, self.world_size = batches, rank, world_size
        self.share = 1.0  # n_r * K / N of the batch last yielded

    def __iter__(self) -> Iterator[list[int]]:
        k, r = self.world_size, self.rank
        for batch in self.batches:
            batch = list(batch)
            n = len(batch)
            lo, hi = n * r // k, n * (r + 1) // k
            if hi > lo:
                self.share = (hi - lo) * k / n
                yield batch[lo:hi]
            else:
                self.share = 0.0
                yield [batch[r % n]]

    def __len__(self) -> int:
        return len(self.batches)


def shard_loader(ctx: DistContext, loader: DataLoader) -> DataLoader:
    """This rank's share of each global batch of ``loader`` (a ``batch_size=None`` loader over a BatchSampler)."""
    if not ctx.active:
        return loader
    if loader.batch_size is not None:
        raise ValueError("shard_loader expects a DataLoader with batch_size=None whose sampler yields batches")
    return DataLoader(loader.dataset, batch_size=None, sampler=_ShardedBatches(loader.sampler, ctx.rank,
                                                                                 ctx.world_size))


def wrap_model(ctx: DistContext, model, loader: DataLoader | None = None, sync_batchnorm: bool = True,
               compile: Callable[[Module], Module] | None = None):  # noqa: A002  (chainrule.compile's name)
    """The module to call in training: ``model`` itself on one rank, else DDP over (SyncBatchNorm-converted)
    ``model``; ``compile(model)`` in its place when given (after the conversion: the compiled module
    guards on the flags of the modules it sees)."""
    if not ctx.active:
        return model if compile is None else compile(model)
    from ..nn import SyncBatchNorm  # noqa: PLC0415  (used only under a launcher)
    from ..nn.parallel import DistributedDataParallel  # noqa: PLC0415

    if sync_batchnorm:
        converted = SyncBatchNorm.convert_sync_batchnorm(model)
        if converted is not model:
            raise ValueError("wrap_model: a bare BatchNorm model cannot be converted in place; wrap it in a container")
    trained = model if compile is None else compile(model)
    sampler = getattr(loader, "sampler", None)
    inner = _ShareWeighted(trained, sampler) if isinstance(sampler, _ShardedBatches) else trained
    ddp = DistributedDataParallel(inner)
    for name in ("agc_parameters", "agc_clipping"):  # what the training loop asks the model (AGC)
        if hasattr(model, name):
            object.__setattr__(ddp, name, getattr(model, name))
    return ddp


class _ShareWeighted(Module):
    """Scales the gradient of the output by this rank's share n_r K / N of the global batch.

    DDP averages the ranks' gradients: (1/K) sum_r (n_r K / N) grad(mean loss of r) = grad(mean loss of all N).
    """

    def __init__(self, model: Module, sampler: _ShardedBatches) -> None:
        super().__init__()
        self.model = model
        self._sampler = sampler

    def forward(self, x):
        out = self.model(x)
        share = self._sampler.share
        if share != 1.0 and out.requires_grad:
            out.register_hook(lambda g: g * share)
        return out


def _sum(ctx: DistContext, values: list[float]) -> np.ndarray:
    from .. import distributed as dist  # noqa: PLC0415
    from ..tensor import Tensor  # noqa: PLC0415

    t = Tensor._make(np.asarray(values, dtype=np.float64))
    dist.all_reduce(t)
    return t._data


def all_reduce_metrics(ctx: DistContext, sums: dict[str, float]) -> dict[str, float]:
    """Sum each value over the ranks (pass sums, e.g. loss * n, correct, n; divide afterwards)."""
    if not ctx.active:
        return dict(sums)
    keys = list(sums)
    total = _sum(ctx, [float(sums[k]) for k in keys])
    return {k: float(v) for k, v in zip(keys, total)}


def combine_epoch(ctx: DistContext, result):
    """A training epoch's result over all ranks: sample-weighted loss and accuracy, images summed, slowest time."""
    if not ctx.active:
        return result
    n = result.images
    loss_sum = result.loss * n if n else 0.0
    correct = result.accuracy * n if n else 0.0
    s = all_reduce_metrics(ctx, {"loss": loss_sum, "correct": correct, "n": n})
    seconds = _max(ctx, result.seconds)
    total = s["n"]
    return dataclasses.replace(result, loss=s["loss"] / total if total else float("nan"),
                               accuracy=round(s["correct"]) / total if total else float("nan"),
                               images=int(round(total)), seconds=seconds)


def _max(ctx: DistContext, value: float) -> float:
    from .. import distributed as dist  # noqa: PLC0415
    from ..tensor import Tensor  # noqa: PLC0415

    t = Tensor._make(np.asarray([value], dtype=np.float64))
    dist.all_reduce(t, dist.ReduceOp.MAX)
    return float(t._data[0])


def _gather_ints(ctx: DistContext, values: np.ndarray) -> np.ndarray:
    """Concatenate every rank's int64 array in rank order (lengths may differ)."""
    from .. import distributed as dist  # noqa: PLC0415
    from ..distributed import _mpi  # noqa: PLC0415

    world = dist.GroupMember.WORLD
    assert world is not None  # setup() initialised it before any gather
    comm = world.comm
    MPI = _mpi.mpi()
    values = np.ascontiguousarray(values, dtype=np.int64)
    counts = np.empty(ctx.world_size, dtype=np.int64)
    comm.Allgather([np.asarray([values.size], dtype=np.int64), MPI.INT64_T], [counts, MPI.INT64_T])
    out = np.empty(int(counts.sum()), dtype=np.int64)
    comm.Allgatherv([values, MPI.INT64_T], [out, (counts, None), MPI.INT64_T])
    return out


def evaluate_sharded(ctx: DistContext, evaluate: Callable, model, dataset, batch_size: int):
    """``evaluate(model, loader)`` over the whole ``dataset``, each rank on a contiguous slice."""
    n = len(dataset)
    lo, hi = n * ctx.rank // ctx.world_size, n * (ctx.rank + 1) // ctx.world_size
    loader = DataLoader(dataset, batch_size=None, sampler=BatchSampler(range(lo, hi), batch_size, drop_last=False))
    result = evaluate(model, loader)
    if not ctx.active:
        return result
    m = hi - lo
    s = all_reduce_metrics(ctx, {"loss": result.loss * m if m else 0.0,
                                 "correct": float((result.predictions == result.targets).sum()), "n": m})
    total = s["n"]
    return dataclasses.replace(result, loss=s["loss"] / total if total else float("nan"),
                               accuracy=round(s["correct"]) / total if total else float("nan"),
                               predictions=_gather_ints(ctx, result.predictions),
                               targets=_gather_ints(ctx, result.targets))


@contextlib.contextmanager
def guard(ctx: DistContext) -> Iterator[None]:
    """Abort the whole job (with this rank's message) when this rank leaves with an error."""
    try:
        yield
        ctx.done = True
    except BaseException as e:
        if not ctx.active or (isinstance(e, SystemExit) and not e.code):
            raise
        sys.stdout.flush()
        text = "".join(traceback.format_exception_only(type(e), e)).strip()
        sys.stderr.write(f"[rank {ctx.rank}] error: {text}\n[rank {ctx.rank}] aborting all {ctx.world_size} ranks\n")
        _abort(1 if not isinstance(e, KeyboardInterrupt) else 130)
