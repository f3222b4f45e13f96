"""Reductions: sums, means, products, extrema, variances, norms, softmax and friends.

Every reduction runs over a tuple of axes ``dims`` (PyTorch's ``dim`` argument normalised).
Backward puts the reduced axes back as size-1 axes (``_unsqueeze_reduced``) so the incoming
gradient broadcasts against the input. Where a gradient picks elements (``max(x, dim)``) it is a
gather whose adjoint is a scatter, two small operators that differentiate into each other.

This module defines ``sum``, ``max``, ``min``, ``all`` and ``any``, shadowing the builtins of the
same names; the code below therefore never uses those builtins.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import backend, return_types
from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import no_grad
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import check_tensor, torch_type_name, wrap_dim, wrap_dims
from .elementwise import abs as _abs
from .elementwise import maximum, minimum, sign, sqrt, where
from .scatter import gather_grad
from .shape import broadcast_to, reshape

max_result = return_types.max
min_result = return_types.min


def _dims(dim, ndim: int) -> tuple:
    """``dim`` (None, int or sequence; empty means all) as sorted axes; a 0-d tensor has none."""
    dims = wrap_dims(dim, ndim)
    return () if ndim == 0 else dims


def _kept_shape(in_shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else s for i, s in enumerate(in_shape))


def _unsqueeze_reduced(g: Tensor, in_shape: tuple, dims: tuple, keepdim: bool) -> Tensor:
    """Put back the reduced axes (as size 1) so that ``g`` broadcasts against the input."""
    if keepdim:
        return g
    return reshape(g, _kept_shape(in_shape, dims))


def _count(shape: tuple, dims: tuple) -> int:
    return math.prod(shape[d] for d in dims)


# ---- sum, mean, cumsum ---------------------------------------------------------------------------
class Sum(FunctionNode):
    @property
    def torch_name(self) -> str:  # PyTorch's overload 0 is the full reduction, 1 the one with dims
        full = len(self.dims) == len(getattr(self, "in_shape", ())) and not self.keepdim  # in_shape: after forward
        return f"{type(self).__name__}Backward{0 if full else 1}"

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        self.in_shape = x.shape
        return x.sum(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        return broadcast_to(_unsqueeze_reduced(gy, self.in_shape, self.dims, self.keepdim), self.in_shape)


class Mean(Sum):
    def forward(self, x):
        self.in_shape = x.shape
        return x.mean(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        n = _count(self.in_shape, self.dims)
        return super().backward(gy / n if n > 1 else gy)  # divide before broadcasting: fewer elements


class Cumsum(FunctionNode):
    """y_i = sum_{j<=i} x_j along ``dim``; its adjoint is the reversed cumulative sum."""

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        return self.xp.cumsum(x, axis=self.dim)

    def backward(self, gy):
        return RevCumsum(self.dim).apply(gy)


class RevCumsum(FunctionNode):
    """y_i = sum_{j>=i} x_j along ``dim`` (the gradient of cumsum; its own adjoint is cumsum)."""

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        rev = (slice(None),) * self.dim + (slice(None, None, -1),)
        return self.xp.ascontiguousarray(self.xp.cumsum(x[rev], axis=self.dim)[rev])

    def backward(self, gy):
        return Cumsum(self.dim).apply(gy)


def _integer_to_long(input: Tensor, dtype) -> Tensor:
    """PyTorch's accumulation rule: bool and integer inputs sum to int64 unless ``dtype`` is given."""
    if dtype is not None:
        return input.to(dtype)
    if input._data.dtype.kind in "bui":
        return input.to(backend.int64)
    return input


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """sum_i x_i over ``dim`` (all axes when None or empty); bool and integer inputs sum to int64."""
    x = _integer_to_long(check_tensor(input, "sum"), dtype)
    return Sum(_dims(dim, x.ndim), keepdim).apply(x)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """(1/N) sum_i x_i over ``dim``; integer inputs need an explicit floating ``dtype``."""
    x = check_tensor(input, "mean")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {torch_type_name(x)}")
    return Mean(_dims(dim, x.ndim), keepdim).apply(x)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """y_i = x_0 + ... + x_i along ``dim``; the gradient is the sum of later gradients."""
    x = _integer_to_long(check_tensor(input, "cumsum"), dtype)
    if x.ndim == 0:
        wrap_dim(dim, 0)
        return Cumsum(0).apply(reshape(x, (1,))).reshape(())
    return Cumsum(wrap_dim(dim, x.ndim)).apply(x)


