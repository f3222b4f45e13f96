"""Products and distances built on ``matmul``: ``tensordot``, ``kron``, ``inner``, ``vdot``,
``chain_matmul``, the ``add*`` family (``addmv``, ``addr``, ``addbmm``, ``baddbmm``), ``cdist``,
``pdist``, ``dist`` and ``renorm``, with their in-place methods.

All are compositions of differentiable operators (so double backward works), named as PyTorch's
nodes. Norms that can meet a zero vector (``cdist``, ``pdist``, ``dist``) take the gradient 0
there, as PyTorch does, instead of 0/0.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..autograd import capture
from ..autograd.function import named_output
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import check_tensor, torch_type_name, wrap_dim
from .compare import eq
from .elementwise import abs as _abs
from .elementwise import clamp_min, sqrt, where
from .indexing import GetItem
from .inplace import _apply
from .join import cat
from .linalg import addmm, bmm, dot, mm, mv, outer
from .reduction import amax
from .reduction import sum as _sum
from .shape import broadcast_to, permute, reshape

_irange = range


def _scale(t: Tensor, c) -> Tensor:
    return t if c == 1 else t * c


def _check_float_or_same(*ts: Tensor, op: str) -> None:
    d = ts[0].dtype
    for t in ts[1:]:
        if t.dtype is not d:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {torch_type_name(ts[0]).lower()} "
                               f"!= {torch_type_name(t).lower()}")


def _beta_input(input: Tensor, shape: tuple, beta) -> Tensor:
    """``beta * input`` broadcast to ``shape``; with beta == 0 input's values (NaN too) are ignored."""
    if beta == 0:
        skip = size_only(np.zeros((), dtype=bool))  # a constant of a compiled graph
        return broadcast_to(where(skip, input, 0.0), shape)
    return broadcast_to(_scale(input, beta), shape)


