"""Counting and searching: ``unique``, ``unique_consecutive``, ``bincount``, ``histc``,
``histogram``, ``searchsorted``, ``bucketize``, ``isin``.

Their results are integers, counts or positions: piecewise constant in the input, so none of
them records a gradient (as in PyTorch). Those whose result's shape follows from the shapes and
arguments alone (``histc``, ``searchsorted``, ``bucketize``, ``isin``) compute it in a node
(``special_math.Values``), so that a graph capture replays them on new values; the others'
shapes depend on the values (the number of distinct values, the largest value, the data's range
of edges), which no replay can repeat.
"""

from __future__ import annotations

import numbers
from typing import Literal

import numpy as np

from .. import return_types
from ..tensor import Tensor
from ._util import check_tensor, to_tensor, torch_type_name, wrap_dim
from .special_math import no_grad_values

_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double"}
histogram_result = return_types.structseq("histogram", ("hist", "bin_edges"))


def _array(a, dtype=None):
    """``a`` as a C-contiguous array of ``dtype`` (its own without)."""
    a = np.asarray(a) if dtype is None else np.asarray(a).astype(dtype)
    return a if a.flags.c_contiguous else a.copy()


def _make(a, dtype=None) -> Tensor:
    return Tensor._make(_array(a, dtype))


