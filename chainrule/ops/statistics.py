"""Statistics of a tensor: NaN-aware reductions, quantiles, mode, running extrema, covariance,
finite-difference gradients and trapezoidal integration.

Order statistics (``quantile``, ``nanmedian``, ``mode``, ``cummax``) find their positions on the
raw array and read the values with ``gather``, whose gradient (a ``scatter_add``) is again
differentiable; the rest are compositions of differentiable operators, so every derivative here
can be taken twice.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import return_types
from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import no_grad
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import check_tensor, float_operand, torch_type_name, wrap_dim, wrap_dims
from .compare import isnan, logical_not
from .elementwise import exp, log, sqrt, where
from .indexing import narrow
from .join import cat
from .reduction import amax, amin, cumsum
from .reduction import sum as _sum
from .scatter import Gather
from .shape import flip, movedim, reshape, unsqueeze
from .sorting import OrderPick, _order, sort

aminmax_result = return_types.structseq("aminmax", ("min", "max"))
mode_result = return_types.structseq("mode", ("values", "indices"))
cummax_result = return_types.structseq("cummax", ("values", "indices"))
cummin_result = return_types.structseq("cummin", ("values", "indices"))
nanmedian_result = return_types.structseq("nanmedian", ("values", "indices"))


def _as_1d(x: Tensor) -> tuple[Tensor, bool]:
    return (reshape(x, (1,)), True) if x.ndim == 0 else (x, False)


def _squeeze_dim(t: Tensor, dim: int) -> Tensor:
    return reshape(t, t.shape[:dim] + t.shape[dim + 1:])


def _picked(result, x: Tensor, dim: int, find, keepdim: bool, was_0d: bool):
    """``result(values, indices)`` of ``x`` read at the positions ``find(x, dim)`` along ``dim``
    (one ``OrderPick`` node, which finds them on each call's values), the axis ``dim`` squeezed
    unless ``keepdim`` (and both 0-d where the input was)."""
    values, index = OrderPick(dim, False, find=find).apply(x)
    if was_0d:
        return result(reshape(values, ()), reshape(index, ()))
    if not keepdim:
        values, index = _squeeze_dim(values, dim), _squeeze_dim(index, dim)
    return result(values, index)


# ---- NaN-aware reductions ----------------------------------------------------------------------------
@named_output("NansumBackward0")
def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum with NaN counted as zero."""
    x = check_tensor(input, "nansum")
    if x._data.dtype.kind == "f":
        x = where(isnan(x), 0.0, x)  # the mask by an operator: a compiled replay makes it anew
    return _sum(x, dim, keepdim, dtype=dtype)


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the non-NaN elements (NaN where all are NaN)."""
    x = check_tensor(input, "nanmean")
    if x._data.dtype.kind != "f":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                           f"{torch_type_name(x)}")
    present = logical_not(isnan(x))
    # an int64 count, then converted (exact, as the sum of the mask as floats might not be)
    count = _sum(present, None if dim is None else wrap_dims(dim, x.ndim), keepdim) if x.ndim else present
    with np.errstate(invalid="ignore", divide="ignore"):  # all-NaN slices: 0 / 0 = NaN, as PyTorch
        return nansum(x, dim, keepdim, dtype=dtype) / count.to(dtype or x.dtype)


def _nanmedian_index(data, dim: int):
    """The position along ``dim`` of the lower middle of the non-NaN values (the last NaN where all
    are NaN): the ascending order puts NaN last."""
    order = _order(data, dim, False)
    if data.dtype.kind == "f":
        count = np.sum(~np.isnan(data), axis=dim, keepdims=True)
    else:
        count = np.full((1,) * data.ndim, data.shape[dim])
    rank = np.maximum((count - 1) // 2, 0)
    return np.take_along_axis(order, np.broadcast_to(rank, order.shape[:dim] + (1,) + order.shape[dim + 1:]), dim)


@named_output(lambda input, dim=None, *a, **k: f"NanmedianBackward{0 if k.get('axis', dim) is None else 1}")
def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The median of the non-NaN values (the lower middle one for an even count); NaN if all are NaN.

    ``nanmedian(x)`` is a 0-d tensor; ``nanmedian(x, dim, keepdim=False)`` returns ``(values, indices)``.
    """
    x = check_tensor(input, "nanmedian")
    if x._data.dtype == np.bool_:
        raise NotImplementedError("\"median_out\" not implemented for 'Bool'")
    if dim is None:
        if x.numel() == 0:
            return Tensor._make(np.full((), np.nan, dtype=x._data.dtype))
        flat = reshape(x, (x.numel(),))
        return reshape(nanmedian(flat, 0, True).values, ())
    x1, was_0d = _as_1d(x)
    d = wrap_dim(dim, x1.ndim)
    if x1.shape[d] == 0:
        raise IndexError(f"nanmedian(): Expected reduction dim {d} to have non-zero size.")
    return _picked(nanmedian_result, x1, d, _nanmedian_index, keepdim, was_0d)


# ---- quantiles ------------------------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


class QuantileRanks(FunctionNode):
    """The positions in the sorted values (NaN last, along the last axis) that a quantile reads,
    from ``qs`` (a tuple of numbers) or the input ``q``: (lo, hi) int64 positions, the weight w of
    hi and 1 - w (the values' dtype), and the mask w < 0.5, each of shape rows + (Q,). Computed in
    ``forward``, so that a graph capture finds them again on each call's values (the NaN counts)."""

    def __init__(self, qs: tuple | None, interpolation: str, ignore_nan: bool):
        self.qs, self.interpolation, self.ignore_nan = qs, interpolation, ignore_nan

    def forward(self, values, q=None):
        qs = np.asarray(self.qs) if q is None else q.reshape(-1).astype(np.float64)
        n = values.shape[-1]
        count = np.sum(~np.isnan(values), axis=-1, keepdims=True)
        valid = count if self.ignore_nan else np.full_like(count, n)
        bad = (count == 0) if self.ignore_nan else (count < n)
        # a slice with NaN (nanquantile: only NaN) reads its last sorted value, a NaN, as PyTorch does
        rank = np.where(bad, n - 1, qs * (np.maximum(valid, 1) - 1))  # rows + (Q,)
        lo = np.floor(rank)
        if self.interpolation == "lower":
            hi = lo
        elif self.interpolation == "higher":
            lo = hi = np.ceil(rank)
        elif self.interpolation == "nearest":
            lo = hi = np.round(rank)  # half to even, as PyTorch rounds
        else:
            hi = np.ceil(rank)
        weight = 0.5 if self.interpolation == "midpoint" else rank - lo
        w = np.broadcast_to(np.asarray(weight, dtype=values.dtype), lo.shape)
        return lo.astype(np.int64), hi.astype(np.int64), np.ascontiguousarray(w), 1 - w, w < 0.5

    def backward(self, *grads):  # pragma: no cover - applied without gradient
        return (None,) * len(self.needs_input_grad)


class InUnitInterval(FunctionNode):
    """A copy of ``q`` once every entry lies in [0, 1] (else ``message``), checked in forward so
    that a compiled replay checks each call's values."""

    def __init__(self, message: str):
        self.message = message

    def forward(self, q):
        if not np.all((q >= 0) & (q <= 1)):
            raise RuntimeError(self.message)
        return q.copy()

    def backward(self, gy):  # pragma: no cover - applied without gradient
        return gy


def _quantile(input: Tensor, q, dim, keepdim: bool, interpolation: str, name: str, ignore_nan: bool) -> Tensor:
    x = check_tensor(input, name)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    qs: tuple | None = None
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q._data.dtype != x._data.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        n_q, q_scalar = q.numel(), q.ndim == 0
    elif isinstance(q, numbers.Real):
        qs, n_q, q_scalar = (float(q),), 1, True
    else:
        raise TypeError(f"{name}(): argument 'q' must be Tensor or float, not {type(q).__name__}")
    if x.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    q_in: tuple = ()
    if qs is not None and not 0 <= qs[0] <= 1:
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {float(q)}")
    if qs is None:
        with no_grad():  # q gets no gradient
            q_in = (InUnitInterval(f"{name}() q values must be in the range [0, 1]").apply(q),)
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    if dim is None:
        xm, out_shape = reshape(x, (x.numel(),)), (1,) * x.ndim if keepdim else ()
    else:
        x1 = reshape(x, (1,)) if x.ndim == 0 else x
        d = wrap_dim(dim, x1.ndim)
        xm = movedim(x1, d, -1)
        out_shape = x.shape[:d] + ((1,) if keepdim else ()) + x.shape[d + 1:] if x.ndim else ()
    last = xm.ndim - 1
    values, _ = OrderPick(last, False).apply(xm)  # sorted, NaN last
    with no_grad():
        lo, hi, w, w_c, below = QuantileRanks(qs, interpolation, ignore_nan).apply(values, *q_in)
    lo_v = Gather(last, lo._data).apply(values)
    y = lo_v
    if interpolation in ("linear", "midpoint"):
        hi_v = Gather(last, hi._data).apply(values)
        with np.errstate(invalid="ignore"):  # inf - inf in the branch that where() does not take
            step = hi_v - lo_v  # PyTorch's lerp: from the nearer end, so an infinite end stays infinite
            y = where(below, lo_v + step * w, hi_v - step * w_c)
    y = movedim(y, -1, 0)  # (Q,) + rows
    return reshape(y, ((() if q_scalar else (n_q,)) + tuple(out_shape)))


@named_output("SqueezeBackward4")
def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-quantiles (``q`` a number or 1-D tensor in [0, 1]) over ``dim`` (all elements by default).

    With rank r = q (n - 1) between the sorted values v_lo and v_hi: 'linear' gives
    v_lo + (r - floor r)(v_hi - v_lo), 'lower'/'higher'/'nearest' one of them, 'midpoint' their mean.
    A 1-D ``q`` adds a leading axis of its length. Slices containing NaN give NaN.
    """
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", False)


@named_output("SqueezeBackward4")
def nanquantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` of the non-NaN values (NaN where a slice has none)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", True)


# ---- mode, extrema ---------------------------------------------------------------------------------------
@named_output("ModeBackward0")
def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest on ties) and the index of its last occurrence."""
    x = check_tensor(input, "mode")
    x1, was_0d = _as_1d(x)
    d = wrap_dim(dim, x1.ndim)
    if x1.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    return _picked(mode_result, x1, d, _mode_index, keepdim, was_0d)


def _mode_index(data, d: int):
    """The position along ``d`` of the last occurrence of the most frequent value (the smallest on
    ties)."""
    data = np.moveaxis(data, d, -1)
    order = np.argsort(data, axis=-1, kind="stable")
    s = np.take_along_axis(data, order, -1)
    n = s.shape[-1]
    pos = np.broadcast_to(np.arange(n), s.shape)
    starts = np.concatenate([np.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]], -1)
    ends = np.concatenate([s[..., 1:] != s[..., :-1], np.ones(s.shape[:-1] + (1,), bool)], -1)
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=-1)
    last = np.flip(np.minimum.accumulate(np.flip(np.where(ends, pos, n), -1), axis=-1), -1)
    best = np.argmax(last - first, axis=-1)[..., None]  # first maximum: the smallest value
    index = np.take_along_axis(order, np.take_along_axis(last, best, -1), -1).astype(np.int64)
    return np.moveaxis(index, -1, d)