# ---- trace / dot-like ---------------------------------------------------------------------------
@named_output("VdotBackward0")
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``sum(conj(input) * other)`` of two 1-d tensors (real tensors: ``dot``)."""
    check_tensor(input, "vdot")
    check_tensor(other, "vdot", "other")
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {torch_type_name(input)} and "
                           f"{torch_type_name(other)}")
    return dot(input, other)


def _dims_pair(dims, a: Tensor, b: Tensor) -> tuple[list, list]:
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        n = int(dims)
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={n}")
        return list(_irange(a.ndim - n, a.ndim)), list(_irange(n))
    if isinstance(dims, (list, tuple)) and len(dims) == 2:
        da, db = dims
        da = [da] if isinstance(da, numbers.Integral) else list(da)
        db = [db] if isinstance(db, numbers.Integral) else list(db)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
        return [wrap_dim(d, a.ndim) for d in da], [wrap_dim(d, b.ndim) for d in db]
    raise RuntimeError("tensordot expects dims to be an int or a pair of lists of dimensions")


@named_output("ViewBackward0")
def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract dims ``dims[0]`` of ``a`` with ``dims[1]`` of ``b`` (an int n: a's last n with b's first n)."""
    check_tensor(a, "tensordot", "a")
    check_tensor(b, "tensordot", "b")
    da, db = _dims_pair(dims, a, b)
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} and "
                               f"second has size {b.shape[y]} in dim {y}")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {torch_type_name(a)} but found {torch_type_name(b)}")
    free_a = [d for d in _irange(a.ndim) if d not in da]
    free_b = [d for d in _irange(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    pa = reshape(permute(a, free_a + da), (math.prod(a.shape[d] for d in free_a), k))
    pb = reshape(permute(b, db + free_b), (k, math.prod(b.shape[d] for d in free_b)))
    return reshape(mm(pa, pb), tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b))


@named_output(lambda input, other: "MulBackward0" if (input.ndim == 0 or other.ndim == 0) else "ViewBackward0")
def inner(input: Tensor, other: Tensor) -> Tensor:
    """The sum over the last dimensions of ``input`` and ``other`` (a product when either is 0-d)."""
    check_tensor(input, "inner")
    check_tensor(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


@named_output("UnsafeViewBackward0")
def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: blocks ``input[i, j] * other`` (any ranks; the shorter is padded with 1s)."""
    check_tensor(input, "kron")
    check_tensor(other, "kron", "other")
    n = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (n - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (n - other.ndim) + tuple(other.shape))
    a_view, b_view = [], []
    for sa, sb in zip(a.shape, b.shape):
        a_view += [sa, 1]
        b_view += [1, sb]
    prod = reshape(a, tuple(a_view)) * reshape(b, tuple(b_view))
    return reshape(prod, tuple(sa * sb for sa, sb in zip(a.shape, b.shape)))


@named_output(lambda *matrices: "ViewBackward0" if len(matrices) > 2 else None)
def chain_matmul(*matrices: Tensor) -> Tensor:
    """Deprecated: the product of 2-d matrices, left to right (``linalg.multi_dot``)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        check_tensor(m, "chain_matmul", "matrices")
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    result = matrices[0].clone() if len(matrices) == 1 else matrices[0]
    for m in matrices[1:]:
        result = mm(result, m)
    return result


# ---- beta * input + alpha * product ---------------------------------------------------------------
@named_output("AddmvBackward0")
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)`` (input broadcasts to the result)."""
    check_tensor(input, "addmv")
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}")
    if mat.shape[1] != vec.shape[0] or input.shape not in ((), (1,), (mat.shape[0],)):
        sizes = "x".join(str(s) for s in input.shape)
        raise RuntimeError(f"size mismatch, got input ({sizes}), mat ({mat.shape[0]}x{mat.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    prod = _scale(mv(mat, vec), alpha)
    return prod + _beta_input(input, tuple(prod.shape), beta)


@named_output("AddrBackward0")
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    check_tensor(input, "addr")
    if vec1.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.ndim}-D")
    if vec2.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    prod = _scale(outer(vec1, vec2), alpha)
    return prod + _beta_input(input, tuple(prod.shape), beta)


def _check_batches(b1: Tensor, b2: Tensor) -> None:
    for b in (b1, b2):
        if b.ndim < 3:  # PyTorch reads size(2) first
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(b.ndim, 1)}, "
                             f"{max(b.ndim, 1) - 1}], but got 2)")
    if b1.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")


@named_output("AddbmmBackward0")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``."""
    check_tensor(input, "addbmm")
    _check_batches(batch1, batch2)
    prod = _scale(_sum(bmm(batch1, batch2), 0), alpha)
    return prod + _beta_input(input, tuple(prod.shape), beta)


@named_output("BaddbmmBackward0")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)`` batch by batch."""
    check_tensor(input, "baddbmm")
    _check_batches(batch1, batch2)
    prod = _scale(bmm(batch1, batch2), alpha)
    return prod + _beta_input(input, tuple(prod.shape), beta)


# ---- distances -----------------------------------------------------------------------------------------
def _pnorm_last(diff: Tensor, p: float) -> Tensor:
    """The p-norm over the last dimension, with gradient 0 where the norm is 0."""
    a = _abs(diff)
    if p == 0:
        return _sum((a != 0).to(diff.dtype), -1)
    if p == math.inf:
        return amax(a, -1)
    if p == 1:
        return _sum(a, -1)
    s = _sum(a ** p, -1)
    zero = eq(s, 0)
    safe = where(zero, 1.0, s)
    return where(zero, 0.0, safe ** (1.0 / p))


def _check_p(p, op: str) -> float:
    if not isinstance(p, numbers.Real) or p < 0:
        raise RuntimeError(f"{op} only supports non-negative p values")
    return float(p)


def _euclidean_mm(x1: Tensor, x2: Tensor) -> Tensor:
    """sqrt(max(|a|^2 + |b|^2 - 2 a.b, 1e-30)) for all row pairs with one matmul (PyTorch's
    ``_euclidean_dist``: memory O(P R), not O(P R M))."""
    n1 = _sum(x1 * x1, -1, keepdim=True)
    n2 = _sum(x2 * x2, -1, keepdim=True)
    ones1 = broadcast_to(capture.literal(Tensor._make(np.ones((), dtype=x1._data.dtype))), tuple(n1.shape))
    ones2 = broadcast_to(capture.literal(Tensor._make(np.ones((), dtype=x2._data.dtype))), tuple(n2.shape))
    a = cat([x1 * -2.0, n1, ones1], -1)
    b = cat([x2, ones2, n2], -1)
    return sqrt(clamp_min(a @ b.transpose(-2, -1), 1e-30))


def _cdist_name(x1, x2, p=2.0, compute_mode=None):
    return "ViewBackward0" if _use_mm(x1, x2, p, compute_mode) else "CdistBackward0"


def _use_mm(x1: Tensor, x2: Tensor, p, compute_mode) -> bool:
    if p != 2 or compute_mode == "donot_use_mm_for_euclid_dist":
        return False
    return compute_mode == "use_mm_for_euclid_dist" or x1.shape[-2] > 25 or x2.shape[-2] > 25


@named_output(_cdist_name)
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """``out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p`` (batch dims broadcast).

    For p = 2 with more than 25 rows on either side (or ``compute_mode='use_mm_for_euclid_dist'``)
    it uses PyTorch's matmul form ``sqrt(|a|^2 + |b|^2 - 2 a.b)`` (clamped at 1e-30), whose
    memory is that of the result; otherwise the direct difference formula."""
    check_tensor(x1, "cdist", "x1")
    check_tensor(x2, "cdist", "x2")
    p = _check_p(p, "cdist")
    if x1.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not x1.dtype.is_floating_point or not x2.dtype.is_floating_point:
        bad = x1 if not x1.dtype.is_floating_point else x2
        raise RuntimeError(f"cdist only supports floating-point dtypes, X{1 if bad is x1 else 2} got: "
                           f"{torch_type_name(bad)}")
    if compute_mode not in (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if _use_mm(x1, x2, p, compute_mode):
        return _euclidean_mm(x1, x2)
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _pnorm_last(diff, p)


@named_output("PdistBackward0")
def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between all pairs of rows i < j of a matrix, in row-major pair order."""
    check_tensor(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    p = _check_p(p, "pdist")
    i, j = (size_only(a) for a in np.triu_indices(input.shape[0], 1))  # from the size alone

    diff = GetItem((i,)).apply(input) - GetItem((j,)).apply(input)
    return _pnorm_last(diff, p)


@named_output("DistBackward0")
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """``||input - other||_p`` over all elements (the two broadcast)."""
    check_tensor(input, "dist")
    check_tensor(other, "dist", "other")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{torch_type_name(input)} instead.")
    diff = input - other
    return _pnorm_last(reshape(diff, (-1,)), float(p))


@named_output("RenormBackward0")
def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled to norm ``maxnorm``:
    ``x * where(norm > maxnorm, maxnorm / (norm + 1e-7), 1)``."""
    check_tensor(input, "renorm")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{torch_type_name(input)}")
    d = wrap_dim(dim, input.ndim)
    others = [k for k in _irange(input.ndim) if k != d]
    a = _abs(input)
    if p == math.inf:
        norm = amax(a, others, keepdim=True)
    else:
        norm = _sum(a ** p, others, keepdim=True) ** (1.0 / p)
    factor = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * factor


# ---- in-place methods --------------------------------------------------------------------------------
def addmm_(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _apply(self, lambda s, a, b: addmm(s, a, b, beta=beta, alpha=alpha), mat1, mat2, saves_self=False)


def addmv_(self: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _apply(self, lambda s, a, b: addmv(s, a, b, beta=beta, alpha=alpha), mat, vec, saves_self=False)


def addr_(self: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _apply(self, lambda s, a, b: addr(s, a, b, beta=beta, alpha=alpha), vec1, vec2, saves_self=False)


def addbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _apply(self, lambda s, a, b: addbmm(s, a, b, beta=beta, alpha=alpha), batch1, batch2, saves_self=False)


def baddbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    return _apply(self, lambda s, a, b: baddbmm(s, a, b, beta=beta, alpha=alpha), batch1, batch2, saves_self=False)


def renorm_(self: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    return _apply(self, lambda s: renorm(s, p, dim, maxnorm))


__all__ = ["vdot", "tensordot", "inner", "kron", "chain_matmul", "addmv", "addr", "addbmm", "baddbmm",
           "cdist", "pdist", "dist", "renorm"]

TENSOR_METHODS = ["vdot", "inner", "kron", "addmv", "addr", "addbmm", "baddbmm", "dist", "renorm",
                  "addmm_", "addmv_", "addr_", "addbmm_", "baddbmm_", "renorm_"]
