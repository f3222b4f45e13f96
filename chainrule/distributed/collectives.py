"""Collectives on tensors over MPI with ``torch.distributed``'s signatures and in-place semantics.

Contiguous tensors go to MPI as they are (their NumPy buffer, no copy); non-contiguous ones
and float16 (which MPI has no type for: reduced as float32) go through a contiguous copy that is
written back. Before each collective the ranks exchange the shape and dtype they pass, so a
mismatch raises on every rank with the ranks named instead of corrupting memory or hanging
(one small all-gather, a few microseconds; ``CHAINRULE_DISTRIBUTED_CHECKS=0`` skips it, as
PyTorch runs without its ``TORCH_DISTRIBUTED_DEBUG=DETAIL`` checks).
With ``async_op=True`` a :class:`Work` handle is returned; the result is in place after
``wait()`` (or once ``is_completed()`` is True).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import _mpi
from .process_group import ProcessGroup, ReduceOp, resolve

_MAX_DIMS = 8


class Work:
    """The handle of an asynchronous collective: ``wait()`` blocks until it is done."""

    def __init__(self, requests: list, finish: Callable[[], None] | None = None,
                 result: list[Tensor] | None = None) -> None:
        self._requests = requests
        self._finish = finish
        self._result = result or []
        self._done = False

    def _complete(self) -> None:
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._finish()

    def wait(self, timeout: Any = None) -> bool:
        """Block until the collective has finished and its result is in place; returns True."""
        if not self._done:
            _mpi.mpi().Request.Waitall(self._requests)
            self._complete()
        return True

    def is_completed(self) -> bool:
        """Non-blocking: True once finished (the result is then in place); also drives MPI progress."""
        if not self._done and _mpi.mpi().Request.Testall(self._requests):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self._done

    def result(self) -> list[Tensor]:
        return list(self._result)

    def __repr__(self) -> str:
        return f"Work(completed={self._done})"


def _done_work(result: list[Tensor] | None = None) -> Work:
    w = Work([], None, result)
    w._done = True
    return w


def _check_tensor(t: Any, what: str, op_name: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op_name}: {what} must be a Tensor, got {type(t).__name__}")
    return t


def _check_list(ts: Any, what: str, op_name: str, n: int) -> list[Tensor]:
    if not isinstance(ts, (list, tuple)):
        raise TypeError(f"{op_name}: {what} must be a list of Tensors, got {type(ts).__name__}")
    for t in ts:
        _check_tensor(t, f"every element of {what}", op_name)
    if len(ts) != n:
        raise ValueError(f"{op_name}: {what} must have one tensor per rank of the group ({n}), got {len(ts)}")
    return list(ts)


def _same_shape(ref: Tensor, ts: list[Tensor], what: str, op_name: str) -> None:
    for i, t in enumerate(ts):
        if tuple(t.shape) != tuple(ref.shape) or t.dtype is not ref.dtype:
            raise ValueError(f"{op_name}: {what}[{i}] has shape {tuple(t.shape)} and dtype {t.dtype}, expected "
                             f"{tuple(ref.shape)} and {ref.dtype} (those of the tensor argument)")


def _signature(arr: np.ndarray | None) -> np.ndarray:
    sig = np.full(2 + _MAX_DIMS, -2, dtype=np.int64)
    if arr is None:
        return sig
    sig[0] = arr.dtype.num
    sig[1] = arr.ndim
    dims = list(arr.shape)
    if len(dims) > _MAX_DIMS:  # fold the tail so that any shape difference still shows
        dims = dims[: _MAX_DIMS - 1] + [int(np.prod(dims[_MAX_DIMS - 1:]))]
    sig[2: 2 + len(dims)] = dims
    return sig


def _describe(sig: np.ndarray) -> str:
    if sig[0] == -2:
        return "no tensor"
    dims = tuple(int(d) for d in sig[2: 2 + min(int(sig[1]), _MAX_DIMS)])
    return f"shape {dims} ({_dtype_name(int(sig[0]))})"


def _dtype_name(num: int) -> str:
    for name in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"):
        if np.dtype(name).num == num:
            return name
    return f"dtype #{num}"


def check_same_across_ranks(pg: ProcessGroup, arr: np.ndarray | None, op_name: str) -> None:
    """Raise on every rank when the ranks pass tensors of different shapes or dtypes (one Allgather)."""
    size = pg.size()
    if size == 1 or os.environ.get("CHAINRULE_DISTRIBUTED_CHECKS") == "0":
        return
    sig = _signature(arr)
    table = np.empty((size, sig.size), dtype=np.int64)
    pg.comm.Allgather(sig, table)
    bad = [r for r in range(size) if not np.array_equal(table[r], table[0])]
    if bad:
        parts = [f"rank {pg.ranks[r]} has {_describe(table[r])}" for r in [0, *bad]]
        raise RuntimeError(f"{op_name}: the ranks passed tensors of different shapes or dtypes: "
                           + ", ".join(parts) + "; every rank of the group must pass the same shape and dtype")


class _Buffer:
    """A tensor's memory as MPI sees it: its own array when contiguous, else a copy written back."""

    def __init__(self, t: Tensor, writeback: bool) -> None:
        self.tensor = t
        arr = t._data
        if not isinstance(arr, np.ndarray):
            raise RuntimeError("the 'mpi' backend works on CPU (NumPy) tensors only")
        self.mpi_type = _mpi.datatype(arr.dtype)
        if self.mpi_type is not None and arr.flags.c_contiguous:
            self.array, self.copied = arr, False
        else:
            wide = np.float32 if arr.dtype == np.float16 else arr.dtype
            self.array, self.copied = np.ascontiguousarray(arr, dtype=wide), True
            self.mpi_type = _mpi.datatype(self.array.dtype)
        self.writeback = writeback

    def spec(self) -> list:
        return [self.array, self.mpi_type]

    def finish(self) -> None:
        if self.writeback:
            if self.copied:
                self.tensor._data[...] = self.array
            self.tensor._bump_version()