@named_output("AminmaxBackward0")
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """``(min, max)`` over ``dim`` (all elements by default) in one call."""
    x = check_tensor(input, "aminmax")
    if x.numel() == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    if dim is None:
        lo, hi = amin(x), amax(x)
        if keepdim:
            lo, hi = reshape(lo, (1,) * x.ndim), reshape(hi, (1,) * x.ndim)
        return aminmax_result(lo, hi)
    return aminmax_result(amin(x, dim, keepdim), amax(x, dim, keepdim))


def msort(input: Tensor) -> Tensor:
    """``sort(input, dim=0).values``."""
    return sort(check_tensor(input, "msort"), 0).values


def _running_index(data, d: int, is_max: bool):
    """Where the running maximum (``is_max``) or minimum along ``d`` was taken: the latest position
    holding it (PyTorch: ties take the later), a NaN once one was seen."""
    if data.dtype == np.bool_:
        data = data.astype(np.uint8)
    run = (np.maximum if is_max else np.minimum).accumulate(data, axis=d) if data.size else data
    new = run == data
    if data.dtype.kind == "f":
        new |= np.isnan(data)
    shape = [1] * data.ndim
    shape[d] = data.shape[d]
    pos = np.where(new, np.arange(data.shape[d]).reshape(shape), 0)
    return np.maximum.accumulate(pos, axis=d).astype(np.int64) if data.size else pos.astype(np.int64)


