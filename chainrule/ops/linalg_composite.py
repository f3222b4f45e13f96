"""Linear algebra built on the decompositions (``chainrule.linalg``): norms, cond, pinv,
matrix_power, matrix_rank, multi_dot, lstsq, cross, vecdot, diagonal, and PyTorch's
top-level names for them (``chainrule.det``, ``chainrule.svd`` with its old (U, S, V) result ...).

Composite functions are differentiable through their parts (pinv through the SVD, lstsq through
pinv); cross and diagonal are nodes of their own whose gradients are again a cross product and a
diagonal scatter.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import return_types
from ..autograd.function import FunctionNode, named_output
from ..autograd.grad_mode import no_grad
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import check_tensor, torch_type_name, wrap_dim
from .compare import isnan
from .elementwise import abs as _abs
from .elementwise import where
from .join import stack
from .linalg import matmul
from .linalg_decomp import (
    Cholesky,
    Inv,
    LinAlgError,
    check_float,
    check_matrix,
    inv,
    mT,
    singular_info,
    slogdet_result,
    svdvals,
)
from .linalg_decomp import det as _det
from .linalg_decomp import eigh as _eigh
from .linalg_decomp import matrix_exp as _matrix_exp
from .linalg_decomp import qr as _linalg_qr
from .linalg_decomp import slogdet as _slogdet
from .linalg_decomp import solve as _solve
from .linalg_decomp import solve_triangular as _solve_triangular
from .linalg_decomp import svd as _linalg_svd
from .linalg_lu import lu_solve_top, lu_top, lu_unpack
from .reduction import _dims, _vector_norm, amax, amin
from .reduction import sum as _sum
from .shape import broadcast_to, clone, movedim, reshape, unsqueeze

linalg_lstsq = return_types.structseq("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
svd_result = return_types.structseq("svd", ("U", "S", "V"))

_INF = math.inf


# ---- norms ---------------------------------------------------------------------------------------------
@named_output("LinalgVectorNormBackward0")  # one node in PyTorch for every order
def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """(sum_i |x_i|^ord)^(1/ord) over ``dim`` (all elements when None); ord inf/-inf: max/min |x_i|,
    ord 0: the number of non-zero elements."""
    x = check_tensor(x, "vector_norm", "x")
    check_float(x, "linalg.vector_norm")
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(ord, bool) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    dims = _dims(dim, x.ndim)
    if abs(ord) == _INF and x.numel() == 0:
        raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor because the "
                           "operation does not have an identity")
    return _vector_norm(x, float(ord), dims, keepdim)


_MATRIX_ORDS = ("fro", "nuc", 2, -2, 1, -1, _INF, -_INF)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """Matrix norm over the two dims ``dim``: 'fro' sqrt(sum a_ij^2), 'nuc' sum of singular values,
    2/-2 largest/smallest singular value, 1/-1 max/min column sum of |a_ij|, inf/-inf max/min row sum."""
    A = check_tensor(A, "matrix_norm", "A")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    check_float(A, "linalg.matrix_norm")
    if dtype is not None:
        A = A.to(dtype)
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    d0, d1 = (wrap_dim(d, A.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, {dims[1]})")
    if isinstance(ord, str) or ord not in _MATRIX_ORDS:
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord == "fro":
        return _vector_norm(A, 2.0, tuple(sorted((d0, d1))), keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(movedim(A, (d0, d1), (-2, -1)))
        r = _sum(s, -1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        if keepdim:
            lo, hi = sorted((d0, d1))
            r = unsqueeze(unsqueeze(r, lo), hi)
        return r
    # 1: max column sum (sum over rows d0), inf: max row sum (sum over columns d1)
    inner, outer = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = _sum(_abs(A), inner, keepdim)
    if not keepdim and outer > inner:
        outer -= 1
    return amax(sums, outer, keepdim) if ord > 0 else amin(sums, outer, keepdim)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``vector_norm`` when ``dim`` is an int (or ``ord`` is None and ``dim`` None), ``matrix_norm``
    when ``dim`` is a 2-tuple or ``ord`` a string; with ``ord`` and no ``dim`` the input must be 1-D or 2-D."""
    A = check_tensor(A, "norm", "A")
    if dim is not None:
        dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
        if len(dims) == 1 and not isinstance(ord, str):
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2 or isinstance(ord, str):
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if isinstance(ord, str):
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim not in (1, 2):
        raise RuntimeError(
            f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)