def _unique_result(values, inverse, counts, return_inverse: bool, return_counts: bool):
    if not return_inverse and not return_counts:
        return _make(values)
    out = [_make(values)]
    if return_inverse:
        out.append(_make(inverse, np.int64))
    if return_counts:
        out.append(_make(counts, np.int64))
    return tuple(out)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None):
    """The distinct elements (``dim=None``) or distinct slices along ``dim``, in ascending order.

    ``return_inverse`` adds, for each input element (slice), the index of its value in the
    output; ``return_counts`` the number of times each output value occurs. NaNs are all distinct.
    """
    x = check_tensor(input, "unique")
    data = x._data
    if dim is None:
        flat = data.reshape(-1)
        vals, inv, cnt = np.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        return _unique_result(vals, np.reshape(inv, data.shape), cnt, return_inverse, return_counts)
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, x.ndim)
    if data.shape[d] == 0:
        if any(s == 0 for i, s in enumerate(data.shape) if i != d) or data.ndim == 1:
            return _unique_result(data, np.zeros(0), np.zeros(0), return_inverse, return_counts)
        raise RuntimeError("Number of zero sized dimensions is more than one, so unique cannot be applied ")
    vals, inv, cnt = np.unique(data, return_inverse=True, return_counts=True, axis=d)
    return _unique_result(vals, np.reshape(inv, -1), cnt, return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """Collapse each run of equal consecutive elements (slices along ``dim``) to one."""
    x = check_tensor(input, "unique_consecutive")
    data = x._data
    if dim is None:
        flat = data.reshape(-1)
        d, moved = 0, flat
    else:
        if data.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = wrap_dim(dim, data.ndim)
        moved = np.moveaxis(data, d, 0)
    n = moved.shape[0]
    if n == 0:
        return _unique_result(moved if dim is None else data, np.zeros(data.shape if dim is None else 0),
                              np.zeros(0), return_inverse, return_counts)
    change = np.ones(n, bool)
    if n > 1:
        neq = moved[1:] != moved[:-1]
        change[1:] = neq.reshape(n - 1, -1).any(axis=1) if neq.ndim > 1 else neq
    starts = np.flatnonzero(change)
    inverse = np.cumsum(change) - 1
    counts = np.diff(np.append(starts, n))
    vals = moved[starts]
    if dim is not None:
        vals = np.moveaxis(vals, 0, d)
    else:
        inverse = inverse.reshape(x.shape)
    return _unique_result(vals, inverse, counts, return_inverse, return_counts)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Counts of each value 0..max(input) of a 1-D non-negative integer tensor (or sums of ``weights``)."""
    x = check_tensor(input, "bincount")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if x._data.dtype.kind in "fb":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{torch_type_name(x)}'")
    if x.ndim != 1 or x._data.dtype.kind not in "iub" or (x.numel() and x._data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    data = x._data.astype(np.int64)
    if weights is None:
        return _make(np.bincount(data, minlength=minlength), np.int64)
    w = check_tensor(weights, "bincount", "weights")
    if w.ndim != 1 or w.numel() != x.numel():
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dtype = np.float32 if w._data.dtype == np.float32 else np.float64
    return _make(np.bincount(data, weights=w._data.astype(np.float64), minlength=minlength), dtype)


def _float_only(x: Tensor, what: str = "histogram") -> None:
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{what}_cpu\" not implemented for '{torch_type_name(x)}'")


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts in ``bins`` equal bins over [min, max] (the data's range when min == max); values
    outside are ignored, the last bin includes ``max``."""
    x = check_tensor(input, "histc")
    _float_only(x)
    if bins <= 0:
        raise RuntimeError("torch.histc(): bins must be > 0, but got " + str(bins) + " for dimension 0")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    return no_grad_values(lambda xp, a: _histc(a, int(bins), lo, hi), x)


def _histc(x, bins: int, lo: float, hi: float):
    """``histc``'s counts of the array ``x`` (over its own range when ``lo == hi``)."""
    data = x.reshape(-1)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    counts, _ = np.histogram(data[~np.isnan(data)], bins=bins, range=(lo, hi))
    return _array(counts, x.dtype)


def histogram(input: Tensor, bins=100, *, range=None, weight: Tensor | None = None,  # noqa: A002
              density: bool = False):
    """``(hist, bin_edges)``: counts (or ``weight`` sums; a density with ``density=True``) in ``bins``
    equal bins over ``range`` (the data's range by default), or in the bins a 1-D tensor of edges gives."""
    x = check_tensor(input, "histogram")
    _float_only(x)
    data = x._data.reshape(-1)
    if isinstance(bins, Tensor):
        if bins.ndim != 1:
            raise RuntimeError(f"histogram(): bins tensor should have one dimension, but got {bins.ndim} dimensions")
        edges = bins._data.astype(x._data.dtype)
    else:
        if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins <= 0:
            raise RuntimeError(f"histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
            if lo > hi:
                raise RuntimeError(f"histogram(): min should not exceed max, but got min {lo} max {hi}")
        else:
            lo, hi = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, int(bins) + 1).astype(x._data.dtype)
    w = None
    if weight is not None:
        w = check_tensor(weight, "histogram", "weight")
        if w._data.dtype != x._data.dtype:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor and weight tensor should "
                               f"have the same dtype, but got input({_C_NAMES.get(x.dtype.name)}), and weight("
                               f"{_C_NAMES.get(w.dtype.name)})")
        if tuple(w.shape) != tuple(x.shape):
            raise RuntimeError("histogram(): if weight tensor is provided it should have the same shape as the "
                               f"input tensor excluding its innermost dimension, but got input with shape "
                               f"{tuple(x.shape)} and weight with shape {tuple(w.shape)}")
        w = w._data.reshape(-1)
    hist, _ = np.histogram(data, bins=edges.astype(np.float64), weights=w, density=bool(density))
    return histogram_result(_make(hist, x._data.dtype), _make(edges))


histogramdd_result = return_types.structseq("histogramdd", ("hist", "bin_edges"))


def histogramdd(input: Tensor, bins=10, *, range=None, weight: Tensor | None = None,  # noqa: A002
                density: bool = False):
    """The D-dimensional histogram of the points in the last dimension of ``input`` (shape (..., D)).

    ``bins`` is an int, one int per dimension, or one 1-D tensor of edges per dimension; ``range``
    is [min_0, max_0, min_1, max_1, ...]. Returns ``(hist, bin_edges)`` with one edge tensor per dimension.
    """
    x = check_tensor(input, "histogramdd")
    _float_only(x, "histogramdd")
    if x.ndim < 2:
        raise RuntimeError(f"torch.histogramdd: input tensor should have at least 2 dimensions, but got {x.ndim}")
    d = x.shape[-1]
    data = x._data.reshape(-1, d)
    if isinstance(bins, numbers.Integral):
        bins = [int(bins)] * d
    bins = list(bins)
    if len(bins) != d:
        raise RuntimeError(f"torch.histogramdd: expected {d} sequences of bin edges for each of the {d} dimensions of "
                           f"the input, but got {len(bins)}")
    if range is not None and len(range) != 2 * d:
        raise RuntimeError(f"torch.histogramdd: for a {d}-dimensional histogram range should have {2 * d} elements, "
                           f"but got {len(range)}")
    edges = []
    for i, b in enumerate(bins):
        if isinstance(b, Tensor):
            edges.append(b._data.astype(x._data.dtype))
            continue
        if range is not None:
            lo, hi = float(range[2 * i]), float(range[2 * i + 1])
        else:
            col = data[:, i]
            lo, hi = (float(col.min()), float(col.max())) if col.size else (0.0, 0.0)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(np.linspace(lo, hi, int(b) + 1).astype(x._data.dtype))
    w = None
    if weight is not None:
        w = check_tensor(weight, "histogramdd", "weight")._data.reshape(-1)
    hist, _ = np.histogramdd(data, bins=[e.astype(np.float64) for e in edges], weights=w, density=bool(density))
    return histogramdd_result(_make(hist, x._data.dtype), tuple(_make(e) for e in edges))


