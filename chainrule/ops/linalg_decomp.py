"""Matrix decompositions and solvers (``chainrule.linalg``): det, slogdet, inv, solve,
solve_triangular, cholesky, qr, eigh, svd and matrix_exp, batched over leading dimensions.

Each forward runs NumPy's LAPACK routines (``xp.linalg``); each backward is written in
chainrule's differentiable operators (matmul, the solvers themselves, tril, ...), so a second
derivative runs the same code. The formulas are the standard ones (as in PyTorch's
``FunctionsManual.cpp``):

* det:   gA = g det(A) A^-T;        slogdet: gA = g_logabsdet A^-T
* inv:   gA = -A^-T g A^-T
* solve (A X = B):  gB = A^-T gX,   gA = -gB X^T
* cholesky (Murray 2016): gA = sym(L^-T Phi(L^T gL) L^-1), Phi = lower triangle, diagonal halved
* qr:    gA = (gQ + Q copyltu(M)) R^-T,  M = R gR^T - gQ^T Q   (m >= n; wide matrices by blocks)
* eigh:  gA = V (diag(gL) + skew(V^T gV) / E) V^T,  E_ij = L_j - L_i
* svd:   gA = U [skew(U^T gU)/E S + S skew(V^T gV)/E + diag(gS)] V^T + the parts off the
         column spaces,  E_ij = S_j^2 - S_i^2
* matrix_exp: gA = upper-right block of exp([[A^T, g], [0, A^T]]) (the Frechet derivative)

As in PyTorch, eigh/svd gradients are undefined at repeated eigen/singular values, and only
functions invariant to the sign of each eigen/singular vector have a well-defined gradient.

The constant matrices a backward builds from sizes alone (identities, the halved lower triangle,
zeros for an unused factor) are marked so (``kernels.tables.size_only``): a recorded backward
schedule (``chainrule.compile``) keeps them as constants.
"""

from __future__ import annotations

import numpy as np

from .. import return_types
from ..autograd.function import FunctionNode
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import check_tensor, torch_type_name
from .join import cat
from .linalg import matmul
from .reduction import prod
from .shape import reshape, transpose, tril, triu

linalg_slogdet = return_types.structseq("linalg_slogdet", ("sign", "logabsdet"))
slogdet_result = return_types.structseq("slogdet", ("sign", "logabsdet"))
linalg_inv_ex = return_types.structseq("linalg_inv_ex", ("inverse", "info"))
linalg_cholesky_ex = return_types.structseq("linalg_cholesky_ex", ("L", "info"))
linalg_qr = return_types.structseq("linalg_qr", ("Q", "R"))
linalg_eigh = return_types.structseq("linalg_eigh", ("eigenvalues", "eigenvectors"))
linalg_svd = return_types.structseq("linalg_svd", ("U", "S", "Vh"))


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (singular or not positive-definite), as
    ``torch.linalg.LinAlgError``: a RuntimeError."""


LinAlgError.__module__ = "chainrule.linalg"


# ---- argument checks -------------------------------------------------------------------------------
def check_float(a: Tensor, name: str) -> None:
    if a._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {torch_type_name(a)}")


def check_matrix(a, name: str, label: str = "A", square: bool = False, op: str | None = None) -> Tensor:
    """``a`` is a floating tensor of at least 2 dimensions (square ones when asked), else PyTorch's error."""
    a = check_tensor(a, op or name.split(".")[-1], label)
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {label} must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: {label} must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    check_float(a, name)
    return a


