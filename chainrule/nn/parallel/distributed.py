"""``DistributedDataParallel``: one replica per rank, gradients averaged over ranks in buckets.

At construction the ranks check that they hold the same parameter and buffer shapes and copy
rank 0's values. Parameters are grouped, in reverse order of ``parameters()`` (roughly the order
backward produces their gradients), into buckets of about ``bucket_cap_mb`` (the first one 1 MB,
so communication starts early, as PyTorch). A post-accumulate-grad hook on every parameter copies
its gradient into its bucket; when a bucket is full, a non-blocking ``MPI_Iallreduce`` starts on
it and the rest of backward runs while it travels (later hooks call ``MPI_Testall`` so MPI keeps
moving it). Buckets start in the same order on every rank. When the last bucket has started, the
hook waits for all of them and makes each ``.grad`` a view of its bucket: g_p <- sum_r g_p^(r) / K
(each rank divides by K as it copies into the bucket, so no pass over the sum is needed).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from ... import distributed as dist
from ...autograd.grad_mode import is_grad_enabled
from ...distributed import _mpi
from ...tensor import Tensor
from ..module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024


class _Bucket:
    """Parameters reduced together: a flat buffer with one slice per parameter."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.indices: list[int] = []
        self.offsets: list[int] = []
        self.size = 0
        self.pending = 0
        self.buffer: np.ndarray | None = None
        self.spare: np.ndarray | None = None  # the last iteration's buffer, reused once nothing views it
        self.request: Any = None

    def add(self, index: int, numel: int) -> None:
        self.indices.append(index)
        self.offsets.append(self.size)
        self.size += numel

    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