# ---- product -------------------------------------------------------------------------------------
def _groups(x, dims: tuple):
    """``x`` with the axes ``dims`` moved last and flattened: shape (..., n), plus the undo."""
    keep = [d for d in range(x.ndim) if d not in dims]
    perm = keep + list(dims)
    xt = x.transpose(perm)
    flat = xt.reshape(xt.shape[:len(keep)] + (_count(x.shape, dims),))
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return flat, lambda a: a.reshape(xt.shape).transpose(inv)


class Prod(FunctionNode):
    """prod_i x_i; gradient prod_{j != i} x_j (y / x_i when no factor is zero)."""

    @property
    def torch_name(self) -> str:
        full = len(self.dims) == len(getattr(self, "in_shape", ())) and not self.keepdim  # in_shape: after forward
        return f"ProdBackward{0 if full else 1}"

    def __init__(self, dims: tuple, keepdim: bool):
        self.dims, self.keepdim = dims, keepdim

    def forward(self, x):
        y = x.prod(axis=self.dims, keepdims=self.keepdim)
        self.in_shape = x.shape
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        g = _unsqueeze_reduced(gy, self.in_shape, self.dims, self.keepdim)
        if not (x._data == 0).any():
            return g * _unsqueeze_reduced(y, self.in_shape, self.dims, self.keepdim) / x
        # y / x is 0/0 at a zero factor: use the leave-one-out products instead
        return g * ProdOthers(self.dims).apply(x)


class ProdOthers(FunctionNode):
    """o_k = prod_{j != k} x_j within each reduced group, exact with zeros (no division)."""

    def __init__(self, dims: tuple):
        self.dims = dims

    def forward(self, x):
        xp = self.xp
        self.save_for_backward(x)
        flat, undo = _groups(x, self.dims)
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        rev = flat[..., ::-1]
        right = xp.cumprod(xp.concatenate([ones, rev[..., :-1]], axis=-1), axis=-1)[..., ::-1]
        return xp.ascontiguousarray(undo(left * right))

    def backward(self, g):
        (x,) = self.saved_tensors
        return ProdOthersVjp(self.dims).apply(g, x)


class ProdOthersVjp(FunctionNode):
    """v_k = sum_{i != k} g_i prod_{j not in {i, k}} x_j: the vector-Jacobian product of ProdOthers.

    Computed by the number of zero factors in each group (0, 1, 2, or more), never dividing by
    a zero. The matrix prod_{j not in {i, k}} x_j is symmetric, so the gradient with respect to
    ``g`` is this operator again; third derivatives with respect to ``x`` are not provided.
    """

    def __init__(self, dims: tuple):
        self.dims = dims

    def forward(self, g, x):
        xp = self.xp
        self.save_for_backward(x)
        gf, undo = _groups(g, self.dims)
        xf, _ = _groups(x, self.dims)
        zero = xf == 0
        nz = zero.sum(axis=-1, keepdims=True)
        xs = xp.where(zero, 1, xf).astype(x.dtype, copy=False)
        p = xs.prod(axis=-1, keepdims=True)  # product of the non-zero factors
        gxs = gf / xs
        s = gxs.sum(axis=-1, keepdims=True)
        gz = (gf * zero).sum(axis=-1, keepdims=True)  # g at the zero factors
        none = p / xs * (s - gxs)
        one = xp.where(zero, p * (s - gz), gz * p / xs)
        two = xp.where(zero, (gz - gf) * p, 0)
        out = xp.where(nz == 0, none, xp.where(nz == 1, one, xp.where(nz == 2, two, 0)))
        return xp.ascontiguousarray(undo(out.astype(x.dtype, copy=False)))

    def backward(self, h):
        if self.needs_input_grad[1]:
            raise RuntimeError(
                "prod: derivatives of order three and higher are not implemented for inputs that "
                "contain zeros")
        (x,) = self.saved_tensors
        return ProdOthersVjp(self.dims).apply(h, x), None


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """prod_i x_i over one ``dim`` (or all elements); exact gradients also when factors are zero."""
    x = _integer_to_long(check_tensor(input, "prod"), dtype)
    if dim is None:
        return Prod(tuple(range(x.ndim)), False).apply(x)
    return Prod(_dims(wrap_dim(dim, x.ndim), x.ndim), keepdim).apply(x)