def mT(x: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name for the matrix transpose
    return transpose(x, -1, -2)


def _batch_prefix(flat_index: int, batch: tuple) -> str:
    return f"(Batch element {flat_index}): " if batch else ""


def _lu_info(a: np.ndarray) -> int:
    """LAPACK getrf's info for one matrix: the (1-based) first zero pivot of partial-pivot LU, or 0."""
    u = np.array(a, dtype=np.float64)
    n = u.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        u[[k, p]] = u[[p, k]]
        u[k + 1:, k:] -= np.outer(u[k + 1:, k] / u[k, k], u[k, k:])
    return 0


def singular_info(a: np.ndarray) -> np.ndarray:
    """getrf's info for each matrix of a batch."""
    flat = a.reshape((-1,) + a.shape[-2:])
    return np.array([_lu_info(m) for m in flat], dtype=np.int32).reshape(a.shape[:-2])


def _raise_singular(a: np.ndarray, name: str) -> None:
    info = singular_info(a)
    flat = info.reshape(-1)
    bad = int(np.flatnonzero(flat)[0]) if np.any(flat) else 0
    k = int(flat[bad]) if flat.size else 0
    raise LinAlgError(f"{name}: {_batch_prefix(bad, a.shape[:-2])}The diagonal element {max(k, 1)} is zero, the "
                      "inversion could not be completed because the input matrix is singular.")


def _cholesky_info(a: np.ndarray) -> np.ndarray:
    """potrf's info for each matrix: the order of the first leading minor that is not positive-definite."""
    flat = a.reshape((-1,) + a.shape[-2:])
    info = np.zeros(len(flat), dtype=np.int32)
    for i, m in enumerate(flat):
        try:
            np.linalg.cholesky(m)
            continue
        except np.linalg.LinAlgError:
            pass
        for k in range(1, m.shape[0] + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                info[i] = k
                break
    return info.reshape(a.shape[:-2])


# ---- determinants ----------------------------------------------------------------------------------
class Det(FunctionNode):
    """det(A); gA = g det(A) A^-T (A invertible)."""

    torch_name = "LinalgDetBackward0"

    def forward(self, a):
        y = self.xp.asarray(self.xp.linalg.det(a), dtype=a.dtype)
        self.save_for_backward(a, y)
        return y

    def backward(self, g):
        a, y = self.saved_tensors
        if np.any(y._data == 0):  # singular: the cofactor matrix from the SVD (A^-1 does not exist)
            return reshape(g, tuple(g.shape) + (1, 1)) * _cofactor(a)
        s = reshape(g * y, tuple(g.shape) + (1, 1))
        return s * mT(inv(a))


def _cofactor(a: Tensor) -> Tensor:
    """cof(A) = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh for A = U diag(s) Vh, defined for singular A too."""
    u, s, vh = Svd(False).apply(a)
    n = s.shape[-1]
    eye = Tensor._make(np.eye(n, dtype=s._data.dtype))
    others = prod(reshape(s, s.shape[:-1] + (1, n)) * (1 - eye) + eye, -1)
    sign = np.sign(np.linalg.det(u._data) * np.linalg.det(vh._data)).astype(s._data.dtype)[..., None]
    scaled = u * reshape(others * Tensor._make(sign), s.shape[:-1] + (1, n))
    return matmul(scaled, vh)


class Slogdet(FunctionNode):
    """(sign, log|det A|); the sign is piecewise constant, g_logabsdet gives g A^-T."""

    torch_name = "LinalgSlogdetBackward0"

    def forward(self, a):
        self._materialize_grads = False
        sign, logabs = self.xp.linalg.slogdet(a)
        self.save_for_backward(a)
        return self.xp.asarray(sign, dtype=a.dtype), self.xp.asarray(logabs, dtype=a.dtype)

    def backward(self, gsign, glogabs):
        if glogabs is None:
            return None
        (a,) = self.saved_tensors
        return reshape(glogabs, tuple(glogabs.shape) + (1, 1)) * mT(inv(a))


def det(A: Tensor) -> Tensor:
    """Determinant of each square matrix of ``A`` (..., n, n)."""
    return Det().apply(check_matrix(A, "linalg.det", square=True))


def slogdet(A: Tensor):
    """(sign, logabsdet) with det(A) = sign * exp(logabsdet); a namedtuple as PyTorch's."""
    sign, logabs = Slogdet().apply(check_matrix(A, "linalg.slogdet", square=True))
    return linalg_slogdet(sign, logabs)


# ---- inverse and solvers ---------------------------------------------------------------------------
class Inv(FunctionNode):
    """A^-1; gA = -A^-T g A^-T, written with the saved inverse so it differentiates again."""

    torch_name = "LinalgInvExBackward0"

    def __init__(self, name: str = "linalg.inv", check_errors: bool = True):
        self.name_, self.check_errors = name, check_errors

    def forward(self, a):
        xp = self.xp
        try:
            y = xp.linalg.inv(a)
        except np.linalg.LinAlgError:
            if self.check_errors:
                _raise_singular(a, self.name_)
            info = singular_info(a)
            y = xp.full(a.shape, np.nan, dtype=a.dtype)
            ok = info == 0
            if np.any(ok):
                y[ok] = xp.linalg.inv(a[ok])
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        yt = mT(y)
        return -matmul(matmul(yt, g), yt)


def inv(A: Tensor) -> Tensor:
    """Inverse of each square matrix of ``A``; a singular matrix raises ``LinAlgError``."""
    return Inv().apply(check_matrix(A, "linalg.inv", square=True))


def inv_ex(A: Tensor, *, check_errors: bool = False):
    """(inverse, info): info is 0, or LAPACK's index of the zero pivot for a singular matrix (whose
    inverse is then NaN)."""
    A = check_matrix(A, "linalg.inv_ex", square=True)
    y = Inv("linalg.inv_ex", check_errors).apply(A)
    info = singular_info(A._data) if not np.all(np.isfinite(y._data)) else np.zeros(A.shape[:-2], np.int32)
    return linalg_inv_ex(y, Tensor._make(np.asarray(info, dtype=np.int32)))


def _is_vector_rhs(a: Tensor, b: Tensor) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) when 1-D, or when its shape is A's less the last dim."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and tuple(b.shape) == tuple(a.shape[:-1]))


class Solve(FunctionNode):
    """X = A^-1 B with broadcast batch dimensions (B a matrix, or a vector when ``vector``);
    gB = A^-T gX, gA = -gB X^T."""

    torch_name = "LinalgSolveExBackward0"

    def __init__(self, vector: bool):
        self.vector = vector

    def forward(self, a, b):
        xp = self.xp
        bm = b[..., None] if self.vector else b
        batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
        a_b = xp.broadcast_to(a, batch + a.shape[-2:])
        b_b = xp.broadcast_to(bm, batch + bm.shape[-2:])
        try:
            x = xp.linalg.solve(a_b, b_b)
        except np.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") from None
        x = x[..., 0] if self.vector else x
        self.save_for_backward(a, x)
        return x

    def backward(self, g):
        a, x = self.saved_tensors
        gb = Solve(self.vector).apply(mT(a), g)
        ga = None
        if self.needs_input_grad[0]:
            if self.vector:
                ga = -reshape(gb, tuple(gb.shape) + (1,)) * reshape(x, x.shape[:-1] + (1, x.shape[-1]))
            else:
                ga = -matmul(gb, mT(x))
        return ga, (gb if self.needs_input_grad[1] else None)


def _same_dtype(a: Tensor, b: Tensor, name: str) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of type "
                           f"{torch_type_name(a)} and B of type {torch_type_name(b)} instead")


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (``left=False``: X A = B); batch dimensions broadcast, B may be a vector."""
    A = check_matrix(A, "linalg.solve", square=True)
    B = check_tensor(B, "solve", "B")
    _same_dtype(A, B, "linalg.solve")
    vector = _is_vector_rhs(A, B)
    if not left:
        if vector:
            return Solve(True).apply(mT(A), B)
        return mT(solve(mT(A), mT(B)))
    rows = B.shape[-1] if vector else (B.shape[-2] if B.ndim >= 2 else B.shape[0])
    if B.ndim < 1 or rows != A.shape[-1]:
        cols = 1 if vector or B.ndim < 2 else B.shape[-1]
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {rows}x{cols})")
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-1] if vector else B.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"linalg.solve: batch dimensions of A {list(A.shape)} and B {list(B.shape)} "
                           "cannot be broadcast") from None
    return Solve(vector).apply(A, B)


class SolveTriangular(FunctionNode):
    """X with A X = B (``left``) or X A = B, A triangular (``upper``; ``unitriangular`` reads a unit
    diagonal). gB = A^-T gX (resp. gX A^-T); gA = -gB X^T (resp. -X^T gB) on A's triangle."""

    torch_name = "LinalgSolveTriangularBackward0"

    def __init__(self, upper: bool, left: bool, unitriangular: bool):
        self.upper, self.left, self.unit = upper, left, unitriangular

    def forward(self, a, b):
        xp = self.xp
        t = xp.triu(a) if self.upper else xp.tril(a)
        if self.unit:
            n = a.shape[-1]
            t = t.copy()
            t[..., range(n), range(n)] = 1
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        if self.left:
            x = xp.linalg.solve(xp.broadcast_to(t, batch + t.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:]))
        else:  # X A = B  <=>  A^T X^T = B^T
            tt, bt = xp.swapaxes(t, -1, -2), xp.swapaxes(b, -1, -2)
            x = xp.swapaxes(xp.linalg.solve(xp.broadcast_to(tt, batch + tt.shape[-2:]),
                                            xp.broadcast_to(bt, batch + bt.shape[-2:])), -1, -2)
        x = xp.ascontiguousarray(x)  # the saved array must be the returned one (double backward)
        self.save_for_backward(a, x)
        return x

    def backward(self, g):
        a, x = self.saved_tensors
        gb = SolveTriangular(not self.upper, self.left, self.unit).apply(mT(a), g)
        ga = None
        if self.needs_input_grad[0]:
            ga = -matmul(gb, mT(x)) if self.left else -matmul(mT(x), gb)
            k = 1 if self.unit else 0
            ga = triu(ga, k) if self.upper else tril(ga, -k)
        return ga, (gb if self.needs_input_grad[1] else None)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:
    """X with A X = B (or X A = B when ``left=False``) for triangular A; only A's triangle is read."""
    A = check_matrix(A, "linalg.solve_triangular", square=True)
    B = check_matrix(B, "linalg.solve_triangular", label="B")
    _same_dtype(A, B, "linalg.solve_triangular")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    return SolveTriangular(bool(upper), bool(left), bool(unitriangular)).apply(A, B)


