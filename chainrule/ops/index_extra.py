"""Writing at indices: ``index_copy``/``index_fill``/``index_put``/``index_reduce``, ``scatter_reduce``,
``masked_scatter``, ``select_scatter``/``slice_scatter``, ``put`` and their in-place methods, and
``fill_diagonal_``.

``scatter_reduce`` is one node whose backward is PyTorch's (``sum``: the gradient, gathered for
``src``; ``prod``: the product of the others; ``mean``: divided by the count; ``amax``/``amin``:
shared evenly between the inputs equal to the result), written with differentiable operators so
double backward works; its constants (the starting counts of ``mean``, zeros) come from sizes
alone and are marked so (``kernels.tables.size_only``), which lets a recorded backward schedule
(``chainrule.compile``) keep them. ``index_reduce`` is ``scatter_reduce`` with the index spread
over the source. The copies and fills are ``scatter``/``where`` compositions.

What an operator reads of an index or mask tensor (the index checked, flattened, spread over the
source, a fill mask, ``put``'s wrapped flat index, ``masked_scatter``'s source positions) is made
by ``scatter.PreparedIndex`` nodes, whose ``forward`` also raises the range errors, so a graph
capture replays them with each call's indices; positions that come from the caller's numbers
and sizes alone (``select_scatter``, ``slice_scatter``, ``diagonal_scatter``) are ``size_only``.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd import capture
from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import is_grad_enabled
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import broadcast_error, check_tensor, torch_type_name, wrap_dim
from .compare import eq
from .elementwise import where
from .indexing import GetItem, IndexAccumulate, IndexPut, SetItem, normalize_index
from .inplace import _apply
from .reshaping import DiagonalFill, _diag_index
from .scatter import (
    Gather,
    Scatter,
    _check_index_shape,
    _grid,
    _in_range_int64,
    _region,
    preparation,
    prepared,
    scatter,
    scatter_add,
)
from .shape import broadcast_to, reshape

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


# ---- scatter_reduce ----------------------------------------------------------------------------
class ScatterReduce(FunctionNode):
    """``out = input``; ``out[index[i][j]][j] (op)= src[i][j]`` (``dim=0``) for op in sum, prod,
    mean, amax, amin; without ``include_self`` the written positions start from ``src`` alone."""

    torch_name = "ScatterReduceBackward0"

    def __init__(self, dim: int, index, reduce: str, include_self: bool):
        self.dim, self.index, self.reduce, self.include_self = dim, index, reduce, include_self

    def forward(self, x, src):
        xp = self.xp
        grid = _grid(self.index, self.dim)
        s = src[_region(self.index.shape)]
        self.src_shape = src.shape
        out = x.copy()
        r = self.reduce
        if not self.include_self:
            ident: float | bool  # the reduction's identity, written where the index lands
            if r in ("sum", "mean"):
                ident = 0
            elif r == "prod":
                ident = 1
            elif x.dtype.kind == "f":
                ident = -np.inf if r == "amax" else np.inf
            else:
                info = np.iinfo(x.dtype) if x.dtype.kind in "iu" else None
                ident = (info.min if r == "amax" else info.max) if info else (r == "amin")
            out[grid] = ident
        ufunc = {"sum": xp.add, "mean": xp.add, "prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[r]
        ufunc.at(out, grid, s)
        if r == "mean":
            count = xp.full(x.shape, 1 if self.include_self else 0, dtype=np.int64)
            xp.add.at(count, grid, 1)
            count[count == 0] = 1
            if out.dtype.kind == "f":
                out = (out / count).astype(x.dtype, copy=False)
            else:
                out = (out // count).astype(x.dtype, copy=False)
        self.save_for_backward(x, src, out)
        return out

    def backward(self, grad):
        x, src, result = self.saved_tensors
        d, index, r = self.dim, self.index, self.reduce
        idx_t = Tensor._make(index)
        s = src if tuple(src.shape) == tuple(index.shape) else GetItem(_region(index.shape)).apply(src)
        if r == "sum":
            g_self, g_src = grad, Gather(d, index).apply(grad)
        elif r == "mean":
            xp = backend.array_module(x._data)
            n = size_only(xp.full(x.shape, 1.0 if self.include_self else 0.0, dtype=x._data.dtype))
            n_t = scatter_add(Tensor._make(n), d, idx_t, Tensor._make(size_only(xp.ones(index.shape, dtype=n.dtype))))
            n_t = where(eq(n_t, 0), 1.0, n_t)
            g_self = grad / n_t
            g_src = Gather(d, index).apply(grad) / Gather(d, index).apply(n_t)
        elif r == "prod":
            masked_self = where(eq(x, 0), 1.0, x)
            masked_self_result = scatter_reduce(masked_self, d, idx_t, s, "prod", include_self=self.include_self)
            g_self = grad * masked_self_result / masked_self
            src_zero = eq(s, 0)
            zeros_x = Tensor._make(size_only(np.zeros(x.shape, dtype=x._data.dtype)))
            n_zeros = Gather(d, index).apply(scatter_add(zeros_x, d, idx_t, src_zero.to(x.dtype)))
            single = src_zero & eq(n_zeros, 1)
            masked_src = where(single, 1.0, s)
            masked_src_result = scatter_reduce(x, d, idx_t, masked_src, "prod", include_self=self.include_self)
            g_src = where(single, Gather(d, index).apply(grad * masked_src_result),
                          Gather(d, index).apply(grad * result) / where(src_zero, 1.0, s))
        else:  # amax / amin: shared evenly between the inputs equal to the result
            value = Gather(d, index).apply(result)
            self_is = eq(x, result).to(x.dtype)
            src_is = eq(s, value).to(x.dtype)
            n_dist = scatter_add(self_is, d, idx_t, src_is)
            g_dist = grad / n_dist
            g_self = self_is * g_dist
            g_src = src_is * Gather(d, index).apply(g_dist)
        if not self.include_self:
            g_self = scatter(g_self, d, idx_t, 0.0)
        if tuple(self.src_shape) != tuple(index.shape):
            g_src = IndexAccumulate(_region(index.shape), self.src_shape).apply(g_src)
        return g_self, g_src


def _check_reduce(reduce: str, op: str, allowed) -> str:
    if op == "scatter_reduce":
        reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # PyTorch's legacy spellings
        if reduce not in allowed:
            raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    elif reduce not in allowed:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    return reduce


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``out = input`` with ``src[i][j]`` reduced into ``out[index[i][j]][j]`` (``dim=0``) by
    ``reduce`` in sum, prod, mean, amax, amin; ``include_self=False`` leaves ``input``'s values
    at the written positions out of the reduction."""
    check_tensor(input, "scatter_reduce")
    check_tensor(src, "scatter_reduce", "src")
    check_tensor(index, "scatter_reduce", "index")
    reduce = _check_reduce(reduce, "scatter_reduce", _REDUCTIONS)
    if index.dtype not in (backend.int64, backend.int32):
        raise RuntimeError("scatter_reduce(): Expected dtype int32/int64 for index")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if input.ndim == 0:
        return reshape(scatter_reduce(reshape(input, (1,)), 0, reshape(index, (1,)), reshape(src, (1,)), reduce,
                                      include_self=include_self), ())
    d = wrap_dim(dim, input.ndim)
    _check_index_shape(d, input._data.shape, index._data.shape, src._data.shape)
    idx = prepared(index, _in_range_int64, input.shape[d], d)  # checks the range
    return ScatterReduce(d, idx, reduce, bool(include_self)).apply(input, src)