def _running_max_index(data, d: int):
    return _running_index(data, d, True)


def _running_min_index(data, d: int):
    return _running_index(data, d, False)


def _cumulative_extreme(input: Tensor, dim: int, is_max: bool):
    name = "cummax" if is_max else "cummin"
    x = check_tensor(input, name)
    x1, was_0d = _as_1d(x)
    d = wrap_dim(dim, x1.ndim)
    result = cummax_result if is_max else cummin_result
    return _picked(result, x1, d, _running_max_index if is_max else _running_min_index, True, was_0d)


@named_output("CummaxBackward0")
def cummax(input: Tensor, dim: int):
    """The running maximum along ``dim`` and where it was taken (the latest index on ties)."""
    return _cumulative_extreme(input, dim, True)


@named_output("CumminBackward0")
def cummin(input: Tensor, dim: int):
    """The running minimum along ``dim`` and where it was taken (the latest index on ties)."""
    return _cumulative_extreme(input, dim, False)


class Logcumsumexp(FunctionNode):
    """y_i = log sum_{j<=i} e^(x_j) along ``dim`` (exact running logaddexp).

    dy_j/dx_i = e^(x_i - y_j) for j >= i, so gx_i = e^(x_i) sum_{j>=i} gy_j e^(-y_j), evaluated in
    log space for the positive and the negative parts of gy separately (no overflow; TensorFlow's
    formulation), with this operator itself as the reversed running log-sum.
    """

    torch_name = "LogcumsumexpBackward0"

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        y = np.logaddexp.accumulate(x, axis=self.dim) if x.size else x.copy()
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        d = self.dim
        # where every input so far is -inf, so are y and each term e^(x_i - y_j): any finite y gives 0
        # (the masks here are comparisons, operators that a recorded backward runs on each call)
        y = where(y == float("-inf"), 0.0, y)

        def part(m: Tensor, g: Tensor) -> Tensor:  # e^x * reverse logcumsumexp(log g - y), for g > 0 only
            log_g = where(m, log(where(m, g, 1.0)), float("-inf"))
            return exp(flip(Logcumsumexp(d).apply(flip(log_g - y, (d,))), (d,)) + x)

        return part(gy > 0, gy) - part(gy < 0, -gy)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, without overflow."""
    x = check_tensor(input, "logcumsumexp")
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{torch_type_name(x)}'")
    x1, was_0d = _as_1d(x)
    y = Logcumsumexp(wrap_dim(dim, x1.ndim)).apply(x1)
    return reshape(y, ()) if was_0d else y


# ---- covariance -----------------------------------------------------------------------------------------
def _weights(w, n: int, name: str, integral: bool):
    if w is None:
        return None
    if not isinstance(w, Tensor) or w.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {getattr(w, 'ndim', 0)}"
                           " dimensions")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input "
                           f"but got {w.numel()} != {n}")
    if integral and w._data.dtype.kind not in "iu":
        raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                           f"{torch_type_name(w)} dtype")
    if not integral and w._data.dtype.kind != "f":
        raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                           f"{torch_type_name(w)} dtype")
    return NonNegative(f"cov(): {name} cannot be negative").apply(w)


class NonNegative(FunctionNode):
    """A copy of ``w`` once no entry of it is negative (else ``message``): the check is in forward,
    so that a compiled replay (``chainrule.compile``) makes it on every call's values."""

    def __init__(self, message: str):
        self.message = message

    def forward(self, w):
        if (w < 0).any():
            raise RuntimeError(self.message)
        return w.copy()

    def backward(self, gy):
        return gy