# ---- Cholesky ----------------------------------------------------------------------------------------
class Cholesky(FunctionNode):
    """L with A = L L^T from A's lower triangle (``upper``: U = L^T). Murray (2016):
    gA = sym(L^-T Phi(L^T gL) L^-1), Phi taking the lower triangle with the diagonal halved."""

    def __init__(self, upper: bool, name: str = "linalg.cholesky", check_errors: bool = True, legacy: bool = False):
        self.upper, self.name_, self.check_errors, self.legacy = upper, name, check_errors, legacy

    @property
    def torch_name(self) -> str:
        return "CholeskyBackward0" if self.legacy else "LinalgCholeskyExBackward0"

    def forward(self, a):
        xp = self.xp
        try:
            low = xp.linalg.cholesky(a)
            self.info = np.zeros(a.shape[:-2], np.int32)
        except np.linalg.LinAlgError:
            self.info = _cholesky_info(a)
            if self.check_errors:
                flat = self.info.reshape(-1)
                bad = int(np.flatnonzero(flat)[0])
                raise LinAlgError(
                    f"{self.name_}: {_batch_prefix(bad, a.shape[:-2])}The factorization could not be completed "
                    f"because the input is not positive-definite (the leading minor of order {int(flat[bad])} "
                    "is not positive-definite).") from None
            low = xp.zeros_like(a)
            ok = self.info == 0
            if np.any(ok):
                low[ok] = xp.linalg.cholesky(a[ok])
        y = xp.ascontiguousarray(xp.swapaxes(low, -1, -2)) if self.upper else low
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        low, gl = (mT(y), mT(g)) if self.upper else (y, g)
        n = low.shape[-1]
        half = np.tril(np.ones((n, n), dtype=low._data.dtype)) - 0.5 * np.eye(n, dtype=low._data.dtype)
        phi = matmul(mT(low), gl) * Tensor._make(size_only(half))
        x = SolveTriangular(True, True, False).apply(mT(low), phi)  # L^-T Phi
        ga = SolveTriangular(False, False, False).apply(low, x)  # (L^-T Phi) L^-1
        return (ga + mT(ga)) * 0.5


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """Cholesky factor L (A = L L^T) of each symmetric positive-definite matrix; U = L^T when ``upper``."""
    return Cholesky(bool(upper)).apply(check_matrix(A, "linalg.cholesky", square=True))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """(L, info): info is 0, or the order of the first leading minor that is not positive-definite."""
    A = check_matrix(A, "linalg.cholesky_ex", square=True)
    node = Cholesky(bool(upper), "linalg.cholesky_ex", check_errors)
    L = node.apply(A)
    return linalg_cholesky_ex(L, Tensor._make(np.asarray(node.info, dtype=np.int32)))