def cond(A: Tensor, p=None) -> Tensor:
    """Condition number: sigma_max / sigma_min for p None or 2 (sigma_min / sigma_max for -2), else
    ||A||_p ||A^-1||_p (square matrices; inf for a singular one)."""
    if p in (None, 2, -2):
        s = svdvals(check_matrix(A, "linalg.cond"))
        hi, lo = s[..., 0], s[..., -1]
        return hi / lo if p != -2 else lo / hi
    if p not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    A = check_matrix(A, f"linalg.cond(ord={p})", square=True, op="cond")
    a_inv = Inv("linalg.cond", check_errors=False).apply(A)
    r = matrix_norm(A, p) * matrix_norm(a_inv, p)
    return where(isnan(r), _INF, r)


# ---- pseudo-inverse, rank, powers -----------------------------------------------------------------------
def _tolerance(s_max: np.ndarray, shape: tuple, dtype, atol, rtol) -> np.ndarray:
    """max(atol, rtol * sigma_max) with PyTorch's default rtol = eps * max(m, n) when neither is given
    (and 0 when only atol is)."""
    def arr(v):
        return np.asarray(v._data if isinstance(v, Tensor) else v, dtype=dtype)

    if rtol is None:
        rtol = np.finfo(dtype).eps * max(shape[-2:]) if atol is None or np.all(arr(atol) <= 0) else 0.0
    a = arr(0.0 if atol is None else atol)
    return np.maximum(a, arr(rtol) * s_max)


_GIVEN = "input"  # an atol or rtol that is a tensor: an input of ``AboveTolerance``


class AboveTolerance(FunctionNode):
    """The mask of the singular values ``s`` (``hermitian``: eigenvalues, by magnitude) above
    max(atol, rtol * the largest), for the matrices of ``shape``; a tensor atol or rtol comes as an
    input after ``s``. Found in ``forward``, so that a graph capture finds it on each call's values."""

    def __init__(self, shape: tuple, atol, rtol, hermitian: bool):
        self.shape, self.atol, self.rtol, self.hermitian = shape, atol, rtol, hermitian

    def forward(self, s, *tols):
        given = iter(tols)
        atol = next(given) if self.atol is _GIVEN else self.atol
        rtol = next(given) if self.rtol is _GIVEN else self.rtol
        if self.hermitian:
            mag = np.abs(s)
            s_max = mag.max(axis=-1, keepdims=True) if mag.size else mag
        else:
            mag, s_max = s, s[..., :1] if s.size else s
        return mag > _tolerance(s_max, self.shape, s.dtype, atol, rtol)

    def backward(self, gy):  # pragma: no cover - applied without gradient
        return (None,) * len(self.needs_input_grad)


def _above_tolerance(s: Tensor, shape: tuple, atol, rtol, hermitian: bool) -> Tensor:
    tols = [t for t in (atol, rtol) if isinstance(t, Tensor)]
    atol, rtol = (_GIVEN if isinstance(t, Tensor) else t for t in (atol, rtol))
    with no_grad():
        return AboveTolerance(shape, atol, rtol, hermitian).apply(s, *tols)