@named_output("SqueezeBackward0")
def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in columns).

    With weights w = fweights * aweights: mean m = sum(w x) / sum(w), and
    C = (x - m) diag(w) (x - m)^T / (sum(w) - correction * sum(w aweights) / sum(w)).
    """
    x = check_tensor(input, "cov")
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {x.ndim} "
                           "dimensions")
    x = float_operand(x, "cov")
    x2 = reshape(x, (1, -1)) if x.ndim < 2 else x
    n = x2.shape[1]
    fw = _weights(fweights, n, "fweights", True)
    aw = _weights(aweights, n, "aweights", False)
    w = None
    if fw is not None:
        w = fw.to(x.dtype)
    if aw is not None:
        w = aw if w is None else w * aw
    norm: Tensor | float  # the divisor: a count, or a sum of weights
    if w is None:
        avg, norm = _sum(x2, 1) / n, float(n - correction)
    else:
        w_sum = _sum(w)
        avg = _sum(x2 * w, 1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aw is None:
            norm = w_sum - correction
        else:
            norm = w_sum - _sum(w * aw) / w_sum * correction
    if float(norm) <= 0:  # a weighted divisor read through the tensor: a guard under chainrule.compile
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
        norm = 0.0
    xm = x2 - unsqueeze(avg, 1)
    xw = xm if w is None else xm * w
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (xw @ xm.transpose(0, 1)) / norm
    return reshape(c, ()) if x.ndim < 2 else c


@named_output("ClampBackward1")
def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients: cov(x) / sqrt(diag cov diag cov^T), clipped to [-1, 1]."""
    c = cov(check_tensor(input, "corrcoef"))
    if c.ndim == 0:
        return c / c
    eye = Tensor._make(size_only(np.eye(c.shape[0], dtype=c._data.dtype)))  # from the size: a constant
    sd = sqrt(_sum(c * eye, 1))  # sqrt of the diagonal
    with np.errstate(divide="ignore", invalid="ignore"):
        c = c / unsqueeze(sd, 1) / unsqueeze(sd, 0)
    return c.clamp(-1.0, 1.0)