# ---- QR ------------------------------------------------------------------------------------------------
def _qr_backward_tall(gq, gr, q, r):
    """A = Q R with m >= n (reduced): gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q."""
    terms = []
    if gr is not None:
        terms.append(matmul(r, mT(gr)))
    if gq is not None:
        terms.append(-matmul(mT(gq), q))
    m = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    b = matmul(q, tril(m) + mT(tril(m, -1)))
    if gq is not None:
        b = b + gq
    return SolveTriangular(False, False, False).apply(mT(r), b)  # b R^-T: X R^T = b, R^T lower


class Qr(FunctionNode):
    """Q, R = qr(A) with ``mode`` 'reduced', 'complete' or 'r' (Q empty)."""

    torch_name = "LinalgQrBackward0"

    def __init__(self, mode: str):
        self.mode = mode

    def forward(self, a):
        xp = self.xp
        self._materialize_grads = False
        q, r = xp.linalg.qr(a, mode="complete" if self.mode == "complete" else "reduced")
        if self.mode == "r":
            self.save_for_backward(None, None)
            return xp.zeros((0,), dtype=a.dtype), r
        self.save_for_backward(q, r)
        return q, r

    def backward(self, gq, gr):
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        q, r = self.saved_tensors
        m, n = q.shape[-2], r.shape[-1]
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(gq, gr, q, r)
        # wide: A = [X | Y], R = [U | V], X = Q U, Y = Q V
        u, v = r[..., :, :m], r[..., :, m:]
        gu = gr[..., :, :m] if gr is not None else None
        gy = matmul(q, gr[..., :, m:]) if gr is not None else None
        gq2 = gq
        if gr is not None:
            y = matmul(q, v)
            gq2 = matmul(y, mT(gr[..., :, m:])) + (gq if gq is not None else 0)
        gx = _qr_backward_tall(gq2, gu, q, u)
        if gy is None:
            gy = matmul(q, r[..., :, m:] * 0)
        return cat([gx, gy], -1)