# ---- index_* along one dimension ---------------------------------------------------------------------
def _index_vector(index, op: str) -> np.ndarray:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype is not backend.int64:
        if op == "index_fill_":
            raise IndexError("index_fill_(): Expected dtype int64 for index.")
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {torch_type_name(index)}")
    if index.ndim > 1:
        if op == "index_copy_":
            raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    return index._data.reshape(-1)


def _check_index_bounds(idx: np.ndarray, n: int, d: int, prefix: str = "") -> None:
    if idx.size:
        bad = idx[(idx < 0) | (idx >= n)] if prefix else idx[(idx < -n) | (idx >= n)]
        if bad.size:
            raise IndexError(f"{prefix}index {int(bad[0])} is out of bounds for dimension {d} with size {n}")


def _spread(idx: np.ndarray, d: int, shape: tuple) -> np.ndarray:
    """The 1-d slice index ``idx`` along ``d`` as a full scatter index of ``shape``."""
    view = [1] * len(shape)
    view[d] = len(idx)
    return np.broadcast_to(idx.reshape(view), shape).copy()


@preparation
def _spread_in_range(xp, index, n: int, d: int, shape: tuple, op: str) -> np.ndarray:
    """The slice index of ``index_copy``/``index_reduce``: ``index`` flattened, as int64, checked
    in [0, n) (``op``'s message) and spread over ``shape`` (``_spread``)."""
    idx = index.reshape(-1).astype(np.int64)
    _check_index_bounds(idx, n, d, f"{op}(): ")
    return _spread(idx, d, shape)