# ---- finite differences and integration --------------------------------------------------------------
def _spacings(spacing, dims: tuple, x: Tensor, dim_given: bool) -> list:
    """Per dimension: a number (uniform step) or a 1-D coordinate Tensor."""
    if isinstance(spacing, (numbers.Number, Tensor)) and not (isinstance(spacing, Tensor) and spacing.ndim):
        h = spacing.item() if isinstance(spacing, Tensor) else spacing
        return [h] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims) and not dim_given:
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal "
                           f"to 'self.dim() = {x.ndim}', since dim argument was not given, but got a list of length "
                           f"{len(spacing)}")
    if len(spacing) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length "
                           f"{len(spacing)} and a dim argument of length {len(dims)}.")
    out = []
    for s, d in zip(spacing, dims):
        if isinstance(s, Tensor) and s.ndim == 1:
            if s.shape[0] != x.shape[d]:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same device and to have "
                                   f"{x.shape[d]} elements along dimension {d}, got {s.shape[0]}")
            out.append(s.to(x.dtype) if s._data.dtype.kind != "f" else s)
        else:
            out.append(s.item() if isinstance(s, Tensor) else s)
    return out


def _gradient_1d(f: Tensor, d: int, h, edge_order: int) -> Tensor:
    n = f.shape[d]

    def sl(start, length):
        return narrow(f, d, start, length)

    def along(v: Tensor) -> Tensor:  # a 1-D tensor shaped to broadcast along d
        shape = [1] * f.ndim
        shape[d] = v.shape[0]
        return reshape(v, tuple(shape))

    if isinstance(h, Tensor):
        dx = narrow(h, 0, 1, n - 1) - narrow(h, 0, 0, n - 1)
        hl, hr = along(narrow(dx, 0, 0, n - 2)), along(narrow(dx, 0, 1, n - 2))
        interior = (hl * hl * sl(2, n - 2) - hr * hr * sl(0, n - 2) + (hr * hr - hl * hl) * sl(1, n - 2)) \
            / (hl * hr * (hl + hr))
        h0, hn = along(narrow(dx, 0, 0, 1)), along(narrow(dx, 0, n - 2, 1))
        if edge_order == 1:
            first, last = (sl(1, 1) - sl(0, 1)) / h0, (sl(n - 1, 1) - sl(n - 2, 1)) / hn
        else:
            h1, hm = along(narrow(dx, 0, 1, 1)), along(narrow(dx, 0, n - 3, 1))
            first = (-(2 * h0 + h1) / (h0 * (h0 + h1)) * sl(0, 1) + (h0 + h1) / (h0 * h1) * sl(1, 1)
                     - h0 / (h1 * (h0 + h1)) * sl(2, 1))
            last = (hn / (hm * (hm + hn)) * sl(n - 3, 1) - (hn + hm) / (hm * hn) * sl(n - 2, 1)
                    + (2 * hn + hm) / (hn * (hm + hn)) * sl(n - 1, 1))
    else:
        interior = (sl(2, n - 2) - sl(0, n - 2)) / (2.0 * h)
        if edge_order == 1:
            first, last = (sl(1, 1) - sl(0, 1)) / h, (sl(n - 1, 1) - sl(n - 2, 1)) / h
        else:
            first = (sl(0, 1) * -1.5 + sl(1, 1) * 2.0 - sl(2, 1) * 0.5) / h
            last = (sl(n - 3, 1) * 0.5 - sl(n - 2, 1) * 2.0 + sl(n - 1, 1) * 1.5) / h
    return cat([first, interior, last], d)