def qr(A: Tensor, mode: str = "reduced"):
    """(Q, R) with A = Q R, Q orthonormal columns, R upper triangular; ``mode`` 'reduced', 'complete' or 'r'."""
    A = check_matrix(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    q, r = Qr(mode).apply(A)
    return linalg_qr(q, r)


# ---- symmetric eigendecomposition and SVD --------------------------------------------------------------
def _off_diagonal_quotient(num: Tensor, e: Tensor) -> Tensor:
    """num / e with e's diagonal replaced by 1 (num's diagonal is 0 there)."""
    n = e.shape[-1]
    eye = Tensor._make(size_only(np.eye(n, dtype=e._data.dtype)))
    return num / (e * (1 - eye) + eye)


def diag_embed(v: Tensor) -> Tensor:
    """(..., k) -> (..., k, k) with v on the diagonal, differentiably (v * I)."""
    k = v.shape[-1]
    return reshape(v, tuple(v.shape) + (1,)) * Tensor._make(size_only(np.eye(k, dtype=v._data.dtype)))


class Eigh(FunctionNode):
    """(L, V) with A = V diag(L) V^T from A's ``UPLO`` triangle, L ascending."""

    torch_name = "LinalgEighBackward0"

    def __init__(self, uplo: str):
        self.uplo = uplo

    def forward(self, a):
        self._materialize_grads = False
        w, v = self.xp.linalg.eigh(a, UPLO=self.uplo)
        self.save_for_backward(w, v)
        return w, v

    def backward(self, gl, gv):
        w, v = self.saved_tensors
        inner = None
        if gv is not None:
            vhgv = matmul(mT(v), gv)
            vhgv = (vhgv - mT(vhgv)) * 0.5
            e = reshape(w, w.shape[:-1] + (1, w.shape[-1])) - reshape(w, tuple(w.shape) + (1,))
            inner = _off_diagonal_quotient(vhgv, e)
        if gl is not None:
            inner = diag_embed(gl) if inner is None else inner + diag_embed(gl)
        if inner is None:
            return None
        return matmul(matmul(v, inner), mT(v))


def _check_uplo(UPLO: str) -> str:
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


def _eigh_input(A, name: str) -> Tensor:
    A = check_tensor(A, name.split(".")[-1], "A")
    if A._data.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for \'{torch_type_name(A)}\'')
    return check_matrix(A, name, square=True)