def _check_source(input: Tensor, d: int, n_index: int, source: Tensor, op: str) -> None:
    """``source``'s shape fits ``input`` and ``n_index`` indices along ``d`` (the index values are
    checked by ``_spread_in_range``)."""
    src_shape = tuple(source.shape) if source.ndim else (1,)
    in_shape = tuple(input.shape) if input.ndim else (1,)
    if len(src_shape) != len(in_shape):
        raise IndexError(f"{op}(): When source and destination are not scalars, their dimensionality must match. "
                         f"Source dimensionality ({source.ndim}), destination dimensionality ({input.ndim})")
    for k in range(len(in_shape)):
        if k != d and src_shape[k] != in_shape[k]:
            j = k - (k > d)  # the dimension within the slice
            raise RuntimeError(f"{op}(): Source/destination tensor must have same slice shapes. Destination slice "
                               f"shape: {in_shape[k]} at dimension {j} and source slice shape: {src_shape[k]} at "
                               f"dimension {j}.")
    if src_shape[d] != n_index:
        raise IndexError(f"{op}(): Number of indices ({n_index}) should be equal to source.size(dim) "
                         f"({src_shape[d]})")


@named_output("IndexCopyBackward0")
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``out = input`` with the slices ``out[.., index[k], ..] = source[.., k, ..]`` along ``dim``."""
    check_tensor(input, "index_copy")
    check_tensor(source, "index_copy", "source")
    idx = _index_vector(index, "index_copy_")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{torch_type_name(input)} and (source) {torch_type_name(source)}")
    x, src = (reshape(input, (1,)) if input.ndim == 0 else input), (reshape(source, (1,)) if source.ndim == 0
                                                                    else source)
    d = wrap_dim(dim, x.ndim)
    _check_source(x, d, idx.size, src, "index_copy_")
    spread = prepared(index, _spread_in_range, x.shape[d], d, tuple(src.shape), "index_copy_")  # checks the range
    out = Scatter(d, spread).apply(x, src)
    return reshape(out, ()) if input.ndim == 0 else out


def _fill_mask(shape: tuple, d: int, idx: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[d] if shape else 1, dtype=bool)
    mask[idx] = True
    view = [1] * len(shape)
    if shape:
        view[d] = shape[d]
    return mask.reshape(view)


@preparation
def _fill_mask_in_range(xp, index, n: int, d: int, shape: tuple) -> np.ndarray:
    """``index_fill``'s mask (``_fill_mask``) of ``index`` flattened, checked in [-n, n)."""
    idx = index.reshape(-1)
    _check_index_bounds(idx, n, d)
    return _fill_mask(shape, d, idx)


@named_output(lambda input, dim, index, value: "IndexFillBackward1" if isinstance(value, Tensor)
              else "IndexFillBackward0")
def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """``out = input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number or 0-d tensor)."""
    check_tensor(input, "index_fill")
    _index_vector(index, "index_fill_")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        value = value.to(input.dtype)
    elif not isinstance(value, numbers.Number):
        raise TypeError(f"index_fill(): argument 'value' must be Number or Tensor, not {type(value).__name__}")
    d = wrap_dim(dim, max(input.ndim, 1))
    n = input.shape[d] if input.ndim else 1
    mask = prepared(index, _fill_mask_in_range, n, d, tuple(input.shape))  # checks the range
    if isinstance(value, Tensor):
        return where(mask, value, input)
    v = capture.literal(Tensor._make(np.asarray(value).astype(input._data.dtype)))  # the caller's number
    return where(mask, v, input)