def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:
    """Central differences in the interior and one-sided ones (first or second order) at the edges,
    one tensor per dimension in ``dim``; ``spacing`` is a step, one step per dimension, or coordinates."""
    x = float_operand(check_tensor(input, "gradient"), "gradient")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2. Got {edge_order}")
    dims = (wrap_dim(dim, x.ndim),) if isinstance(dim, numbers.Integral) else wrap_dims(dim, x.ndim)
    if dim is not None and not isinstance(dim, numbers.Integral):
        dims = tuple(wrap_dim(d, x.ndim) for d in dim)
    for d in dims:
        if x.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    return tuple(_gradient_1d(x, d, h, edge_order) for d, h in zip(dims, _spacings(spacing, dims, x, dim is not None)))


def _trapezoid_x(y: Tensor, x: Tensor, d: int) -> Tensor:
    """The step widths diff(x) shaped to broadcast against y's pairs along ``d``."""
    n = y.shape[d]
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        dx = narrow(x, 0, 1, n - 1) - narrow(x, 0, 0, n - 1)
        shape = [1] * y.ndim
        shape[d] = n - 1
        return reshape(dx, tuple(shape))
    m = x.shape[d]
    return narrow(x, d, 1, m - 1) - narrow(x, d, 0, m - 1)


@named_output(lambda y, x=None, **k: "DivBackward1" if isinstance(x, Tensor) else "MulBackward1")
def trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoid rule along ``dim``: sum (y[i] + y[i+1]) / 2 * (x[i+1] - x[i]) (spacing ``dx``
    or 1 when ``x`` is not given)."""
    y = check_tensor(y, "trapezoid", "y")
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments: both x and dx")
    d = wrap_dim(dim, max(y.ndim, 1))
    n = y.shape[d]
    if isinstance(x, Tensor):
        if n == 0:
            return _sum(y, d) * 0
        pairs = narrow(y, d, 1, n - 1) + narrow(y, d, 0, n - 1)
        return _sum(pairs * _trapezoid_x(y, x, d), d) / 2.0
    h = 1.0 if dx is None else dx
    if n == 0:
        return _sum(y, d) * 0
    ends = _squeeze_dim(narrow(y, d, 0, 1), d) + _squeeze_dim(narrow(y, d, n - 1, 1), d)
    return (_sum(y, d) - ends * 0.5) * h


def trapz(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """Alias of ``trapezoid`` (``trapz(y, x, dim=)`` or ``trapz(y, dx=, dim=)``)."""
    return trapezoid(y, x, dx=dx, dim=dim)


@named_output(lambda y, x=None, **k: "DivBackward1" if isinstance(x, Tensor) else "CumsumBackward0")
def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoid rule along ``dim`` (one element shorter than ``y`` along ``dim``)."""
    y = check_tensor(y, "cumulative_trapezoid", "y")
    d = wrap_dim(dim, max(y.ndim, 1))
    n = y.shape[d]
    if n == 0:
        return y * 1
    pairs = (narrow(y, d, 1, n - 1) + narrow(y, d, 0, n - 1)) / 2.0
    if isinstance(x, Tensor):
        return cumsum((narrow(y, d, 1, n - 1) + narrow(y, d, 0, n - 1)) * _trapezoid_x(y, x, d), d) / 2.0
    if dx is not None:
        pairs = pairs * dx
    return cumsum(pairs, d)


__all__ = [
    "nansum", "nanmean", "nanmedian", "quantile", "nanquantile", "mode", "aminmax", "msort", "cummax", "cummin",
    "logcumsumexp", "cov", "corrcoef", "gradient", "trapezoid", "trapz", "cumulative_trapezoid",
]

TENSOR_METHODS = [
    "nansum", "nanmean", "nanmedian", "quantile", "nanquantile", "mode", "aminmax", "msort", "cummax", "cummin",
    "logcumsumexp", "cov", "corrcoef",
]