def _searchsorted_side(right: bool, side: str | None) -> Literal["left", "right"]:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    if right and side == "left":
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left while "
                           "right was True")
    return "right" if side == "right" else "left"


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """For each value of ``input``, the index where it would be inserted into the last dimension of
    ``sorted_sequence`` to keep it sorted: the first such index (``side='left'``) or the last
    (``side='right'`` / ``right=True``). Leading dimensions of a N-d sequence match ``input``'s."""
    seq = check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    scalar = not isinstance(input, Tensor)
    values = to_tensor(input) if scalar else input
    how = _searchsorted_side(bool(right), side)
    if sorter is not None:
        if tuple(sorter.shape) != tuple(seq.shape):
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                               f"tensor {list(seq.shape)}and got sorter tensor {list(sorter.shape)}")
        if sorter._data.dtype != np.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{torch_type_name(sorter)}")
    s, v = seq._data, values._data
    if s.ndim > 1 and (scalar or v.ndim != s.ndim or v.shape[:-1] != s.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}")
    dtype = np.int32 if out_int32 else np.int64
    inputs = (seq, values) if sorter is None else (seq, values, sorter)
    return no_grad_values(lambda xp, *arrays: _searchsorted(*arrays, how=how, dtype=dtype), *inputs)


def _searchsorted(s, v, sorter=None, *, how: Literal["left", "right"], dtype):
    """``searchsorted``'s positions on arrays (shapes checked by the caller)."""
    if sorter is not None:
        s = np.take_along_axis(s, sorter, axis=-1)
    if s.ndim <= 1:
        return _array(np.searchsorted(s.reshape(-1), v, side=how), dtype)
    rows_s, rows_v = s.reshape(-1, s.shape[-1]), v.reshape(-1, v.shape[-1])
    out = np.stack([np.searchsorted(a, b, side=how) for a, b in zip(rows_s, rows_v)]) if rows_s.size else \
        np.zeros(rows_v.shape, np.int64)
    return _array(out.reshape(v.shape), dtype)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value: i with boundaries[i-1] < x <= boundaries[i] (``right=True``:
    boundaries[i-1] <= x < boundaries[i])."""
    b = check_tensor(boundaries, "bucketize", "boundaries")
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(b, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """True where an element of ``elements`` occurs in ``test_elements`` (False with ``invert=True``)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: two numbers")
    # an argument that is not a Tensor is a constant of the caller's code: kept by the function
    e_const = None if isinstance(elements, Tensor) else np.asarray(elements)
    t_const = None if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    unique, inv = bool(assume_unique), bool(invert)

    def fn(xp, *arrays):
        e = arrays[0] if e_const is None else e_const
        t = arrays[-1] if t_const is None else t_const
        return _array(np.isin(e, t, assume_unique=unique, invert=inv).reshape(np.shape(e)))

    return no_grad_values(fn, *[a for a in (elements, test_elements) if isinstance(a, Tensor)])


__all__ = ["unique", "unique_consecutive", "bincount", "histc", "histogram", "histogramdd", "searchsorted", "bucketize",
           "isin"]

TENSOR_METHODS = ["unique", "unique_consecutive", "bincount", "histc", "histogram"]