def eigh(A: Tensor, UPLO: str = "L"):  # noqa: N803 - PyTorch's keyword
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric matrix, read from its ``UPLO`` triangle."""
    A = _eigh_input(A, "linalg.eigh")
    w, v = Eigh(_check_uplo(UPLO)).apply(A)
    return linalg_eigh(w, v)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    """Eigenvalues (ascending) of each symmetric matrix."""
    A = _eigh_input(A, "linalg.eigvalsh")
    return Eigh(_check_uplo(UPLO)).apply(A)[0]


class Svd(FunctionNode):
    """(U, S, Vh) with A = U diag(S) Vh; with ``full_matrices`` the gradient uses the first k = min(m, n)
    columns of U and rows of Vh only (the rest is not unique), as PyTorch."""

    torch_name = "LinalgSvdBackward0"

    def __init__(self, full_matrices: bool):
        self.full = full_matrices

    def forward(self, a):
        self._materialize_grads = False
        u, s, vh = self.xp.linalg.svd(a, full_matrices=self.full)
        self.save_for_backward(u, s, vh)
        return u, s, vh

    def backward(self, gu, gs, gvh):
        u, s, vh = self.saved_tensors
        m, n = u.shape[-2], vh.shape[-1]
        k = s.shape[-1]
        if self.full:
            u, vh = u[..., :, :k], vh[..., :k, :]
            gu = gu[..., :, :k] if gu is not None else None
            gvh = gvh[..., :k, :] if gvh is not None else None
        if gu is None and gvh is None:
            if gs is None:
                return None
            return matmul(u * reshape(gs, gs.shape[:-1] + (1, k)), vh)
        s_row = reshape(s, s.shape[:-1] + (1, k))  # scales columns
        s_col = reshape(s, tuple(s.shape) + (1,))  # scales rows
        s2 = s * s
        e = reshape(s2, s2.shape[:-1] + (1, k)) - reshape(s2, tuple(s2.shape) + (1,))
        if gs is not None:
            inner = diag_embed(gs)
        else:
            inner = Tensor._make(size_only(np.zeros(s.shape[:-1] + (k, k), s._data.dtype)))
        if gu is not None:
            uhgu = matmul(mT(u), gu)
            inner = inner + _off_diagonal_quotient(uhgu - mT(uhgu), e) * s_row
        if gvh is not None:
            v, gv = mT(vh), mT(gvh)
            vhgv = matmul(vh, gv)
            inner = inner + s_col * _off_diagonal_quotient(vhgv - mT(vhgv), e)
        ga = matmul(matmul(u, inner), vh)
        if gu is not None and m > k:
            ga = ga + matmul((gu - matmul(u, uhgu)) / s_row, vh)
        if gvh is not None and n > k:
            ga = ga + matmul(u, mT((gv - matmul(v, vhgv)) / s_row))
        return ga


def svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending; ``full_matrices=False`` gives the reduced factors."""
    A = check_matrix(A, "linalg.svd")
    u, s, vh = Svd(bool(full_matrices)).apply(A)
    return linalg_svd(u, s, vh)


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """Singular values of each matrix, descending."""
    A = check_matrix(A, "linalg.svdvals")
    return Svd(False).apply(A)[1]


# ---- matrix exponential -------------------------------------------------------------------------------
def _expm(xp, a):
    """exp(A) by scaling and squaring with a degree-18 Taylor polynomial (||A / 2^s||_1 <= 1/2)."""
    norm = np.abs(a).sum(axis=-2).max(axis=-1) if a.size else np.zeros(a.shape[:-2])
    top = float(np.max(norm)) if np.size(norm) else 0.0
    s = max(0, int(np.ceil(np.log2(top / 0.5)))) if top > 0.5 else 0
    x = a / a.dtype.type(2.0 ** s)
    n = a.shape[-1]
    eye = xp.eye(n, dtype=a.dtype)
    term = xp.broadcast_to(eye, a.shape).copy()
    result = term.copy()
    for k in range(1, 19):
        term = (term @ x) / a.dtype.type(k)
        result = result + term
    for _ in range(s):
        result = result @ result
    return result


class MatrixExp(FunctionNode):
    """exp(A) = sum_k A^k / k!; gA = [exp([[A^T, g], [0, A^T]])]_12 (itself a matrix_exp, so it
    differentiates again)."""

    torch_name = "LinalgMatrixExpBackward0"

    def forward(self, a):
        self.save_for_backward(a)
        return _expm(self.xp, a)

    def backward(self, g):
        (a,) = self.saved_tensors
        at = mT(a)
        n = a.shape[-1]
        top = cat([at, g], -1)
        bottom = cat([at * 0, at], -1)
        big = MatrixExp().apply(cat([top, bottom], -2))
        return big[..., :n, n:]


def matrix_exp(A: Tensor) -> Tensor:
    """Matrix exponential exp(A) = sum_k A^k / k! of each square matrix."""
    return MatrixExp().apply(check_matrix(A, "linalg.matrix_exp", square=True))


__all__: list[str] = []  # public through chainrule.linalg and the top-level aliases in linalg_composite
TENSOR_METHODS: list[str] = []