# ---- extrema -------------------------------------------------------------------------------------
class Amax(FunctionNode):
    """max (``largest``) or min over ``dims``; tied extrema share the gradient evenly."""

    @property
    def torch_name(self) -> str:
        return "AmaxBackward0" if self.largest else "AminBackward0"

    def __init__(self, dims: tuple, keepdim: bool, largest: bool):
        self.dims, self.keepdim, self.largest = dims, keepdim, largest

    def forward(self, x):
        self.in_shape = x.shape
        y = (x.max if self.largest else x.min)(axis=self.dims, keepdims=self.keepdim)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        with no_grad():  # a constant of the gradient, made by an operator (a recorded backward replays it)
            share = TieShare(self.in_shape, self.dims).apply(x, y)
        g = _unsqueeze_reduced(gy, self.in_shape, self.dims, self.keepdim)
        return g * share


class TieShare(FunctionNode):
    """Each element's share of the gradient of its extremum ``y`` over ``dims``: 1/k for the k
    elements equal to it (NaN results came from NaNs), 0 elsewhere. No gradient flows through it."""

    def __init__(self, in_shape: tuple, dims: tuple):
        self.in_shape, self.dims = tuple(in_shape), dims

    def forward(self, x, y):
        xp = self.xp
        yk = y.reshape(_kept_shape(self.in_shape, self.dims))
        hit = ((x == yk) | (xp.isnan(x) & xp.isnan(yk))).astype(x.dtype)
        return hit / hit.sum(axis=self.dims, keepdims=True)


def _check_nonempty(x: Tensor, dims: tuple, name: str) -> None:
    if x.numel() == 0:
        for d in dims:
            if x.shape[d] == 0:
                raise IndexError(
                    f"{name}(): Expected reduction dim {d} to have non-zero size (input shape "
                    f"{list(x.shape)})")
        if not dims:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                "the reduction dim with the 'dim' argument.")


class ExtremumPick(FunctionNode):
    """``max(x, dim)`` / ``min(x, dim)`` with keepdim: the values and their int64 indices (the
    first of ties), both found in ``forward`` so that a graph capture replays them on new values.
    The gradient goes to the returned index only (``scatter.gather_grad``)."""

    def __init__(self, dim: int, largest: bool):
        self.dim, self.largest = dim, largest

    def forward(self, x):
        xp = self.xp
        find = xp.argmax if self.largest else xp.argmin
        index = xp.expand_dims(find(x, axis=self.dim), self.dim).astype(np.int64, copy=False)
        self.index, self.in_shape = index, x.shape
        return xp.take_along_axis(x, index, axis=self.dim), index

    def backward(self, *grads):  # the values' gradient (a gather's); the indices (int64) get none
        return gather_grad(grads[0], self.index, self.dim, self.in_shape)


def _extremum_with_index(x: Tensor, dim: int, keepdim: bool, largest: bool, name: str):
    zero_d = x.ndim == 0
    d = wrap_dim(dim, x.ndim)
    if zero_d:
        x = reshape(x, (1,))
    _check_nonempty(x, (d,), name)
    values, index = ExtremumPick(d, largest).apply(x)
    if zero_d:
        values, index = reshape(values, ()), reshape(index, ())
    elif not keepdim:
        shape = values.shape[:d] + values.shape[d + 1:]
        values, index = reshape(values, shape), reshape(index, shape)
    return (max_result if largest else min_result)(values, index)


