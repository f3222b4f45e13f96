"""Sorting and order statistics: ``sort``, ``argsort``, ``topk``, ``kthvalue``, ``median``, ``cumprod``.

``sort``, ``topk``, ``kthvalue`` and ``median`` are one node, ``OrderPick``: it finds the order
(a permutation is piecewise constant in the input, so it has no derivative of its own) and reads
the values along it. Its gradient is a ``scatter_add`` into the positions the values came from,
whose gradient is a gather again, so every derivative here can be differentiated once more.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import backend, return_types
from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import is_grad_enabled
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import check_tensor, wrap_dim
from .elementwise import where
from .reduction import RevCumsum, _integer_to_long, prod
from .scatter import gather_grad
from .shape import expand, reshape, unsqueeze

sort_result = return_types.sort
topk_result = return_types.topk
kthvalue_result = return_types.kthvalue
median_result = return_types.median


def _order(data, dim: int, descending: bool):
    """Indices that sort ``data`` along ``dim``; stable, so equal values keep their order."""
    xp = backend.array_module(data)
    key = data
    if descending:
        if data.dtype == np.bool_:
            key = ~data
        elif data.dtype.kind == "u":
            key = data.max() - data if data.size else data
        else:
            key = -data
    return xp.argsort(key, axis=dim, kind="stable").astype(np.int64, copy=False)


class OrderPick(FunctionNode):
    """The values of ``x`` along ``dim`` in sorted order (``descending``) and their int64 indices,
    positions ``keep = (start, stop)`` of that order only (None: all): ``sort``, ``topk`` and the
    order statistics in one node, the order found in ``forward``. Being one node (rather than an
    order computed on the raw array, then a gather), a graph capture replays it on new values.
    Its gradient scatters into the positions the values came from (``scatter.gather_grad``).

    ``find(x, dim)``, where given, finds the positions instead of the order (an int64 array of
    ``x``'s shape, or of size 1 along ``dim``): the order statistics of ``statistics.py`` (``mode``,
    ``nanmedian``, ``cummax``) read their values with the same node."""

    def __init__(self, dim: int, descending: bool, keep: tuple | None = None, find=None):
        self.dim, self.descending, self.keep, self.find = dim, descending, keep, find

    def forward(self, x):
        if self.find is not None:
            index = self.find(x, self.dim)
        else:
            index = _order(x, self.dim, self.descending)
        if self.keep is not None:
            index = index[(slice(None),) * self.dim + (slice(*self.keep),)]
        self.index, self.in_shape = index, x.shape
        return self.xp.take_along_axis(x, index, axis=self.dim), index

    def backward(self, *grads):  # the values' gradient (a gather's); the indices (int64) get none
        return gather_grad(grads[0], self.index, self.dim, self.in_shape)


def _as_1d(x: Tensor) -> tuple[Tensor, bool]:
    return (reshape(x, (1,)), True) if x.ndim == 0 else (x, False)


def _result(result, values: Tensor, index: Tensor, was_0d: bool):
    """``result(values, indices)``, back to 0-d when the input was (``_as_1d`` undone)."""
    if was_0d:
        return result(reshape(values, ()), reshape(index, ()))
    return result(values, index)


@named_output("SortBackward0")
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """Sort along ``dim``: returns ``(values, indices)`` with ``values = input.gather(dim, indices)``.

    The sort is always stable here (equal elements keep their order), which also satisfies
    ``stable=False``. The gradient flows back to the position each value came from.
    """
    x = check_tensor(input, "sort")
    x1, was_0d = _as_1d(x)
    d = wrap_dim(dim, x1.ndim)
    values, index = OrderPick(d, bool(descending)).apply(x1)
    return _result(sort_result, values, index, was_0d)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices ``sort`` returns (an int64 tensor, not differentiable)."""
    return sort(input, dim, descending, stable).indices


def _check_k(k, size: int, name: str, lo: int) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name}(): argument 'k' must be int, not {type(k).__name__}")
    k = int(k)
    if not lo <= k <= size:
        what = "selected index k" if name == "topk" else "kthvalue(): selected number k"
        raise RuntimeError(f"{what} out of range (got k={k}, size along dim is {size})")
    return int(k)