@named_output("LinalgPinvBackward0")
def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None) -> Tensor:
    """Moore-Penrose pseudo-inverse V diag(1/s_i) U^T, singular values s_i <= max(atol, rtol * s_max)
    treated as 0 (``hermitian``: from the symmetric eigendecomposition). ``rcond`` is rtol's old name."""
    A = check_tensor(A, "pinv", "A")
    if A.ndim < 2 or A._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"linalg.pinv({torch_type_name(A)}{{{list(A.shape)}}}): expected a tensor with 2 or more "
                           "dimensions of float, double, cfloat or cdouble types")
    if rcond is not None:
        rtol = rcond
    if hermitian:
        w, v = _eigh(A)
        keep = _above_tolerance(w, A.shape, atol, rtol, True)
        w_inv = where(keep, 1.0 / where(keep, w, 1.0), 0.0)
        return matmul(v * unsqueeze(w_inv, -2), mT(v))
    u, s, vh = _linalg_svd(A, full_matrices=False)
    keep = _above_tolerance(s, A.shape, atol, rtol, False)
    s_inv = where(keep, 1.0 / where(keep, s, 1.0), 0.0)
    return matmul(mT(vh) * unsqueeze(s_inv, -2), mT(u))


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """Number of singular values (|eigenvalues| when ``hermitian``) above max(atol, rtol * s_max); int64."""
    A = check_tensor(A, "matrix_rank", "A")
    if A._data.dtype not in (np.float32, np.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    A = check_matrix(A, "linalg.matrix_rank")
    a = A._data
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    if s.shape[-1] == 0:
        return Tensor._make(np.zeros(a.shape[:-2], dtype=np.int64))
    tol = _tolerance(s.max(axis=-1, keepdims=True), A.shape, a.dtype, atol, rtol)
    return Tensor._make(np.asarray((s > tol).sum(axis=-1), dtype=np.int64))


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A^n by repeated squaring (n < 0: (A^-1)^|n|, n = 0: the identity)."""
    A = check_tensor(A, "matrix_power")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else 1} by {A.shape[-1] if A.ndim else 1} matrices")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    n = int(n)
    if n == 0:  # the identity; A stays in the graph with a zero gradient (as PyTorch's copy)
        eye = np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), tuple(A.shape))
        never = Tensor._make(np.zeros((), dtype=bool))
        return Tensor._make(eye.copy()) + where(never, A, 0)
    if n == 1:
        return clone(A)
    if n < 0:
        A = Inv("linalg.inv").apply(check_matrix(A, "linalg.inv", square=True))
        n = -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def multi_dot(tensors) -> Tensor:
    """A_1 A_2 ... A_k; the first may be a row vector and the last a column vector (1-D)."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        check_tensor(t, "multi_dot", "tensors")
        where_ = "the first tensor" if i == 0 else ("the last tensor" if i == len(ts) - 1 else f"tensor {i}")
        ok = (1, 2) if i in (0, len(ts) - 1) else (2,)
        if t.ndim not in ok:
            need = "1D or 2D" if len(ok) == 2 else "2D"
            raise RuntimeError(f"multi_dot(): {where_} must be {need} but got {t.ndim}D")
        if t._data.dtype != ts[0]._data.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{torch_type_name(ts[0])} and tensor {i} is {torch_type_name(t)}")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    mats = list(ts)
    if first_vec:
        mats[0] = reshape(mats[0], (1, mats[0].shape[0]))
    if last_vec:
        mats[-1] = reshape(mats[-1], (mats[-1].shape[0], 1))
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(ts[i].shape)} and "
                               f"{list(ts[i + 1].shape)} cannot be multiplied")
    out = mats[0]
    for m in mats[1:]:
        out = matmul(out, m)
    if first_vec or last_vec:
        shape = tuple(s for s, vec in ((out.shape[0], first_vec), (out.shape[1], last_vec)) if not vec)
        out = reshape(out, shape)
    return out


# ---- least squares -------------------------------------------------------------------------------------
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


@named_output("LinalgLstsqBackward0")
def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """Least-squares solution X = argmin ||A X - B|| (the minimum-norm one, rank decided by ``rcond``,
    default eps * max(m, n)), with PyTorch's fields for the CPU drivers: ``residuals`` (squared, when
    m > n, full rank and driver not 'gelsy'), ``rank`` (not for 'gels'), ``singular_values`` ('gelsd',
    'gelss'). Differentiable in A and B through the pseudo-inverse."""
    A = check_tensor(A, "lstsq", "self")
    B = check_tensor(B, "lstsq", "b")
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {torch_type_name(A)} and other's dtype {torch_type_name(B)}")
    A = check_matrix(A, "torch.linalg.lstsq", label="input")
    vector = B.ndim == A.ndim - 1
    Bm = unsqueeze(B, -1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2], A.shape[-1]
    dt = A._data.dtype
    rtol = np.finfo(dt).eps * max(m, n) if rcond is None or rcond < 0 else rcond
    x = matmul(pinv(A, rtol=rtol), Bm)
    with no_grad():  # the rank, by operators: ``bool`` reads it, which a compiled graph guards
        s = svdvals(A)
        rank = (s > s[..., :1] * rtol).sum(-1)
    full_rank = bool((rank == min(m, n)).all()) if s.numel() else True
    if driver != "gelsy" and m > n and (driver == "gels" or full_rank):
        residuals = _sum((matmul(A, x) - Bm) ** 2, -2)  # (..., 1) for a vector B, as PyTorch
    else:
        residuals = Tensor._make(size_only(np.zeros((0,), dtype=dt)))
    if driver == "gels":
        rank = Tensor._make(size_only(np.zeros((0,), dtype=np.int64)))
    sv = s if driver in ("gelsd", "gelss") else Tensor._make(size_only(np.zeros((0,), dtype=dt)))
    if vector:
        x = reshape(x, x.shape[:-1])
    return linalg_lstsq(x, residuals, rank, sv)