def _extremum(input, dim, keepdim, largest: bool):
    name = "max" if largest else "min"
    x = check_tensor(input, name)
    if isinstance(dim, Tensor):  # max(a, b): the element-wise maximum
        return (maximum if largest else minimum)(x, dim)
    if dim is None:
        _check_nonempty(x, (), name)
        return Amax(tuple(range(x.ndim)), False, largest).apply(x)
    return _extremum_with_index(x, dim, keepdim, largest, name)


def _max_min_name(op: str, dim) -> str | None:
    """PyTorch's ``max(x)`` is overload 1, ``max(x, dim)`` overload 0; ``max(x, other)`` is maximum."""
    if isinstance(dim, Tensor):
        return None
    return f"{op}Backward{1 if dim is None else 0}"


@named_output(lambda input, dim=None, *a, **k: _max_min_name("Max", k.get("axis", dim)))
def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """``max(x)``: the largest element (ties share the gradient evenly).

    ``max(x, dim, keepdim=False)``: a namedtuple ``(values, indices)``; the gradient of ``values``
    goes to the returned index. ``max(x, other)`` with a Tensor ``other``: ``maximum``.
    """
    return _extremum(input, dim, keepdim, True)


@named_output(lambda input, dim=None, *a, **k: _max_min_name("Min", k.get("axis", dim)))
def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The smallest element(s); the same forms as ``max``."""
    return _extremum(input, dim, keepdim, False)


def _amax(input: Tensor, dim, keepdim: bool, largest: bool) -> Tensor:
    name = "amax" if largest else "amin"
    x = check_tensor(input, name)
    dims = _dims(dim, x.ndim)
    _check_nonempty(x, dims, name)
    return Amax(dims, keepdim, largest).apply(x)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """max over ``dim`` (int or tuple; all when empty); tied maxima share the gradient evenly."""
    return _amax(input, dim, keepdim, True)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """min over ``dim`` (int or tuple; all when empty); tied minima share the gradient evenly."""
    return _amax(input, dim, keepdim, False)


class ArgExtreme(FunctionNode):
    """argmax / argmin along ``axis`` (of the flattened input when None): int64, no gradient. A node
    (rather than a raw-array helper) so that a graph capture sees the value computed."""

    def __init__(self, largest: bool, axis: int | None, keepdim: bool):
        self.largest, self.axis, self.keepdim = largest, axis, keepdim

    def forward(self, x):
        xp = self.xp
        if x.ndim == 0:  # the index of a scalar, along any dim
            return xp.zeros((), dtype=np.int64)
        find = xp.argmax if self.largest else xp.argmin
        if self.axis is None:
            index = xp.asarray(find(x.reshape(-1)))
            if self.keepdim:
                index = index.reshape((1,) * x.ndim)
        else:
            index = find(x, axis=self.axis, keepdims=self.keepdim)
        return xp.asarray(index, dtype=np.int64)

    def backward(self, gy):  # pragma: no cover - integer outputs never receive a gradient
        return None


def _arg(input: Tensor, dim, keepdim: bool, largest: bool) -> Tensor:
    name = "argmax" if largest else "argmin"
    x = check_tensor(input, name)
    axis = None
    if dim is None:
        _check_nonempty(x, (), name)
    else:
        axis = wrap_dim(dim, x.ndim)
        if x.ndim:
            _check_nonempty(x, (axis,), name)
    return ArgExtreme(largest, axis, keepdim).apply(x)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum along ``dim`` (of the flattened tensor when None); int64."""
    return _arg(input, dim, keepdim, True)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum along ``dim`` (of the flattened tensor when None); int64."""
    return _arg(input, dim, keepdim, False)


# ---- variance and standard deviation ----------------------------------------------------------------
class Var(FunctionNode):
    """sum_i (x_i - mean)^2 / max(N - correction, 0); gradient 2 (x_i - mean) / (N - correction)."""

    def __init__(self, dims: tuple, correction: float, keepdim: bool):
        self.dims, self.correction, self.keepdim = dims, correction, keepdim

    def forward(self, x):
        self.in_shape = x.shape
        self.save_for_backward(x)
        d = x - x.mean(axis=self.dims, keepdims=True)
        ss = (d * d).sum(axis=self.dims, keepdims=self.keepdim)
        dof = self._dof()
        with np.errstate(divide="ignore", invalid="ignore"):  # PyTorch divides by max(dof, 0)
            return ss / x.dtype.type(dof if dof > 0 else 0)

    def _dof(self) -> float:
        return _count(self.in_shape, self.dims) - self.correction

    def backward(self, gy):
        (x,) = self.saved_tensors
        g = _unsqueeze_reduced(gy, self.in_shape, self.dims, self.keepdim)
        dof = self._dof()
        scale = 2.0 / dof if dof > 0 else math.inf
        return g * (x - mean(x, self.dims, keepdim=True)) * scale


def _correction(name: str, dim, unbiased, correction):
    """Resolve the legacy ``unbiased`` flag (also passed positionally as ``dim``) and ``correction``."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{name}(): got the flag unbiased twice (as dim={dim} and unbiased={unbiased})")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): pass either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None else int(bool(unbiased))
    if not isinstance(correction, numbers.Real):
        raise TypeError(f"{name}(): correction must be a number, got {type(correction).__name__}")
    return dim, correction