@named_output("TopkBackward0")
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim`` and their indices.

    Results come sorted (largest first for ``largest=True``) whatever ``sorted`` says; PyTorch
    leaves the order unspecified when ``sorted=False``, so this is one of its allowed answers.
    """
    x = check_tensor(input, "topk")
    x1, was_0d = _as_1d(x)
    d = wrap_dim(dim, x1.ndim)
    k = _check_k(k, x1.shape[d], "topk", 0)
    values, index = OrderPick(d, bool(largest), (0, k)).apply(x1)
    return _result(topk_result, values, index, was_0d)


def _select_rank(x: Tensor, rank: int, dim: int, keepdim: bool, result, was_0d: bool):
    """The element of ascending ``rank`` (0-based) along ``dim``, as ``(values, indices)``."""
    values, index = OrderPick(dim, False, (rank, rank + 1)).apply(x)
    if not keepdim and not was_0d:
        shape = values.shape[:dim] + values.shape[dim + 1:]
        values, index = reshape(values, shape), reshape(index, shape)
    return _result(result, values, index, was_0d)


@named_output("KthvalueBackward0")
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest element (``k`` counts from 1) along ``dim``, with its index."""
    x = check_tensor(input, "kthvalue")
    x1, was_0d = _as_1d(x)
    d = wrap_dim(dim, x1.ndim)
    k = _check_k(k, x1.shape[d], "kthvalue", 1)
    return _select_rank(x1, k - 1, d, keepdim, kthvalue_result, was_0d)


@named_output(lambda input, dim=None, *a, **k: f"MedianBackward{0 if k.get('axis', dim) is None else 1}")
def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The median; for an even count the lower of the two middle values (PyTorch's convention).

    ``median(x)`` is a 0-d tensor over all elements; ``median(x, dim, keepdim=False)`` returns
    ``(values, indices)``. The gradient goes to the element selected.
    """
    x = check_tensor(input, "median")
    if dim is None:
        if x.numel() == 0:
            return Tensor._make(backend.array_module(x._data).full((), np.nan, dtype=x._data.dtype))
        flat = reshape(x, (x.numel(),))
        return reshape(_select_rank(flat, (flat.shape[0] - 1) // 2, 0, True, median_result, False).values, ())
    x1, was_0d = _as_1d(x)
    d = wrap_dim(dim, x1.ndim)
    if x1.shape[d] == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    return _select_rank(x1, (x1.shape[d] - 1) // 2, d, keepdim, median_result, was_0d)


# ---- cumulative product ---------------------------------------------------------------------------
class Cumprod(FunctionNode):
    """y_i = x_0 x_1 ... x_i along ``dim`` for inputs without zeros.

    dL/dx_j = sum_{i>=j} g_i y_i / x_j: a reversed cumulative sum divided by x. (Inputs holding a
    zero take the product route in ``cumprod`` instead, where this division is undefined.)
    """

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        y = self.xp.cumprod(x, axis=self.dim)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        return RevCumsum(self.dim).apply(gy * y) / x


def _cumprod_by_products(x: Tensor, dim: int) -> Tensor:
    """y_i = prod_j m_ij with m_ij = x_j for j <= i and 1 otherwise (handles zeros exactly)."""
    n = x.shape[dim]
    xp = backend.array_module(x._data)
    rows = unsqueeze(x, dim)  # dim is now i (size 1), dim + 1 is j
    full_shape = x.shape[:dim] + (n,) + x.shape[dim:]
    # from sizes alone (a constant of a compiled graph)
    lower = size_only(xp.tril(xp.ones((n, n), dtype=bool)).reshape((n, n) + (1,) * (x.ndim - dim - 1)))
    return prod(where(lower, expand(rows, full_shape), 1.0), dim + 1)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """y_i = x_0 x_1 ... x_i along ``dim``; integer inputs accumulate in int64 (as PyTorch)."""
    x = _integer_to_long(check_tensor(input, "cumprod"), dtype)
    if x.ndim == 0:
        wrap_dim(dim, 0)
        return reshape(cumprod(reshape(x, (1,)), 0), ())
    d = wrap_dim(dim, x.ndim)
    # read through operators (a guard under chainrule.compile): which way the gradient goes depends on it
    if x.requires_grad and is_grad_enabled() and bool((x == 0).any()):
        return _cumprod_by_products(x, d)
    return Cumprod(d).apply(x)


__all__ = ["sort", "argsort", "topk", "kthvalue", "median", "cumprod"]

TENSOR_METHODS = __all__