@named_output("IndexReduceBackward0")
def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``out = input`` with the slices ``source[.., k, ..]`` reduced into ``out[.., index[k], ..]``
    by ``reduce`` in prod, mean, amax, amin (``scatter_reduce`` with the index spread over ``source``)."""
    check_tensor(input, "index_reduce")
    check_tensor(source, "index_reduce", "source")
    reduce = _check_reduce(reduce, "index_reduce", ("prod", "mean", "amax", "amin"))
    if not isinstance(index, Tensor) or index.dtype not in (backend.int64, backend.int32):
        raise RuntimeError("index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{getattr(index, 'dtype', type(index).__name__)}")
    if index.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    n_index = index._data.size
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_reduce_(): self ({torch_type_name(input)}) and source ({torch_type_name(source)}) "
                           "must have the same scalar type")
    x, src = (reshape(input, (1,)) if input.ndim == 0 else input), (reshape(source, (1,)) if source.ndim == 0
                                                                    else source)
    d = wrap_dim(dim, x.ndim)
    _check_source(x, d, n_index, src, "index_reduce_")
    spread = prepared(index, _spread_in_range, x.shape[d], d, tuple(src.shape), "index_reduce_")  # checks the range
    out = ScatterReduce(d, spread, reduce, bool(include_self)).apply(x, src)
    return reshape(out, ()) if input.ndim == 0 else out


# ---- index_put / put ----------------------------------------------------------------------------------
def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """``out = input.clone(); out[indices] = values`` (``+= values`` with ``accumulate``, where
    repeated positions add up); ``indices`` is a tuple of index tensors (or None) as in ``x[...]``."""
    check_tensor(input, "index_put")
    check_tensor(values, "index_put", "values")
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    if values.dtype is not input.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{torch_type_name(input)} for the destination and {torch_type_name(values)} for the source.")
    if len(indices) > max(input.ndim, 1):
        raise IndexError(f"too many indices for tensor of dimension {input.ndim} (got {len(indices)})")
    idx = normalize_index(input, tuple(slice(None) if i is None else i for i in indices))
    _check_fits(values, input, idx)
    return IndexPut(idx, bool(accumulate)).apply(input, values)


def _check_fits(values: Tensor, input: Tensor, idx) -> None:
    """``values`` broadcasts to ``input[idx]``'s shape (without adding dimensions), or PyTorch's error."""
    target = np.empty(input.shape, dtype=np.bool_)[idx].shape
    try:
        fits = len(np.broadcast_shapes(tuple(values.shape), target)) == len(target)
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(target)}")


def setitem(self: Tensor, index, value) -> None:
    """``x[index] = value``. Where autograd records it (grad mode on, and ``x`` or ``value`` requiring
    grad), ``x`` becomes the result of ``index_put`` on its old value (``SetItem``, named as PyTorch's
    ``CopySlices``): the gradient of the old ``x`` is zero at the written positions, that of
    ``value`` the output gradient there (summed where ``value`` was broadcast). The values are
    written into ``x``'s memory, nothing else of it is copied. ``x`` must not be a leaf that requires
    grad; where ``x`` is a view (``x.t()[0] = v``, ``x.view(-1)[idx] = v``), the write is recorded into
    its base (``ops/inplace._through_view``). ``value`` is cast to ``x``'s dtype. Without autograd, a
    plain write into ``x``'s memory."""
    idx = normalize_index(self, index)
    if not self._data.flags.writeable:
        raise RuntimeError("cannot assign into a read-only (broadcast) view; clone it first")
    if is_grad_enabled() and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
        v = value if isinstance(value, Tensor) else capture.literal(  # the caller's numbers
            Tensor._make(np.asarray(value, dtype=self._data.dtype)))
        if v._data.dtype != self._data.dtype:
            v = v.to(self.dtype)
        _check_fits(v, self, idx)
        _apply(self, lambda s, w: SetItem(idx, False).apply(s, w), v, saves_self=False)
        return
    capture.effect(_assign, self, idx, value)  # a write a compiled graph repeats


