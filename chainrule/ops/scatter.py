"""Indexing along one dimension: ``gather``/``scatter``/``scatter_add``, ``index_select``/``index_add``.

The operators come in adjoint pairs, each the other's backward:

* ``gather(x, d, idx)`` reads ``y[..i..] = x[..idx[..i..]..]`` (``idx`` replaces the index in
  dimension ``d``); ``scatter_add`` writes ``z[..idx[..i..]..] += g[..i..]``.
* ``index_select(x, d, idx)`` picks whole slices ``x[.., idx[k], ..]``; ``index_add`` adds
  slices back at those positions.

Repeated indices are fine: reads repeat, writes add up.

The operators hold their index array as an attribute; the functions make it from the index
tensor with a ``PreparedIndex`` node (range check, flattening, wrapping of negative entries,
broadcasting, all in that node's ``forward``), so that a graph capture (``chainrule.compile``)
records that node and replays it, check included, with each call's indices. ``IndexSelectBy``
takes the index tensor as an input and does the same in its own ``forward``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from ..autograd.function import FunctionNode
from ..backend import array_module
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import wrap_dim
from .indexing import IndexAccumulate, scatter_add_into
from .shape import broadcast_to


def _grid(index, dim: int) -> tuple:
    """The full NumPy index of ``x[..idx[i, j, k]..]``: ``index`` in ``dim``, ranges elsewhere."""
    xp = array_module(index)
    nd = index.ndim
    out = []
    for k in range(nd):
        if k == dim:
            out.append(index)
        else:
            shape = [1] * nd
            shape[k] = index.shape[k]
            out.append(size_only(xp.arange(index.shape[k]).reshape(shape)))  # a range: from sizes alone
    return tuple(out)


def _region(index_shape: tuple) -> tuple:
    return tuple(slice(0, n) for n in index_shape)


class PreparedIndex(FunctionNode):
    """The index array an indexing operator holds as an attribute, made from an index tensor:
    ``forward`` runs the preparation ``prepare(xp, index, *args)`` (a module function registered
    with ``preparation``, named in the node so that the node holds constants only), which checks
    the values (raising the operator's own error) and returns the array the operator reads (a new
    array object: a view where nothing changes). ``args`` are sizes and hyper-parameters, never
    data. The output is an integer or boolean array, which gets no gradient; a graph capture
    records this node like any other and replays it with each call's indices, and the operator
    reads the replayed array."""

    def __init__(self, prepare: str, args: tuple):
        self.prepare, self.args = prepare, args

    def forward(self, index):
        return _PREPARATIONS[self.prepare](self.xp, index, *self.args)


_PREPARATIONS: dict[str, Callable] = {}


def preparation(fn: Callable) -> Callable:
    """Register ``fn(xp, index, *args)`` as a preparation of ``PreparedIndex``; returns it."""
    key = f"{fn.__module__}.{fn.__qualname__}"
    assert key not in _PREPARATIONS, key
    _PREPARATIONS[key] = fn
    return fn


def prepared(index: Tensor, prepare: Callable, *args):
    """The array ``prepare(xp, index's array, *args)``, made by a ``PreparedIndex`` node."""
    return PreparedIndex(f"{prepare.__module__}.{prepare.__qualname__}", args).apply(index)._data


@preparation
def _in_range(xp, index, n: int, dim: int, allow_negative: bool = False):
    """``index`` (a view) after ``_check_bounds``."""
    _check_bounds(index, n, dim, allow_negative)
    return index.view()


@preparation
def _in_range_int64(xp, index, n: int, dim: int):
    """``index`` as int64 (a view when it is int64 already) after ``_check_bounds``."""
    _check_bounds(index, n, dim)
    return index.astype(np.int64, copy=False).view()


@preparation
def _vector_in_range(xp, index, n: int, dim: int):
    """``index`` flattened (a 0-d index is one index) after ``_check_bounds``."""
    idx = index.reshape(-1)
    _check_bounds(idx, n, dim)
    return idx


@preparation
def _wrapped_along(xp, index, n: int, dim: int, shape: tuple):
    """``take_along_dim``'s index: checked in [-n, n), negative entries counted from the end,
    broadcast to ``shape``."""
    _check_bounds(index, n, dim, allow_negative=True)
    idx = index % n if (index.size and int(index.min()) < 0) else index
    return xp.broadcast_to(idx, shape)


class Gather(FunctionNode):
    """``y[i][j][k] = x[index[i][j][k]][j][k]`` for ``dim=0`` (and likewise for other dims)."""

    def __init__(self, dim: int, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        self.in_shape = x.shape
        return x[_grid(self.index, self.dim)]

    def backward(self, gy):
        return gather_grad(gy, self.index, self.dim, self.in_shape)


def gather_grad(gy: Tensor, index, dim: int, in_shape: tuple) -> Tensor:
    """The gradient of reading ``x`` at ``index`` along ``dim`` (a gather, a sort, a max along a
    dim): ``gy`` scatter-added into zeros of ``x``'s shape, written straight into a fresh array
    (no copy of a zeros input); differentiable (its gradient is the gather again)."""
    return IndexAccumulate(_grid(index, dim), in_shape).apply(gy)


class ScatterAdd(FunctionNode):
    """``z = x; z[index[i][j][k]][j][k] += src[i][j][k]`` (``dim=0``); repeated indices add up."""

    def __init__(self, dim: int, index):
        self.dim, self.index = dim, index

    def forward(self, x, src):
        self.src_shape = src.shape
        out = x.copy()
        scatter_add_into(self.xp, out, _grid(self.index, self.dim), src[_region(self.index.shape)])
        return out

    def backward(self, gy):
        nx, ns = self.needs_input_grad
        return (gy if nx else None), (_gather_to(gy, self.dim, self.index, self.src_shape) if ns else None)


class Scatter(FunctionNode):
    """``z = x; z[index[i][j][k]][j][k] = src[i][j][k]`` (or ``= value``).

    The gradient of ``x`` is ``gy`` with the overwritten positions zeroed, that of ``src`` is
    ``gy`` gathered at ``index``. Which of several writes to one position wins is unspecified
    (as in PyTorch), so repeated indices make the result ill-defined.
    """

    def __init__(self, dim: int, index, value=None):
        self.dim, self.index, self.value = dim, index, value

    def forward(self, x, src=None):
        out = x.copy()
        if src is None:
            out[_grid(self.index, self.dim)] = self.value
        else:
            self.src_shape = src.shape
            out[_grid(self.index, self.dim)] = src[_region(self.index.shape)]
        return out

    def backward(self, gy):
        needs = self.needs_input_grad
        gx = Scatter(self.dim, self.index, 0).apply(gy) if needs[0] else None
        if len(needs) == 1:
            return gx
        gs = _gather_to(gy, self.dim, self.index, self.src_shape) if needs[1] else None
        return gx, gs


def _gather_to(gy: Tensor, dim: int, index, src_shape: tuple) -> Tensor:
    """``gy`` gathered at ``index``, zero-padded to ``src_shape`` (src may be larger than index)."""
    g = Gather(dim, index).apply(gy)
    if tuple(index.shape) == tuple(src_shape):
        return g
    return IndexAccumulate(_region(index.shape), src_shape).apply(g)


class IndexSelect(FunctionNode):
    """``y = x[.., index, ..]`` with the 1-d ``index`` in dimension ``dim``."""

    def __init__(self, dim: int, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        self.in_shape = x.shape
        return self.xp.take(x, self.index, axis=self.dim)

    def backward(self, gy):
        return _select_grad(gy, self.index, self.dim, self.in_shape)


def _select_grad(gy: Tensor, index, dim: int, in_shape: tuple) -> Tensor:
    """index_add of ``gy`` into zeros of ``in_shape`` at the 1-d ``index`` along ``dim``, written
    straight into a fresh array (no copy of a zeros input)."""
    return IndexAccumulate((slice(None),) * dim + (index,), in_shape).apply(gy)


class IndexSelectBy(FunctionNode):
    """``index_select`` with the index an input tensor (it gets no gradient): its range is checked
    and it is flattened in ``forward``, so a graph capture replays the node with new indices and
    checks them on every call. ``table`` names an embedding lookup (its message for a bad row)."""

    torch_name = "IndexSelectBackward0"

    def __init__(self, dim: int, table: bool = False):
        self.dim, self.table = dim, table

    def forward(self, x, index):
        idx = index.reshape(-1)
        n = x.shape[self.dim]
        if not self.table:
            _check_bounds(idx, n, self.dim)
        elif idx.size:
            lo, hi = int(idx.min()), int(idx.max())
            if lo < 0 or hi >= n:
                raise IndexError(f"index {lo if lo < 0 else hi} is out of range for an embedding table of {n} rows")
        self.index, self.in_shape = idx.astype(np.int64, copy=False), x.shape
        return self.xp.take(x, self.index, axis=self.dim)

    def backward(self, gy):
        return _select_grad(gy, self.index, self.dim, self.in_shape), None


class IndexAdd(FunctionNode):
    """``z = x; z[.., index[k], ..] += alpha * source[.., k, ..]`` (repeated indices add up)."""

    def __init__(self, dim: int, index, alpha):
        self.dim, self.index, self.alpha = dim, index, alpha

    def forward(self, x, source):
        xp = self.xp
        out = x.copy()
        src = source if self.alpha == 1 else source * source.dtype.type(self.alpha)
        # move ``dim`` to the front (views), so the index addresses whole slices
        scatter_add_into(xp, xp.moveaxis(out, self.dim, 0), self.index, xp.moveaxis(src, self.dim, 0))
        return out

    def backward(self, gy):
        nx, ns = self.needs_input_grad
        gs = None
        if ns:
            gs = IndexSelect(self.dim, self.index).apply(gy)
            if self.alpha != 1:
                gs = gs * self.alpha
        return (gy if nx else None), gs


# ---- argument checks ---------------------------------------------------------------------------
def _index(index, op: str, expected: str = "int32/int64"):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype {expected} for index")
    return index._data


def _check_bounds(index, n: int, dim: int, allow_negative: bool = False) -> None:
    if index.size == 0:
        return
    hi, lo = int(index.max()), int(index.min())
    low = -n if allow_negative else 0
    if hi >= n or lo < low:
        raise RuntimeError(f"index {hi if hi >= n else lo} is out of bounds for dimension {dim} with size {n}")


def _check_index_shape(dim: int, x_shape: tuple, index_shape: tuple, src_shape=None) -> None:
    if len(index_shape) != len(x_shape):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k, n in enumerate(index_shape):
        too_big = (k != dim and n > x_shape[k]) or (src_shape is not None and n > src_shape[k])
        if too_big:
            if src_shape is None:
                raise RuntimeError(
                    f"Size does not match at dimension {k} expected index {list(index_shape)} to be no "
                    f"larger than self {list(x_shape)} apart from dimension {dim}")
            raise RuntimeError(
                f"Expected index {list(index_shape)} to be no larger than self {list(x_shape)} apart "
                f"from dimension {dim} and to be no larger size than src {list(src_shape)}")


def _as_1d(t: Tensor) -> Tensor:
    # 0-d tensors index like 1-d tensors of one element
    return t.reshape(1) if t._data.ndim == 0 else t


# ---- functional wrappers -------------------------------------------------------------------------
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` (``dim=0``; likewise for other dims).

    ``index`` has ``input``'s number of dimensions and is no larger than ``input`` outside ``dim``;
    the output has the shape of ``index``. The gradient is ``scatter_add`` of the incoming one.
    """
    idx = _index(index, "gather")
    if input._data.ndim == 0 and idx.ndim == 0:
        return gather(_as_1d(input), 0, _as_1d(index)).reshape(())
    d = wrap_dim(dim, input._data.ndim)
    _check_index_shape(d, input._data.shape, idx.shape)
    return Gather(d, prepared(index, _in_range, input._data.shape[d], d)).apply(input)


def _scatter_args(input: Tensor, dim: int, index: Tensor, src, op: str):
    idx = _index(index, op)
    d = wrap_dim(dim, input._data.ndim)
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        _check_index_shape(d, input._data.shape, idx.shape, src._data.shape)
    else:
        _check_index_shape(d, input._data.shape, idx.shape)
    return d, prepared(index, _in_range, input._data.shape[d], d)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``out = input`` with ``out[index[i][j][k]][j][k] += src[i][j][k]`` (``dim=0``).

    Only the part of ``src`` of ``index``'s shape is used; repeated indices accumulate. Gradients:
    ``input`` gets ``gy``, ``src`` gets ``gather(gy, dim, index)``.
    """
    if input._data.ndim == 0:
        return scatter_add(_as_1d(input), 0, _as_1d(index), _as_1d(src)).reshape(())
    d, idx = _scatter_args(input, dim, index, src, "scatter_add")
    return ScatterAdd(d, idx).apply(input, src)


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None) -> Tensor:
    """``out = input`` with ``out[index[i][j][k]][j][k] = src[i][j][k]`` (``dim=0``), or ``= value``.

    ``src`` may be a tensor or a number (then it is ``value``). Gradients: ``input`` gets ``gy``
    zeroed at the written positions, ``src`` gets ``gather(gy, dim, index)``.
    """
    if src is None and value is None:
        raise TypeError("scatter() expected a 'src' tensor or a 'value'")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if isinstance(value, Tensor):
        value = value.item()
    if input._data.ndim == 0:
        s = _as_1d(src) if src is not None else None
        return scatter(_as_1d(input), 0, _as_1d(index), s, value=value).reshape(())
    d, idx = _scatter_args(input, dim, index, src, "scatter")
    if src is None:
        if not isinstance(value, numbers.Number):
            raise TypeError(f"scatter(): value must be a number, got {type(value).__name__}")
        return Scatter(d, idx, input._data.dtype.type(value)).apply(input)
    return Scatter(d, idx).apply(input, src)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Slices of ``input`` at positions ``index`` (1-d) along ``dim``; ``index`` may repeat."""
    idx = _index(index, "index_select", "int32 or int64")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    if input._data.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size}")
        return index_select(_as_1d(input), 0, Tensor._make(idx)).reshape(())
    d = wrap_dim(dim, input._data.ndim)
    return IndexSelectBy(d).apply(input, index)  # checks the range of the indices


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``out = input`` with ``out[.., index[k], ..] += alpha * source[.., k, ..]`` along ``dim``."""
    idx = _index(index, "index_add_", "int32 or int64")
    if idx.ndim > 1:
        raise IndexError("index_add_(): Index is supposed to be a vector")
    if input._data.ndim == 0:
        return index_add(_as_1d(input), 0, index, _as_1d(source), alpha=alpha).reshape(())
    d = wrap_dim(dim, input._data.ndim)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"index_add_(): self ({input.dtype}) and source ({source.dtype}) must have the same scalar type")
    src_shape = source._data.shape if source._data.ndim else (1,)
    if len(src_shape) != input._data.ndim or any(
            a != b for k, (a, b) in enumerate(zip(src_shape, input._data.shape)) if k != d):
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified dimension. Got "
            f"self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    if src_shape[d] != idx.size:
        raise RuntimeError(
            f"index_add_(): Number of indices ({idx.size}) should be equal to source.size(dim): "
            f"({src_shape[d]}), for dim: {d}")
    flat = prepared(index, _vector_in_range, input._data.shape[d], d)  # checks the range
    return IndexAdd(d, flat, alpha).apply(input, source.reshape(src_shape))


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` where ``input`` and ``indices`` broadcast against each other outside ``dim``
    (``dim=None``: both are flattened). Negative indices count from the end."""
    idx = _index(indices, "take_along_dim", "int64")
    if dim is None:
        return take_along_dim(input.reshape(-1), indices.reshape(-1), 0)
    if input._data.ndim != idx.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, but got "
            f"{input._data.ndim} dimensions for input, and {idx.ndim} dimensions for indices")
    if input._data.ndim == 0:
        return gather(input, 0, indices)
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    rest = [k for k in range(input._data.ndim) if k != d]
    try:  # the dims outside ``d`` broadcast as in elementwise operators (a 1 against a 0 gives 0)
        common = list(np.broadcast_shapes(*(tuple(shape[k] for k in rest) for shape in (input._data.shape, idx.shape))))
    except ValueError:
        raise RuntimeError(
            f"take_along_dim(): input {list(input.shape)} and indices {list(idx.shape)} cannot be broadcast "
            f"outside dimension {d}") from None
    x_shape = tuple(common[:d] + [n] + common[d:])
    i_shape = tuple(common[:d] + [idx.shape[d]] + common[d:])
    x = broadcast_to(input, x_shape)
    return Gather(d, prepared(indices, _wrapped_along, n, d, i_shape)).apply(x)  # checks the range


__all__ = ["gather", "scatter", "scatter_add", "index_select", "index_add", "take_along_dim"]

TENSOR_METHODS = __all__  # the in-place forms (scatter_ ...) are in inplace.py