# ---- cross, vecdot, diagonal ---------------------------------------------------------------------------
class Cross(FunctionNode):
    """a x b along ``dim`` (size 3); ga = b x g, gb = g x a."""

    torch_name = "LinalgCrossBackward0"

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return np.ascontiguousarray(self.xp.cross(a, b, axis=self.dim))

    def backward(self, g):
        a, b = self.saved_tensors
        na, nb = self.needs_input_grad
        return (Cross(self.dim).apply(b, g) if na else None), (Cross(self.dim).apply(g, a) if nb else None)


def _broadcast_shape(a: Tensor, b: Tensor) -> tuple:
    sa, sb = tuple(a.shape), tuple(b.shape)
    k = max(len(sa), len(sb))
    pa, pb = (1,) * (k - len(sa)) + sa, (1,) * (k - len(sb)) + sb
    for d in range(k - 1, -1, -1):
        if pa[d] != pb[d] and 1 not in (pa[d], pb[d]):
            raise RuntimeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at "
                               f"non-singleton dimension {d}")
    return tuple(max(x, y) for x, y in zip(pa, pb))


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim``, broadcasting the other dimensions (``linalg.cross``)."""
    a, b = check_tensor(input, "cross"), check_tensor(other, "cross", "other")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"linalg.cross: expected input and other to have the same dtype, but got "
                           f"{torch_type_name(a)} and {torch_type_name(b)}")
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions. Got {a.ndim} and {b.ndim}")
    d = wrap_dim(dim, a.ndim)
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[d]} and "
                           f"{b.shape[d]}")
    shape = _broadcast_shape(a, b)
    if tuple(a.shape) != shape:
        a = broadcast_to(a, shape)
    if tuple(b.shape) != shape:
        b = broadcast_to(b, shape)
    return Cross(d).apply(a, b)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """sum_i x_i y_i along ``dim``, broadcasting the other dimensions."""
    x, y = check_tensor(x, "vecdot", "x"), check_tensor(y, "vecdot", "y")
    check_float(x, "linalg.vecdot")
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{torch_type_name(x)} and y of type {torch_type_name(y)} instead.")
    return _sum(x * y, dim)


class Diagonal(FunctionNode):
    """The diagonal ``offset`` of the planes (dim1, dim2), as the last dimension; the gradient
    writes it back onto zeros (``DiagonalScatter``)."""

    torch_name = "DiagonalBackward0"

    def __init__(self, offset: int, dim1: int, dim2: int):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def forward(self, a):
        self.in_shape = a.shape
        return self.xp.diagonal(a, self.offset, self.dim1, self.dim2).copy()

    def backward(self, g):
        return DiagonalScatter(self.in_shape, self.offset, self.dim1, self.dim2).apply(g)


class DiagonalScatter(FunctionNode):
    """Zeros of ``shape`` with ``g`` written on the diagonal ``offset`` of (dim1, dim2); adjoint of Diagonal."""

    def __init__(self, shape: tuple, offset: int, dim1: int, dim2: int):
        self.shape, self.offset, self.dim1, self.dim2 = shape, offset, dim1, dim2

    def forward(self, g):
        out = self.xp.zeros(self.shape, dtype=g.dtype)
        view = self.xp.moveaxis(out, (self.dim1, self.dim2), (-2, -1))
        k = g.shape[-1]
        rows = np.arange(k) + max(-self.offset, 0)
        cols = np.arange(k) + max(self.offset, 0)
        view[..., rows, cols] = g
        return out

    def backward(self, gg):
        return Diagonal(self.offset, self.dim1, self.dim2).apply(gg)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal ``offset`` of each matrix in the planes (dim1, dim2), as the last dimension."""
    A = check_tensor(A, "diagonal", "A")
    d1, d2 = wrap_dim(dim1, A.ndim), wrap_dim(dim2, A.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal(int(offset), d1, d2).apply(A)


# ---- solvers built on the others --------------------------------------------------------------------
linalg_solve_ex = return_types.structseq("linalg_solve_ex", ("result", "info"))
qr_result = return_types.structseq("qr", ("Q", "R"))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """(result, info) of ``solve``: info is LAPACK's index of the zero pivot of a singular matrix (whose
    result is then NaN), 0 otherwise."""
    try:
        return linalg_solve_ex(_solve(A, B, left=left), Tensor._make(np.zeros(A.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    info = singular_info(A._data)
    shape = np.broadcast_shapes(tuple(A.shape[:-1]), tuple(B.shape[:-1])) if B.ndim == A.ndim else tuple(B.shape)
    nan = np.full(tuple(shape) + ((B.shape[-1],) if B.ndim == A.ndim else ()), np.nan, dtype=A._data.dtype)
    return linalg_solve_ex(Tensor._make(nan), Tensor._make(info))


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The tensor X with tensordot(X, A, ind) = I: A reshaped to a square matrix, inverted, reshaped back
    to A.shape[ind:] + A.shape[:ind]."""
    A = check_tensor(A, "tensorinv", "A")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return reshape(inv(reshape(A, (rows, cols))), tuple(A.shape[ind:]) + tuple(A.shape[:ind]))


def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B (``dims``: dimensions of A moved to the end first)."""
    A, B = check_tensor(A, "tensorsolve", "A"), check_tensor(B, "tensorsolve", "B")
    if dims is not None:
        dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
        A = movedim(A, dims, tuple(range(A.ndim - len(dims), A.ndim)))
    rest = tuple(A.shape[B.ndim:])
    rows, cols = B.numel(), math.prod(rest)
    if rows * cols != A.numel() or rows != cols:
        raise RuntimeError(f"shape '[{rows}, {rows}]' is invalid for input of size {A.numel()}")
    return reshape(_solve(reshape(A, (rows, cols)), reshape(B, (rows,))), rest)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """Vandermonde matrix with increasing powers: V[..., i, j] = x[..., i] ** j for j < N (default x.shape[-1])."""
    x = check_tensor(x, "vander", "x")
    n = x.shape[-1] if N is None and x.ndim else N
    if x.ndim == 0 or n is None or n <= 1:
        raise RuntimeError("N must be greater than 1.")

    cols = [x ** 0] if x._data.dtype.kind != "f" else [x * 0 + 1]
    for _ in range(1, n):
        cols.append(cols[-1] * x)
    return stack(cols, -1)


@named_output("CholeskySolveBackward0")
def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    """X with (L L^T) X = B for B = ``input`` and the Cholesky factor L = ``input2`` (``upper``: (U^T U) X = B),
    by two triangular solves; the gradient with respect to L is taken on the triangle that is read."""
    B, L = check_tensor(input, "cholesky_solve"), check_tensor(input2, "cholesky_solve", "input2")
    if B.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.ndim} dimensions instead")
    if L.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L.ndim} dimensions instead")
    if L.shape[-1] != L.shape[-2] or L.shape[-1] != B.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {L.shape[-2]} by "
                           f"{L.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    low = mT(L) if upper else L
    y = _solve_triangular(low, B, upper=False)
    return _solve_triangular(mT(low), y, upper=True)


@named_output("CholeskyInverseBackward0")
def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """(L L^T)^-1 (``upper``: (U^T U)^-1) from a Cholesky factor L = ``input``."""
    L = check_matrix(input, "cholesky_inverse", square=True, op="cholesky_inverse")
    eye = Tensor._make(np.broadcast_to(np.eye(L.shape[-1], dtype=L._data.dtype), tuple(L.shape)).copy())
    low = mT(L) if upper else L
    return _solve_triangular(mT(low), _solve_triangular(low, eye, upper=False), upper=True)


triangular_solve_result = return_types.structseq("triangular_solve", ("solution", "cloned_coefficient"))


def triangular_solve(input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """Deprecated form of ``linalg.solve_triangular``: (X with op(A) X = ``input``, a copy of A broadcast to
    the batch), op(A) = A^T when ``transpose``."""
    warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed "
                  "in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not "
                  "return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced "
                  "with\nX = torch.linalg.solve_triangular(A, B).", UserWarning, stacklevel=2)
    b, A = check_tensor(input, "triangular_solve"), check_tensor(A, "triangular_solve", "A")
    for name, t in (("b", b), ("A", A)):
        if t.ndim < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 dimensions, but it has "
                               f"{t.ndim} dimensions instead")
    if A.shape[-1] != A.shape[-2] or A.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is {A.shape[-2]} by "
                           f"{A.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    check_float(A, "triangular_solve")
    a, up = (mT(A), not upper) if transpose else (A, bool(upper))
    x = _solve_triangular(a, b, upper=up, unitriangular=unitriangular)
    batch = tuple(np.broadcast_shapes(tuple(A.shape[:-2]), tuple(b.shape[:-2])))
    coeff = clone(broadcast_to(A, batch + tuple(A.shape[-2:])))
    for t in (x, coeff):  # PyTorch's one node for both results
        if t.grad_fn is not None:
            t.grad_fn._renamed = "TriangularSolveBackward0"
    return triangular_solve_result(x, coeff)


# ---- PyTorch's top-level names (torch.det, torch.svd, ...) ----------------------------------------------
def det(input: Tensor) -> Tensor:
    """Determinant (``linalg.det``)."""
    return _det(input)


def slogdet(input: Tensor):
    """(sign, logabsdet) as ``linalg.slogdet``, in the ``slogdet`` namedtuple."""
    sign, logabs = _slogdet(input)
    return slogdet_result(sign, logabs)


def logdet(input: Tensor) -> Tensor:
    """log det(A): NaN where det < 0, -inf where det = 0."""
    sign, logabs = _slogdet(input)
    return where(Tensor._make(sign._data < 0), math.nan, logabs)


def inverse(input: Tensor) -> Tensor:
    """Matrix inverse (``linalg.inv``)."""
    return inv(input)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """Deprecated form of ``linalg.cholesky`` (with a UserWarning, as PyTorch)."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\n"
                  "and\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH",
                  UserWarning, stacklevel=2)
    A = check_matrix(input, "linalg.cholesky", square=True, op="cholesky")
    return Cholesky(bool(upper), "cholesky", legacy=True).apply(A)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """Pseudo-inverse with relative cutoff ``rcond`` (``linalg.pinv(input, rtol=rcond)``)."""
    return pinv(input, rtol=rcond)


def matrix_exp(input: Tensor) -> Tensor:
    """Matrix exponential (``linalg.matrix_exp``)."""
    return _matrix_exp(input)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """PyTorch's old SVD: (U, S, V) with A = U diag(S) V^T (V, not Vh); ``some=False`` gives the full
    U and V; ``compute_uv=False`` returns zero-filled U (m x m) and V (n x n)."""
    A = check_matrix(input, "linalg.svd", op="svd")
    if not compute_uv:
        s = svdvals(A)
        batch, (m, n) = tuple(A.shape[:-2]), tuple(A.shape[-2:])
        dt = A._data.dtype
        return svd_result(Tensor._make(np.zeros(batch + (m, m), dt)), s, Tensor._make(np.zeros(batch + (n, n), dt)))
    u, s, vh = _linalg_svd(A, full_matrices=not some)
    return svd_result(u, s, mT(vh))


def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """Cross product along ``dim``; when None, the first dimension of size 3 (torch.cross)."""
    a, b = check_tensor(input, "cross"), check_tensor(other, "cross", "other")
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = _broadcast_shape(a, b) if a.ndim == b.ndim else tuple(a.shape)
        sizes = [d for d, s in enumerate(shape) if s == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        dim = sizes[0]
    return linalg_cross(a, b, dim=dim)


def qr(input: Tensor, some: bool = True):
    """Deprecated form of ``linalg.qr``: ``some`` picks mode 'reduced' (True) or 'complete'."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                  "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\n"
                  "Q, R = torch.qr(A, some)\nshould be replaced with\n"
                  "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')", UserWarning, stacklevel=2)
    q, r = _linalg_qr(input, "reduced" if some else "complete")
    return qr_result(q, r)


lu = lu_top
lu_solve = lu_solve_top

# (torch.trace lives with the other products, chainrule/ops/products.py)
__all__ = ["det", "logdet", "slogdet", "inverse", "cholesky", "pinverse", "matrix_power", "matrix_exp", "svd",
           "cross", "qr", "cholesky_solve", "cholesky_inverse", "lu", "lu_solve", "lu_unpack", "triangular_solve"]
TENSOR_METHODS = [name for name in __all__ if name != "lu_unpack"]