def _var(name: str, input: Tensor, dim, unbiased, keepdim: bool, correction) -> tuple[Tensor, tuple]:
    """The variance and the axes it reduced."""
    x = check_tensor(input, name)
    if x._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dim, correction = _correction(name, dim, unbiased, correction)
    dims = _dims(dim, x.ndim)
    if _count(x.shape, dims) - correction <= 0:
        warnings.warn(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).", UserWarning, stacklevel=3)
    return Var(dims, correction, keepdim).apply(x), dims


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance sum_i (x_i - mean)^2 / (N - correction) over ``dim``; ``correction`` defaults to 1.

    ``unbiased=True/False`` (PyTorch's legacy flag) means correction 1/0.
    """
    return _var("var", input, dim, unbiased, keepdim, correction)[0]


@named_output("StdBackward0")
def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation sqrt(var); the gradient is (x - mean) / ((N - correction) std)."""
    return sqrt(_var("std", input, dim, unbiased, keepdim, correction)[0])


@named_output("VarMeanBackward0")
def var_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """``(var(input, ...), mean(input, ...))`` over the same ``dim``."""
    v, dims = _var("var_mean", input, dim, unbiased, keepdim, correction)
    return v, mean(input, dims, keepdim)


@named_output("StdMeanBackward0")
def std_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """``(std(input, ...), mean(input, ...))`` over the same ``dim``."""
    v, dims = _var("std_mean", input, dim, unbiased, keepdim, correction)
    return sqrt(v), mean(input, dims, keepdim)


# ---- norms ---------------------------------------------------------------------------------------
class Norm(FunctionNode):
    """(sum_i |x_i|^p)^(1/p) over ``dims`` for a finite p not in {0, 1}.

    Gradient (PyTorch's choices at zero): x |x|^(p-2) / norm^(p-1), taken as 0 where norm = 0,
    and for p < 1 also 0 where x = 0.
    """

    torch_name = "LinalgVectorNormBackward0"

    def __init__(self, p: float, dims: tuple, keepdim: bool):
        self.p, self.dims, self.keepdim = p, dims, keepdim

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        p = self.p
        if p == 2:
            y = xp.sqrt((x * x).sum(axis=self.dims, keepdims=self.keepdim))
        else:
            a = xp.abs(x)
            y = (a ** x.dtype.type(p)).sum(axis=self.dims, keepdims=self.keepdim) ** x.dtype.type(1.0 / p)
        self.save_for_backward(x, y)
        return y

    def backward(self, gy):
        x, y = self.saved_tensors
        p = self.p
        norm = _unsqueeze_reduced(y, self.in_shape, self.dims, self.keepdim)
        g = _unsqueeze_reduced(gy, self.in_shape, self.dims, self.keepdim)
        # masks and signs by operators (no gradient flows through them), so that a recorded backward
        # (compiler/flat.py) makes them anew from each call's values
        zero_norm = norm == 0
        safe_norm = where(zero_norm, 1.0, norm)  # the masked quotient then has no 0/0 to differentiate
        if p == 2:
            return x * where(zero_norm, 0.0, g / safe_norm)
        sgn = sign(x)
        zero_x = x == 0
        if p < 1:
            mag = where(zero_x, 0.0, where(zero_x, 1.0, _abs(x)) ** (p - 1))
            return sgn * mag * g * norm ** (1 - p)
        scale = where(zero_norm, 0.0, g / safe_norm ** (p - 1))
        if p < 2:
            return sgn * _abs(x) ** (p - 1) * scale
        return x * _abs(x) ** (p - 2) * scale


def _vector_norm(x: Tensor, p: float, dims: tuple, keepdim: bool) -> Tensor:
    if p == math.inf or p == -math.inf:
        _check_nonempty(x, dims, "linalg.vector_norm")
        return Amax(dims, keepdim, p > 0).apply(_abs(x))
    if p == 0:  # the number of non-zero elements; x stays in the graph with a zero gradient
        never = size_only(backend.array_module(x._data).zeros((), dtype=bool))  # a constant of a compiled graph
        return sum(where(x != 0, 1.0, where(never, x, 0.0)), dims, keepdim)
    if p == 1:
        return sum(_abs(x), dims, keepdim)
    return Norm(float(p), dims, keepdim).apply(x)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements when None): (sum_i |x_i|^p)^(1/p).

    ``p`` may be 'fro' (= 2 over at most two dims), any number, ``inf`` (max |x_i|), ``-inf``
    (min |x_i|) or 0 (count of non-zeros). At the zero vector the 2-norm's gradient is 0.
    """
    x = check_tensor(input, "norm")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {torch_type_name(x)}")
    dims = _dims(dim, x.ndim)
    if isinstance(p, str):
        if p != "fro":
            raise RuntimeError(f"norm: p={p!r} is not supported (supported: 'fro', inf, -inf or a number)")
        if dim is not None and len(dims) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
        p = 2
    elif p is None:
        p = 2
    elif not isinstance(p, numbers.Real):
        raise TypeError(f"norm(): p must be a number or 'fro', got {type(p).__name__}")
    return _vector_norm(x, p, dims, keepdim)


# ---- logical reductions (no gradient) --------------------------------------------------------------
class Logical(FunctionNode):
    """``all`` / ``any`` over ``axes``: bool (uint8 for a uint8 input, as PyTorch), no gradient."""

    def __init__(self, name: str, axes, keepdim: bool):
        self.name_, self.axes, self.keepdim = name, axes, keepdim

    def forward(self, x):
        r = self.xp.asarray(getattr(self.xp, self.name_)(x, axis=self.axes, keepdims=self.keepdim))
        return r.astype(np.uint8) if x.dtype == np.uint8 else r

    def backward(self, gy):  # pragma: no cover - bool outputs never receive a gradient
        return None


def _logical(input: Tensor, dim, keepdim: bool, name: str) -> Tensor:
    x = check_tensor(input, name)
    return Logical(name, _dims(dim, x.ndim), keepdim).apply(x)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element along ``dim`` is non-zero (all elements when None)."""
    return _logical(input, dim, keepdim, "all")


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element along ``dim`` is non-zero (all elements when None)."""
    return _logical(input, dim, keepdim, "any")


__all__ = [
    "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
    "var_mean", "std_mean", "norm", "cumsum", "all", "any"
]

TENSOR_METHODS = [
    "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "norm",
    "cumsum", "all", "any"
]
