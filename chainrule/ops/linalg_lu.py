"""LU with partial pivoting (``chainrule.linalg.lu_factor``, ``lu``, ``lu_solve`` and PyTorch's
older ``torch.lu``, ``lu_unpack``, ``lu_solve``), batched, differentiable.

A = P L U with L unit lower triangular (m x k), U upper triangular (k x n), k = min(m, n); the
pivots are LAPACK getrf's (1-based row swaps). The factorisation runs column by column over the
whole batch in NumPy (the same pivot choice as getrf: the first largest |a_ij|). Gradient for a
square A (tall and wide matrices reduce to it by blocks):

    gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T

written with the differentiable triangular solver, so it differentiates again.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import return_types
from ..autograd.function import FunctionNode, named_output
from ..kernels.tables import size_only
from ..tensor import Tensor
from ._util import check_tensor, torch_type_name
from .join import cat
from .linalg import matmul
from .linalg_decomp import SolveTriangular, check_matrix, mT
from .shape import tril, triu

linalg_lu_factor = return_types.structseq("linalg_lu_factor", ("LU", "pivots"))
linalg_lu_factor_ex = return_types.structseq("linalg_lu_factor_ex", ("LU", "pivots", "info"))
linalg_lu = return_types.structseq("linalg_lu", ("P", "L", "U"))
lu_unpack_result = return_types.structseq("lu_unpack", ("P", "L", "U"))
lu_with_info = return_types.structseq("_lu_with_info", ("LU", "pivots", "info"))


def _getrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(LU packed, 1-based pivots int32, info int32) of each matrix of ``a`` (..., m, n)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    flat = a.reshape((-1, m, n)).copy()
    b = np.arange(flat.shape[0])
    piv = np.zeros((flat.shape[0], k), dtype=np.int32)
    info = np.zeros(flat.shape[0], dtype=np.int32)
    for j in range(k):
        p = j + np.argmax(np.abs(flat[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        row = flat[b, j].copy()
        flat[b, j] = flat[b, p]
        flat[b, p] = row
        pivot = flat[:, j, j]
        zero = pivot == 0
        info[(info == 0) & zero] = j + 1
        flat[:, j + 1:, j] /= np.where(zero, 1, pivot)[:, None]
        flat[:, j + 1:, j + 1:] -= flat[:, j + 1:, j, None] * flat[:, j, None, j + 1:]
    batch = a.shape[:-2]
    return flat.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def permutation(pivots: np.ndarray, m: int, dtype) -> np.ndarray:
    """P (..., m, m) with A = P L U from getrf's 1-based row swaps."""
    batch = pivots.shape[:-1]
    flat = pivots.reshape((-1, pivots.shape[-1])) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    b = np.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        row = perm[b, j].copy()
        perm[b, j] = perm[b, p]
        perm[b, p] = row
    out = np.zeros((flat.shape[0], m, m), dtype=dtype)
    out[b[:, None], perm, np.arange(m)[None, :]] = 1  # P[perm[i], i] = 1: rows perm of A are L U
    return out.reshape(batch + (m, m))