def _assign(t: Tensor, idx: tuple, value) -> None:
    """``t``'s memory at ``idx`` <- ``value`` (a write outside the graph)."""
    t._data[idx] = value._data if isinstance(value, Tensor) else value
    t._bump_version()


_assign.reads_only = (2,)  # type: ignore[attr-defined]  # the value (capture.effect)


@preparation
def _flat_in_range(xp, index, n: int) -> np.ndarray:
    """``put``'s index: ``index`` flattened, checked in [-n, n), negative entries counted from the end."""
    flat_idx = index.reshape(-1)
    if flat_idx.size and (flat_idx.max() >= n or flat_idx.min() < -n):
        bad = int(flat_idx.max() if flat_idx.max() >= n else flat_idx.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return np.where(flat_idx < 0, flat_idx + n, flat_idx)


@named_output("PutBackward0")
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """``out = input.clone(); out.flatten()[index] = source`` (``+=`` with ``accumulate``)."""
    check_tensor(input, "put")
    check_tensor(source, "put", "source")
    if not isinstance(index, Tensor) or index.dtype is not backend.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{torch_type_name(index) if isinstance(index, Tensor) else type(index).__name__}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {torch_type_name(input)} and source.dtype = {torch_type_name(source)}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    flat_idx = prepared(index, _flat_in_range, input.numel())  # checks the range
    out = IndexPut((flat_idx,), bool(accumulate)).apply(reshape(input, (-1,)), reshape(source, (-1,)))
    return reshape(out, tuple(input.shape))


# ---- masked / select / slice scatter --------------------------------------------------------------------
@named_output("MaskedScatterBackward0")
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``out = input`` with the positions where ``mask`` holds (row-major) taking consecutive
    elements of ``source``; ``input`` and ``mask`` broadcast together."""
    check_tensor(input, "masked_scatter")
    check_tensor(mask, "masked_scatter", "mask")
    check_tensor(source, "masked_scatter", "source")
    if mask.dtype is not backend.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{torch_type_name(mask)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"  # (sic, torch)
                           f"{torch_type_name(input)} and {torch_type_name(source)}")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    except ValueError:
        raise broadcast_error(input._data, mask._data) from None
    pos = prepared(mask, _mask_positions, shape, source.numel())  # checks the count
    taken = GetItem((pos,)).apply(reshape(source, (-1,))) if source.numel() else broadcast_to(
        Tensor._make(size_only(np.zeros((), dtype=input._data.dtype))), shape)
    return where(prepared(mask, _broadcast_mask, shape), taken, broadcast_to(input, shape))


@preparation
def _mask_positions(xp, mask, shape: tuple, n_source: int) -> np.ndarray:
    """``masked_scatter``'s index into the flattened source: the number of earlier set positions
    of ``mask`` (broadcast to ``shape``) where it is set, 0 elsewhere; raises PyTorch's error
    when the mask sets more positions than the source has elements."""
    m = np.broadcast_to(mask, shape)
    k = int(m.sum())
    if k > n_source:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    pos = np.cumsum(m.reshape(-1)) - 1
    return np.where(m.reshape(-1), pos, 0).reshape(shape)


@preparation
def _broadcast_mask(xp, mask, shape: tuple) -> np.ndarray:
    """``mask`` broadcast to ``shape``, contiguous."""
    return np.ascontiguousarray(np.broadcast_to(mask, shape))


def _dim_positions(input: Tensor, d: int, positions: np.ndarray, src: Tensor) -> Tensor:
    """``input`` with ``src`` written at the slices ``positions`` along ``d`` (from the
    caller's numbers and sizes: a constant of a graph capture)."""
    return Scatter(d, size_only(_spread(positions, d, tuple(src.shape)))).apply(input, src)


@named_output("SelectScatterBackward0")
def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """``out = input.clone(); out.select(dim, index) = src``."""
    check_tensor(input, "select_scatter")
    check_tensor(src, "select_scatter", "src")
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    want = tuple(input.shape[:d]) + tuple(input.shape[d + 1:])
    if tuple(src.shape) != want:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(want)}")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    return _dim_positions(input, d, np.array([index % n]), src.unsqueeze(d))


@named_output("SliceScatterBackward0")
def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
                  step: int = 1) -> Tensor:
    """``out = input.clone(); out[.., start:end:step, ..] = src`` along ``dim``."""
    check_tensor(input, "slice_scatter")
    check_tensor(src, "slice_scatter", "src")
    d = wrap_dim(dim, max(input.ndim, 1))
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    positions = np.arange(input.shape[d])[slice(start, end, step)]
    want = tuple(input.shape[:d]) + (len(positions),) + tuple(input.shape[d + 1:])
    if tuple(src.shape) != want:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(want)}")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if len(positions) == 0:
        return input.clone()
    return _dim_positions(input, d, positions, src)