_OPS: dict = {}


def _op_tables() -> dict:
    if not _OPS:
        MPI = _mpi.mpi()
        _OPS["b"] = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.BOR: MPI.LOR, ReduceOp.PRODUCT: MPI.LAND,
                     ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND, ReduceOp.BXOR: MPI.LXOR}
        _OPS["n"] = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                     ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
    return _OPS


def _mpi_op(op: ReduceOp, dtype: np.dtype, op_name: str):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{op_name}: op must be a chainrule.distributed.ReduceOp, got {op!r}")
    kind = dtype.kind
    if op is ReduceOp.AVG and kind != "f":
        raise ValueError(f"{op_name}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    if kind == "f" and op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
        raise ValueError(f"{op_name}: ReduceOp.{op.name} needs an integer or bool tensor, got {dtype}")
    return _op_tables()["b" if kind == "b" else "n"][op]


def _run(async_op: bool, blocking: Callable[[], None], nonblocking: Callable[[], Any],
         finish: Callable[[], None], result: list[Tensor]) -> Work | None:
    if async_op:
        return Work([nonblocking()], finish, result)
    blocking()
    finish()
    return None


def _divider(buf: _Buffer, op: ReduceOp, size: int) -> Callable[[], None]:
    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(buf.array, size, out=buf.array)
        buf.finish()
    return finish


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` over all ranks of the group, in place on every rank: x <- op_r x_r."""
    _check_tensor(tensor, "tensor", "all_reduce")
    pg = resolve(group, "all_reduce")
    if pg is None:
        return _done_work() if async_op else None
    mop = _mpi_op(op, tensor._data.dtype, "all_reduce")
    check_same_across_ranks(pg, tensor._data, "all_reduce")
    MPI = _mpi.mpi()
    buf = _Buffer(tensor, True)
    return _run(async_op, lambda: pg.comm.Allreduce(MPI.IN_PLACE, buf.spec(), mop),
                lambda: pg.comm.Iallreduce(MPI.IN_PLACE, buf.spec(), mop),
                _divider(buf, op, pg.size()), [tensor])


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: ProcessGroup | None = None,
           async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` over the group into ``tensor`` on global rank ``dst`` (others unchanged)."""
    _check_tensor(tensor, "tensor", "reduce")
    pg = resolve(group, "reduce")
    if pg is None:
        return _done_work() if async_op else None
    root = pg.group_rank(dst, "reduce: destination")
    mop = _mpi_op(op, tensor._data.dtype, "reduce")
    check_same_across_ranks(pg, tensor._data, "reduce")
    MPI = _mpi.mpi()
    me = pg.rank() == root
    buf = _Buffer(tensor, me)
    send = MPI.IN_PLACE if me else buf.spec()
    recv = buf.spec() if me else None
    finish = _divider(buf, op, pg.size()) if me else (lambda: None)
    return _run(async_op, lambda: pg.comm.Reduce(send, recv, mop, root),
                lambda: pg.comm.Ireduce(send, recv, mop, root), finish, [tensor])


def broadcast(tensor: Tensor, src: int = 0, group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Copy ``tensor`` of global rank ``src`` into ``tensor`` on every other rank of the group."""
    _check_tensor(tensor, "tensor", "broadcast")
    pg = resolve(group, "broadcast")
    if pg is None:
        return _done_work() if async_op else None
    root = pg.group_rank(src, "broadcast: source")
    check_same_across_ranks(pg, tensor._data, "broadcast")
    buf = _Buffer(tensor, pg.rank() != root)
    return _run(async_op, lambda: pg.comm.Bcast(buf.spec(), root), lambda: pg.comm.Ibcast(buf.spec(), root),
                buf.finish, [tensor])


def _scatter_rows(rows: np.ndarray, outs: list[Tensor]) -> Callable[[], None]:
    def finish() -> None:
        for row, t in zip(rows, outs):
            t._data[...] = row.reshape(t._data.shape)
            t._bump_version()
    return finish


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """``tensor_list[r] <- tensor`` of group rank r, on every rank."""
    _check_tensor(tensor, "tensor", "all_gather")
    pg = resolve(group, "all_gather")
    if pg is None:
        return _done_work() if async_op else None
    outs = _check_list(tensor_list, "tensor_list", "all_gather", pg.size())
    _same_shape(tensor, outs, "tensor_list", "all_gather")
    check_same_across_ranks(pg, tensor._data, "all_gather")
    send = _Buffer(tensor, False)
    rows = np.empty((pg.size(), send.array.size), dtype=send.array.dtype)
    recv = [rows, send.mpi_type]
    return _run(async_op, lambda: pg.comm.Allgather(send.spec(), recv), lambda: pg.comm.Iallgather(send.spec(), recv),
                _scatter_rows(rows, outs), outs)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None,
                           async_op: bool = False) -> Work | None:
    """Concatenate every rank's ``input_tensor`` along dim 0 (or stack) into ``output_tensor``."""
    _check_tensor(output_tensor, "output_tensor", "all_gather_into_tensor")
    _check_tensor(input_tensor, "input_tensor", "all_gather_into_tensor")
    pg = resolve(group, "all_gather_into_tensor")
    if pg is None:
        return _done_work() if async_op else None
    if output_tensor.numel() != input_tensor.numel() * pg.size() or output_tensor.dtype is not input_tensor.dtype:
        raise ValueError(f"all_gather_into_tensor: output_tensor must hold world_size ({pg.size()}) times the "
                         f"input's {input_tensor.numel()} elements of {input_tensor.dtype}, got "
                         f"{output_tensor.numel()} of {output_tensor.dtype}")
    check_same_across_ranks(pg, input_tensor._data, "all_gather_into_tensor")
    send, recv = _Buffer(input_tensor, False), _Buffer(output_tensor, True)
    return _run(async_op, lambda: pg.comm.Allgather(send.spec(), recv.spec()),
                lambda: pg.comm.Iallgather(send.spec(), recv.spec()), recv.finish, [output_tensor])


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: ReduceOp = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """``output <- op_r input_list[me]`` of every rank r: reduce the lists, keep this rank's piece."""
    _check_tensor(output, "output", "reduce_scatter")
    pg = resolve(group, "reduce_scatter")
    if pg is None:
        return _done_work() if async_op else None
    ins = _check_list(input_list, "input_list", "reduce_scatter", pg.size())
    _same_shape(output, ins, "input_list", "reduce_scatter")
    mop = _mpi_op(op, output._data.dtype, "reduce_scatter")
    check_same_across_ranks(pg, output._data, "reduce_scatter")
    out = _Buffer(output, True)
    send = np.stack([np.asarray(t._data, dtype=out.array.dtype).reshape(-1) for t in ins])
    return _run(async_op, lambda: pg.comm.Reduce_scatter_block([send, out.mpi_type], out.spec(), mop),
                lambda: pg.comm.Ireduce_scatter_block([send, out.mpi_type], out.spec(), mop),
                _divider(out, op, pg.size()), [output])


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM,
                          group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """``reduce_scatter`` with the input as one tensor of world_size pieces along dim 0."""
    _check_tensor(output, "output", "reduce_scatter_tensor")
    _check_tensor(input, "input", "reduce_scatter_tensor")
    pg = resolve(group, "reduce_scatter_tensor")
    if pg is None:
        return _done_work() if async_op else None
    if input.numel() != output.numel() * pg.size() or input.dtype is not output.dtype:
        raise ValueError(f"reduce_scatter_tensor: input must hold world_size ({pg.size()}) times the output's "
                         f"{output.numel()} elements of {output.dtype}, got {input.numel()} of {input.dtype}")
    mop = _mpi_op(op, output._data.dtype, "reduce_scatter_tensor")
    check_same_across_ranks(pg, input._data, "reduce_scatter_tensor")
    send, out = _Buffer(input, False), _Buffer(output, True)
    return _run(async_op, lambda: pg.comm.Reduce_scatter_block(send.spec(), out.spec(), mop),
                lambda: pg.comm.Ireduce_scatter_block(send.spec(), out.spec(), mop),
                _divider(out, op, pg.size()), [output])


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int = 0,
           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """On global rank ``dst``: ``gather_list[r] <- tensor`` of group rank r."""
    _check_tensor(tensor, "tensor", "gather")
    pg = resolve(group, "gather")
    if pg is None:
        return _done_work() if async_op else None
    root = pg.group_rank(dst, "gather: destination")
    me = pg.rank() == root
    if me:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        outs = _check_list(gather_list, "gather_list", "gather", pg.size())
        _same_shape(tensor, outs, "gather_list", "gather")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    else:
        outs = []
    check_same_across_ranks(pg, tensor._data, "gather")
    send = _Buffer(tensor, False)
    rows = np.empty((pg.size(), send.array.size), dtype=send.array.dtype) if me else None
    recv = [rows, send.mpi_type] if me else None
    return _run(async_op, lambda: pg.comm.Gather(send.spec(), recv, root),
                lambda: pg.comm.Igather(send.spec(), recv, root),
                _scatter_rows(rows, outs) if rows is not None else (lambda: None), outs)  # rows: me only


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int = 0,
            group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """``tensor <- scatter_list[me]`` of global rank ``src``."""
    _check_tensor(tensor, "tensor", "scatter")
    pg = resolve(group, "scatter")
    if pg is None:
        return _done_work() if async_op else None
    root = pg.group_rank(src, "scatter: source")
    me = pg.rank() == root
    if me:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        ins = _check_list(scatter_list, "scatter_list", "scatter", pg.size())
        _same_shape(tensor, ins, "scatter_list", "scatter")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    check_same_across_ranks(pg, tensor._data, "scatter")
    out = _Buffer(tensor, True)
    send = [np.stack([np.asarray(t._data, dtype=out.array.dtype).reshape(-1) for t in ins]), out.mpi_type] if me else None
    return _run(async_op, lambda: pg.comm.Scatter(send, out.spec(), root),
                lambda: pg.comm.Iscatter(send, out.spec(), root), out.finish, [tensor])


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank of the group has reached this call."""
    pg = resolve(group, "barrier")
    if pg is None:
        return _done_work() if async_op else None
    return _run(async_op, pg.comm.Barrier, pg.comm.Ibarrier, lambda: None, [])