def _tensors_of(obj: Any) -> Iterator[Tensor]:
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors_of(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors_of(o)


def _leaves_reached(outputs: Any) -> set[int]:
    """ids of the leaf tensors the outputs' graph reaches (the parameters used in forward)."""
    seen: set[int] = set()
    found: set[int] = set()
    stack = [t.grad_fn for t in _tensors_of(outputs) if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        leaf = getattr(node, "variable", None)
        if leaf is not None:
            found.add(id(leaf))
        for edge in getattr(node, "next_functions", ()) or ():
            if edge is not None and edge[0] is not None:
                stack.append(edge[0])
    return found


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of a process group (``torch.nn.parallel.DistributedDataParallel``).

    Each rank runs ``module`` on its own share of the batch; after ``loss.backward()`` every
    parameter's ``.grad`` holds the average of the ranks' gradients, so an optimizer step keeps
    the replicas equal. ``no_sync()`` skips the averaging (gradient accumulation);
    ``find_unused_parameters=True`` allows parameters that some forward passes do not use.
    ``state_dict()`` keys carry the ``module.`` prefix, as PyTorch's; ``ddp.module.state_dict()``
    gives the bare keys. After the averaging every ``.grad`` is a view of its bucket (PyTorch's
    ``gradient_as_bucket_view=True``); ``gradient_as_bucket_view``, ``static_graph`` and
    ``check_reduction`` are accepted for compatibility and change nothing.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group: Any = None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False, **kwargs: Any) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel expects an nn.Module, got {type(module).__name__}")
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu"):
            raise ValueError("DistributedDataParallel: device_ids and output_device must be None for CPU modules, "
                             f"got device_ids={device_ids!r}, output_device={output_device!r}")
        cap = 25.0 if bucket_cap_mb is None else bucket_cap_mb
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or cap <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
        self.module = module
        pg = process_group if process_group is not None else dist.GroupMember.WORLD
        if pg is None:
            raise ValueError("Default process group has not been initialized, please make sure to call "
                             "init_process_group.")
        if not isinstance(pg, dist.ProcessGroup):
            raise ValueError(f"DistributedDataParallel: process_group must be a group this rank belongs to, got {pg!r}")
        self.process_group = pg
        self.dim = dim
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.bucket_cap_mb = cap
        self.require_backward_grad_sync = True
        self.world_size = pg.size()
        self._scale = 1.0 / self.world_size
        seen: set[int] = set()
        self._params: list[tuple[str, Tensor]] = []
        for name, p in module.named_parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                self._params.append((name, p))
        if not self._params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        self._buffers_to_sync = [b for _, b in module.named_buffers() if b is not None]
        self._comm = pg.comm.Dup()  # gradient traffic never interleaves with the user's collectives
        self._verify_same_model()
        self._broadcast([p for _, p in module.named_parameters()] + self._buffers_to_sync)
        self._build_buckets(int(cap * 1024 * 1024))
        self._reset_iteration()
        self._hooks = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                       for i, (_, p) in enumerate(self._params)]

    # ------------------------------------------------------------------ construction
    def _verify_same_model(self) -> None:
        mine = [[n, list(t.shape), str(t.dtype)] for n, t in self.module.named_parameters()]
        mine += [[n, list(t.shape), str(t.dtype)] for n, t in self.module.named_buffers() if t is not None]
        tables = [json.loads(s) for s in self._comm.allgather(json.dumps(mine))]
        ref = tables[0]
        for r, table in enumerate(tables[1:], start=1):
            if len(table) != len(ref):
                raise RuntimeError(
                    f"DistributedDataParallel expects the same model on every rank, but rank 0 has {len(ref)} "
                    f"parameters and buffers while rank {r} has {len(table)}")
            for (n0, s0, d0), (n1, s1, d1) in zip(ref, table):
                if s0 != s1 or d0 != d1:
                    raise RuntimeError(
                        f"DistributedDataParallel expects the same model on every rank, but '{n0}' has shape "
                        f"{tuple(s0)} ({d0}) on rank 0 and '{n1}' has shape {tuple(s1)} ({d1}) on rank {r}")

    def _broadcast(self, tensors: list[Tensor]) -> None:
        """Copy rank 0's values into ``tensors``: one Bcast per dtype of all of them packed together."""
        if self.world_size == 1 or not tensors:
            return
        root = self._comm.Get_rank() == 0
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dt, group in by_dtype.items():
            wide = np.dtype(np.float32) if dt == np.float16 else dt  # MPI has no float16
            flat = np.concatenate([t._data.reshape(-1) for t in group]).astype(wide, copy=False)
            self._comm.Bcast([flat, _mpi.datatype(wide)], 0)
            if root:
                continue
            start = 0
            for t in group:
                n = t._data.size
                t._data[...] = flat[start: start + n].reshape(t._data.shape)
                t._bump_version()
                start += n

    def _build_buckets(self, cap_bytes: int) -> None:
        self._buckets: list[_Bucket] = []
        self._where: list[tuple[_Bucket, int]] = [None] * len(self._params)  # type: ignore[list-item]
        current: _Bucket | None = None
        for i in reversed(range(len(self._params))):
            p = self._params[i][1]
            dt = p._data.dtype
            limit = _FIRST_BUCKET_BYTES if len(self._buckets) <= 1 else cap_bytes
            limit = min(limit, cap_bytes)
            if current is None or current.dtype != dt or current.nbytes() >= limit:
                current = _Bucket(dt)
                self._buckets.append(current)
            self._where[i] = (current, len(current.indices))
            current.add(i, p.numel())

    def _reset_iteration(self) -> None:
        for b in self._buckets:
            b.pending = len(b.indices)
            if b.buffer is not None:
                b.spare = b.buffer
            b.buffer = None
            b.request = None
        self._marked = [False] * len(self._params)
        self._used = np.ones(len(self._params), dtype=np.int32)
        self._next_bucket = 0
        self._sync_this_iter = False
        self._in_reduction = False

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._in_reduction:
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable "
                "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`chainrule.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                "participate in calculating loss. Parameters that did not receive a gradient: "
                + ", ".join(n for (n, _), m in zip(self._params, self._marked) if not m))
        self._reset_iteration()
        grad_on = is_grad_enabled()
        if self.broadcast_buffers and self._buffers_to_sync and self.module.training and grad_on:
            self._broadcast(self._buffers_to_sync)
        out = self.module(*inputs, **kwargs)
        self._sync_this_iter = self.require_backward_grad_sync and grad_on and self.world_size > 1
        if self._sync_this_iter and self.find_unused_parameters:
            used = _leaves_reached(out)
            for i, (_, p) in enumerate(self._params):
                if id(p) not in used:
                    self._used[i] = 0
                    self._mark_ready(i, unused=True)
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this context the backward of a forward run here only accumulates local gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ------------------------------------------------------------------ backward
    def _make_hook(self, i: int):
        def hook(p: Tensor) -> None:
            if self._sync_this_iter:
                self._mark_ready(i, unused=False)
        return hook

    def _mark_ready(self, i: int, unused: bool) -> None:
        if self._marked[i]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once: parameter '{self._params[i][0]}' received a second "
                "gradient in the same iteration (a second backward without a new forward, or a parameter used in "
                "two reentrant backward passes); run forward again before each backward")
        self._marked[i] = True
        self._in_reduction = True
        bucket, slot = self._where[i]
        if bucket.buffer is None:
            # the .grad of the last iteration are views of its buffer: reuse it only when none is left
            # (2 = the attribute + getrefcount's argument), else take fresh memory
            spare = bucket.spare
            bucket.spare = None
            if spare is not None and sys.getrefcount(spare) == 2:
                bucket.buffer = spare
            else:
                bucket.buffer = np.empty(bucket.size, dtype=bucket.dtype)
        start = bucket.offsets[slot]
        p = self._params[i][1]
        view = bucket.buffer[start: start + p.numel()]
        if unused or p.grad is None:
            view[...] = 0
        else:  # divided by K on the way in: the sum of the ranks' shares is then the average
            np.multiply(p.grad._data.reshape(-1), self._scale, out=view, casting="unsafe")
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        elif self._next_bucket:
            self._progress()

    def _launch_ready_buckets(self) -> None:
        MPI = _mpi.mpi()
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            b = self._buckets[self._next_bucket]
            b.request = self._comm.Iallreduce(MPI.IN_PLACE, [b.buffer, _mpi.datatype(b.dtype)], MPI.SUM)
            self._next_bucket += 1
        if self._next_bucket == len(self._buckets):
            self._finalize()
        else:
            self._progress()

    def _progress(self) -> None:
        """Let MPI move the buckets in flight (MPI progresses only inside MPI calls)."""
        reqs = [b.request for b in self._buckets[: self._next_bucket] if b.request is not None]
        if reqs:
            _mpi.mpi().Request.Testall(reqs)

    def _finalize(self) -> None:
        MPI = _mpi.mpi()
        MPI.Request.Waitall([b.request for b in self._buckets])
        if self.find_unused_parameters:
            self._comm.Allreduce(MPI.IN_PLACE, [self._used, MPI.INT32_T], MPI.MAX)
        for b in self._buckets:
            for slot, i in enumerate(b.indices):
                if not self._used[i]:
                    continue  # unused on every rank: its .grad is left as it was (PyTorch)
                p = self._params[i][1]
                start = b.offsets[slot]
                assert b.buffer is not None  # a used parameter's bucket was filled by its hook
                p.grad = Tensor._make(b.buffer[start: start + p.numel()].reshape(p._data.shape))
        self._in_reduction = False
        self._sync_this_iter = False

    def extra_repr(self) -> str:
        return (f"world_size={self.world_size}, buckets={len(self._buckets)}, bucket_cap_mb={self.bucket_cap_mb}, "
                f"find_unused_parameters={self.find_unused_parameters}")