@named_output("DiagonalScatterBackward0")
def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``out = input.clone(); out.diagonal(offset, dim1, dim2) = src``."""
    check_tensor(input, "diagonal_scatter")
    check_tensor(src, "diagonal_scatter", "src")
    d1, d2 = wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = tuple(input.shape)
    rows, cols = _diag_index(shape, int(offset), d1, d2)
    want = tuple(n for k, n in enumerate(shape) if k not in (d1, d2)) + (len(rows),)
    if tuple(src.shape) != want:
        raise RuntimeError(f"expected src to have a size equal to the diagonal of self. src size = "
                           f"{list(src.shape)}, diagonal size = {list(want)}")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    mask = size_only(np.zeros(shape, dtype=bool))  # from sizes alone: a constant of a graph capture
    np.moveaxis(mask, (d1, d2), (-2, -1))[..., rows, cols] = True
    placed = DiagonalFill(shape, int(offset), d1, d2).apply(src)
    return where(Tensor._make(mask), placed, input)


# ---- in-place methods ---------------------------------------------------------------------------------
def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    return _apply(self, lambda s, v: index_copy(s, dim, index, v), source, saves_self=False)


def index_fill_(self: Tensor, dim: int, index: Tensor, value) -> Tensor:
    if isinstance(value, Tensor):
        return _apply(self, lambda s, v: index_fill(s, dim, index, v), value, saves_self=False)
    return _apply(self, lambda s: index_fill(s, dim, index, value), saves_self=False)


def index_put_(self: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    return _apply(self, lambda s, v: index_put(s, indices, v, accumulate), values, saves_self=False)


def index_reduce_(self: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                  include_self: bool = True) -> Tensor:
    return _apply(self, lambda s, v: index_reduce(s, dim, index, v, reduce, include_self=include_self), source)


def scatter_reduce_(self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    return _apply(self, lambda s, v: scatter_reduce(s, dim, index, v, reduce, include_self=include_self), src)


def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    if mask.ndim > self.ndim or tuple(np.broadcast_shapes(tuple(mask.shape), tuple(self.shape))) != tuple(self.shape):
        raise RuntimeError(f"masked_scatter_: expected mask to be broadcastable to self's shape {list(self.shape)}, "
                           f"got {list(mask.shape)}")
    return _apply(self, lambda s, v: masked_scatter(s, mask, v), source, saves_self=False)


def put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    return _apply(self, lambda s, v: put(s, index, v, accumulate), source, saves_self=False)


def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Fill the main diagonal (all indices equal) with ``fill_value``; for a tall matrix ``wrap``
    restarts the diagonal every ``ncols + 1`` rows, as NumPy's ``fill_diagonal``."""
    nd = self.ndim
    if is_grad_enabled() and self._requires_grad and self.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if nd < 2:
        raise RuntimeError("dimensions must larger than 1")
    if nd > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(tuple(self.shape), dtype=bool)
    np.fill_diagonal(mask, True, wrap=bool(wrap))
    m = Tensor._make(mask)
    value = Tensor._make(np.asarray(fill_value).astype(self._data.dtype))
    return _apply(self, lambda s: where(m, value, s), saves_self=False)


__all__ = ["scatter_reduce", "index_copy", "index_fill", "index_reduce", "index_put", "put", "masked_scatter",
           "select_scatter", "slice_scatter", "diagonal_scatter"]

TENSOR_METHODS = __all__ + ["index_copy_", "index_fill_", "index_put_", "index_reduce_", "scatter_reduce_",
                            "masked_scatter_", "put_", "fill_diagonal_"]