def _unpack(lu: Tensor) -> tuple[Tensor, Tensor]:
    """(L unit lower m x k, U upper k x n) from the packed factor, differentiably."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    eye = Tensor._make(np.eye(m, k, dtype=lu._data.dtype))
    return tril(lu[..., :, :k], -1) + eye, triu(lu[..., :k, :])


def _square_backward(p: Tensor, low: Tensor, up: Tensor, gl, gu) -> Tensor:
    """gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T for A = P L U square."""
    terms = []
    if gl is not None:
        terms.append(tril(matmul(mT(low), gl), -1))
    if gu is not None:
        terms.append(triu(matmul(gu, mT(up))))
    phi = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    x = SolveTriangular(True, True, True).apply(mT(low), phi)  # L^-T phi (L^T unit upper)
    x = SolveTriangular(False, False, False).apply(mT(up), x)  # ... U^-T (U^T lower)
    return matmul(p, x)


def lu_backward(p: Tensor, low: Tensor, up: Tensor, gl, gu) -> Tensor:
    """The gradient of A = P L U for any shape: tall and wide matrices split into a square block and the rest
    (the identity and zero blocks, built from sizes alone, are marked ``size_only``: constants of a
    recorded backward schedule)."""
    m, n = p.shape[-1], up.shape[-1]
    if m == n:
        return _square_backward(p, low, up, gl, gu)
    dt = up._data.dtype
    if m > n:  # A = P [L1; L2] U: gA2 = gL2 U^-T, and L2 feeds back into U's gradient
        low1, low2 = low[..., :n, :], low[..., n:, :]
        eye = Tensor._make(size_only(np.eye(n, dtype=dt)))
        if gl is None:
            ga1 = _square_backward(eye, low1, up, None, gu)
            ga2 = Tensor._make(size_only(np.zeros(tuple(up.shape[:-2]) + (m - n, n), dtype=dt)))
            return matmul(p, cat([ga1, ga2], -2))
        ga2 = SolveTriangular(False, False, False).apply(mT(up), gl[..., n:, :])  # gL2 U^-T
        gu_eff = -matmul(mT(low2), ga2) + (gu if gu is not None else 0)
        ga1 = _square_backward(eye, low1, up, gl[..., :n, :], gu_eff)
        return matmul(p, cat([ga1, ga2], -2))
    # m < n: A = P L [U1 U2]: gA2 = L^-T gU2 (before P), and U2 feeds back into L's gradient
    up1, up2 = up[..., :, :m], up[..., :, m:]
    eye = Tensor._make(size_only(np.eye(m, dtype=dt)))
    if gu is None:
        ga1 = _square_backward(eye, low, up1, gl, None)
        ga2 = Tensor._make(size_only(np.zeros(tuple(up.shape[:-2]) + (m, n - m), dtype=dt)))
        return matmul(p, cat([ga1, ga2], -1))
    gu1, gu2 = gu[..., :, :m], gu[..., :, m:]
    ga2 = SolveTriangular(True, True, True).apply(mT(low), gu2)  # L^-T gU2
    gl_eff = -matmul(ga2, mT(up2)) + (gl if gl is not None else 0)
    ga1 = _square_backward(eye, low, up1, gl_eff, gu1)
    return matmul(p, cat([ga1, ga2], -1))


class LuFactor(FunctionNode):
    """(LU packed, pivots) of A; the gradient of the packed factor is that of (L, U)."""

    torch_name = "LinalgLuFactorExBackward0"

    def forward(self, a):
        lu, piv, self.info = _getrf(a)
        self.save_for_backward(lu, piv)
        return lu, piv

    def backward(self, glu, gpiv=None):
        lu, piv = self.saved_tensors
        m, n = lu.shape[-2:]
        k = min(m, n)
        low, up = _unpack(lu)
        p = Tensor._make(permutation(piv._data, m, lu._data.dtype))
        return lu_backward(p, low, up, tril(glu[..., :, :k], -1), triu(glu[..., :k, :]))


class Lu(FunctionNode):
    """(L, U) of A = P L U (P is returned apart, as a constant: it has no gradient)."""

    torch_name = "LinalgLuBackward0"

    def forward(self, a):
        self._materialize_grads = False
        lu, piv, _ = _getrf(a)
        m, n = a.shape[-2:]
        k = min(m, n)
        self.p = permutation(piv, m, a.dtype)
        low = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=a.dtype)
        up = np.triu(lu[..., :k, :])
        self.save_for_backward(low, up)
        return low, up

    def backward(self, gl, gu):
        low, up = self.saved_tensors
        return lu_backward(Tensor._make(self.p), low, up, gl, gu)


def _lu_input(A, name: str) -> Tensor:
    A = check_tensor(A, name.split(".")[-1], "A")
    if A.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} "
                           "instead")
    if A._data.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{torch_type_name(A)}'")
    return A


def _no_pivot(pivot: bool) -> None:
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):
    """(LU, pivots, info): the packed factors of A = P L U, getrf's 1-based pivots, and info > 0 where
    U has a zero on its diagonal."""
    A = _lu_input(A, "linalg.lu_factor_ex")
    _no_pivot(pivot)
    node = LuFactor()
    lu, piv = node.apply(A)
    return linalg_lu_factor_ex(lu, piv, Tensor._make(node.info))


def lu_factor(A: Tensor, *, pivot: bool = True):
    """(LU, pivots) of A = P L U, for ``lu_solve``; a zero on U's diagonal is an error (``lu_factor_ex`` reports it)."""
    lu, piv, info = lu_factor_ex(A, pivot=pivot)
    flat = info._data.reshape(-1)
    if np.any(flat):
        bad = int(np.flatnonzero(flat)[0])
        k = int(flat[bad])
        prefix = f"(Batch element {bad}): " if A.ndim > 2 else ""
        raise RuntimeError(f"torch.linalg.lu_factor: {prefix}U[{k},{k}] is zero and using it on lu_solve would result "
                           "in a division by zero. If you still want to perform the factorization, consider calling "
                           "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return linalg_lu_factor(lu, piv)


def lu(A: Tensor, *, pivot: bool = True):
    """(P, L, U) with A = P L U: P a permutation, L unit lower triangular (m x k), U upper (k x n)."""
    A = _lu_input(A, "linalg.lu")
    _no_pivot(pivot)
    node = Lu()
    low, up = node.apply(A)
    return linalg_lu(Tensor._make(node.p), low, up)


@named_output("LinalgLuSolveBackward0")
def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:  # noqa: N803
    """X with A X = B from A's ``lu_factor`` (``adjoint``: A^T X = B; ``left=False``: X A = B), by two
    triangular solves; differentiable in LU and B."""
    LU = check_matrix(LU, "linalg.lu_solve", label="LU", square=True)
    B = check_matrix(B, "linalg.lu_solve", label="B")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return mT(lu_solve(LU, pivots, mT(B), adjoint=not adjoint))
    p = Tensor._make(permutation(np.asarray(pivots._data), n, LU._data.dtype))
    if adjoint:  # U^T L^T P^T X = B
        y = SolveTriangular(False, True, False).apply(mT(LU), B)
        y = SolveTriangular(True, True, True).apply(mT(LU), y)
        return matmul(p, y)
    y = SolveTriangular(False, True, True).apply(LU, matmul(mT(p), B))
    return SolveTriangular(True, True, False).apply(LU, y)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True):  # noqa: N803
    """(P, L, U) from ``lu_factor``'s packed result (empty tensors for the parts not asked for)."""
    LU = check_matrix(LU_data, "lu_unpack", label="LU_data")
    empty = Tensor._make(np.zeros((0,), dtype=LU._data.dtype))
    low, up = _unpack(LU) if unpack_data else (empty, empty)
    for t in (low, up):  # PyTorch's one node for both factors
        if t.grad_fn is not None and t.grad_fn is not LU.grad_fn:
            t.grad_fn._renamed = "LuUnpackBackward0"
    p = Tensor._make(permutation(np.asarray(LU_pivots._data), LU.shape[-2], LU._data.dtype)) if unpack_pivots else empty
    return lu_unpack_result(p, low, up)


# ---- PyTorch's deprecated top-level forms -------------------------------------------------------------
def lu_top(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """torch.lu: (A_LU, pivots) or, with ``get_infos``, (A_LU, pivots, infos); prefer ``linalg.lu_factor``."""
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be "
                  "removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced "
                  "with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
                  "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\n"
                  "LU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)", UserWarning, stacklevel=2)
    lu_, piv, info = lu_factor_ex(A, pivot=pivot)
    return lu_with_info(lu_, piv, info) if get_infos else (lu_, piv)


def lu_solve_top(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
    """torch.lu_solve(b, LU_data, LU_pivots) = ``linalg.lu_solve(LU_data, LU_pivots, b)``."""
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future "
                  "PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\n"
                  "X = torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)",
                  UserWarning, stacklevel=2)
    return lu_solve(LU_data, LU_pivots, b)


lu_top.__name__ = lu_top.__qualname__ = "lu"
lu_solve_top.__name__ = lu_solve_top.__qualname__ = "lu_solve"
