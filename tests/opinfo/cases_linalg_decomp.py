"""Rows for ``chainrule.linalg`` (chainrule/ops/linalg_decomp.py, linalg_composite.py) and the
top-level names (``det``, ``svd`` ...).

As in PyTorch's OpInfo: cholesky/eigh get symmetric positive-definite input built inside the row
(A A^T + n I, so gradcheck may perturb A freely), inverses/solvers get A + n I (well
conditioned), and eigenvectors/singular vectors enter only through functions invariant to their
signs (V * V, U Vh), whose gradients are defined.
"""

from __future__ import annotations

import numpy as np
import torch

import chainrule as cr
import chainrule.linalg  # noqa: F401  (the module form, as ``import torch.linalg``)

from .core import OpCase


def _spd(L, a):
    n = a.shape[-1]
    return a @ a.mT + n * L.eye(n, dtype=a.dtype)


def _well(*shapes):
    """Inputs whose square matrices are diagonally dominated (A + n I), the rest plain uniform."""

    def make(rng, dtype):
        out = []
        for i, s in enumerate(shapes):
            a = rng.uniform(-1.0, 1.0, size=s)
            if i == 0 and len(s) >= 2 and s[-1] == s[-2]:
                a = a + s[-1] * np.eye(s[-1])
            out.append(a)
        return out

    return make


def _both(fn):
    """fn(L, *args) as the pair (chainrule row, torch reference)."""
    return (lambda *a: fn(cr, *a)), (lambda *a: fn(torch, *a))


def row(name, fn, shapes, *, make=None, **kw):
    ours, theirs = _both(fn)
    return OpCase(name, ours, theirs, tuple(shapes), make=make, **kw)


_LOOSE = {"atol32": 1e-4, "rtol32": 1e-4, "atol64": 1e-9, "rtol64": 1e-9}
INF = float("inf")

CASES = [
    # determinants
    row("linalg.det", lambda L, a: L.linalg.det(a), [(3, 3)], op="linalg.det"),
    row("linalg.det.batch", lambda L, a: L.linalg.det(a), [(2, 3, 3)], op="linalg.det"),
    row("linalg.slogdet", lambda L, a: L.linalg.slogdet(a), [(2, 3, 3)], op="linalg.slogdet"),
    row("det", lambda L, a: L.det(a), [(3, 3)]),
    row("det.method", lambda L, a: a.det(), [(2, 2, 2)], op="det"),
    row("slogdet", lambda L, a: L.slogdet(a)[1], [(3, 3)]),
    row("logdet", lambda L, a: L.logdet(_spd(L, a)), [(3, 3)]),
    row("logdet.method", lambda L, a: _spd(L, a).logdet(), [(2, 3, 3)], op="logdet"),
    # inverse and solvers
    row("linalg.inv", lambda L, a: L.linalg.inv(a), [(3, 3)], make=_well((3, 3)), op="linalg.inv"),
    row("linalg.inv.batch", lambda L, a: L.linalg.inv(a), [(2, 3, 3)], make=_well((2, 3, 3)), op="linalg.inv"),
    row("linalg.inv_ex", lambda L, a: L.linalg.inv_ex(a).inverse, [(3, 3)], make=_well((3, 3)),
        op="linalg.inv_ex"),
    row("inverse", lambda L, a: L.inverse(a), [(3, 3)], make=_well((3, 3))),
    row("inverse.method", lambda L, a: a.inverse(), [(2, 2, 2)], make=_well((2, 2, 2)), op="inverse"),
    row("linalg.solve", lambda L, a, b: L.linalg.solve(a, b), [(3, 3), (3, 2)], make=_well((3, 3), (3, 2)),
        op="linalg.solve"),
    row("linalg.solve.vector", lambda L, a, b: L.linalg.solve(a, b), [(3, 3), (3,)], make=_well((3, 3), (3,)),
        op="linalg.solve"),
    row("linalg.solve.batch_vector", lambda L, a, b: L.linalg.solve(a, b), [(2, 3, 3), (2, 3)],
        make=_well((2, 3, 3), (2, 3)), op="linalg.solve"),
    row("linalg.solve.broadcast", lambda L, a, b: L.linalg.solve(a, b), [(3, 3), (2, 3, 2)],
        make=_well((3, 3), (2, 3, 2)), op="linalg.solve"),
    row("linalg.solve_triangular.upper",
        lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True), [(3, 3), (3, 2)], make=_well((3, 3), (3, 2)),
        op="linalg.solve_triangular"),
    row("linalg.solve_triangular.lower_right",
        lambda L, a, b: L.linalg.solve_triangular(a, b, upper=False, left=False), [(2, 3, 3), (4, 3)],
        make=_well((2, 3, 3), (4, 3)), op="linalg.solve_triangular"),
    row("linalg.solve_triangular.unit",
        lambda L, a, b: L.linalg.solve_triangular(a, b, upper=False, unitriangular=True), [(3, 3), (3, 2)],
        make=_well((3, 3), (3, 2)), op="linalg.solve_triangular"),
    # Cholesky, QR
    row("linalg.cholesky", lambda L, a: L.linalg.cholesky(_spd(L, a)), [(3, 3)], op="linalg.cholesky"),
    row("linalg.cholesky.upper_batch", lambda L, a: L.linalg.cholesky(_spd(L, a), upper=True), [(2, 3, 3)],
        op="linalg.cholesky"),
    row("linalg.cholesky_ex", lambda L, a: L.linalg.cholesky_ex(_spd(L, a)).L, [(3, 3)], op="linalg.cholesky_ex"),
    row("linalg.qr", lambda L, a: tuple(L.linalg.qr(a)), [(4, 3)], op="linalg.qr"),
    row("linalg.qr.wide_batch", lambda L, a: tuple(L.linalg.qr(a)), [(2, 3, 4)], op="linalg.qr"),
    row("linalg.qr.complete_square", lambda L, a: tuple(L.linalg.qr(a, mode="complete")), [(3, 3)],
        op="linalg.qr"),
    row("linalg.qr.r", lambda L, a: L.linalg.qr(a, mode="r")[1], [(4, 3)], op="linalg.qr", grad=False),
    # symmetric eigendecomposition and SVD (sign-invariant functions of the vectors)
    row("linalg.eigh", lambda L, a: (lambda r: (r[0], r[1] * r[1]))(L.linalg.eigh(_spd(L, a))), [(3, 3)],
        op="linalg.eigh", **_LOOSE),
    row("linalg.eigh.upper_batch", lambda L, a: (lambda r: (r[0], r[1] * r[1]))(L.linalg.eigh(_spd(L, a), "U")),
        [(2, 3, 3)], op="linalg.eigh", **_LOOSE),
    row("linalg.eigvalsh", lambda L, a: L.linalg.eigvalsh(_spd(L, a)), [(2, 3, 3)], op="linalg.eigvalsh", **_LOOSE),
    row("linalg.svd", lambda L, a: (lambda r: (r[1], r[0] * r[0], r[2] * r[2]))(L.linalg.svd(a, full_matrices=False)),
        [(4, 3)], op="linalg.svd", **_LOOSE),
    row("linalg.svd.wide_batch", lambda L, a: (lambda r: (r[1], r[0] @ r[2]))(L.linalg.svd(a, False)),
        [(2, 3, 4)], op="linalg.svd", **_LOOSE),
    row("linalg.svd.full", lambda L, a: (lambda r: (r[1], r[0][..., :3] * r[0][..., :3]))(L.linalg.svd(a)),
        [(4, 3)], op="linalg.svd", **_LOOSE),
    row("linalg.svdvals", lambda L, a: L.linalg.svdvals(a), [(2, 4, 3)], op="linalg.svdvals", **_LOOSE),
    row("svd", lambda L, a: (lambda r: (r[1], r[0] @ r[2].mT))(L.svd(a)), [(4, 3)], **_LOOSE),
    row("svd.method_full", lambda L, a: (lambda r: (r[1], r[0][:, :3] @ r[2].mT))(a.svd(some=False)), [(4, 3)],
        op="svd", **_LOOSE),
    # pseudo-inverse, least squares, powers, exponential
    row("linalg.pinv", lambda L, a: L.linalg.pinv(a), [(4, 3)], op="linalg.pinv", **_LOOSE),
    row("linalg.pinv.hermitian", lambda L, a: L.linalg.pinv(_spd(L, a), hermitian=True), [(3, 3)],
        op="linalg.pinv", **_LOOSE),
    row("linalg.pinv.wide_batch", lambda L, a: L.linalg.pinv(a), [(2, 2, 3)], op="linalg.pinv", **_LOOSE),
    row("pinverse", lambda L, a: L.pinverse(a), [(3, 4)], **_LOOSE),
    row("pinverse.method", lambda L, a: a.pinverse(), [(3, 2)], op="pinverse", **_LOOSE),
    row("linalg.lstsq", lambda L, a, b: L.linalg.lstsq(a, b).solution, [(5, 3), (5, 2)], op="linalg.lstsq", **_LOOSE),
    row("linalg.lstsq.gelsd", lambda L, a, b: tuple(L.linalg.lstsq(a, b, driver="gelsd"))[:2], [(2, 5, 3), (2, 5, 2)],
        op="linalg.lstsq", **_LOOSE),
    row("linalg.matrix_power", lambda L, a: L.linalg.matrix_power(a, 3), [(3, 3)], op="linalg.matrix_power"),
    row("linalg.matrix_power.negative", lambda L, a: L.linalg.matrix_power(a, -2), [(3, 3)], make=_well((3, 3)),
        op="linalg.matrix_power"),
    row("matrix_power", lambda L, a: L.matrix_power(a, 2), [(2, 3, 3)]),
    row("matrix_power.method", lambda L, a: a.matrix_power(5), [(2, 2)], op="matrix_power"),
    row("linalg.matrix_exp", lambda L, a: L.linalg.matrix_exp(a), [(3, 3)], op="linalg.matrix_exp", **_LOOSE),
    row("linalg.matrix_exp.batch_large", lambda L, a: L.linalg.matrix_exp(3 * a), [(2, 2, 2)],
        op="linalg.matrix_exp", **_LOOSE),
    row("matrix_exp", lambda L, a: L.matrix_exp(a), [(2, 2)], **_LOOSE),
    row("matrix_exp.method", lambda L, a: a.matrix_exp(), [(3, 3)], op="matrix_exp", **_LOOSE),
    row("linalg.multi_dot", lambda L, a, b, c: L.linalg.multi_dot([a, b, c]), [(2, 3), (3, 4), (4, 2)],
        op="linalg.multi_dot"),
    # norms, cond
    row("linalg.vector_norm", lambda L, a: L.linalg.vector_norm(a), [(3, 4)], op="linalg.vector_norm"),
    row("linalg.vector_norm.p3_dim", lambda L, a: L.linalg.vector_norm(a, 3, dim=1, keepdim=True), [(3, 4)],
        op="linalg.vector_norm"),
    row("linalg.vector_norm.half", lambda L, a: L.linalg.vector_norm(a, 0.5, dim=(0, 2)), [(2, 3, 4)],
        op="linalg.vector_norm"),
    row("linalg.vector_norm.inf", lambda L, a: L.linalg.vector_norm(a, INF, dim=0), [(3, 4)],
        op="linalg.vector_norm"),
    row("linalg.vector_norm.neginf", lambda L, a: L.linalg.vector_norm(a, -INF), [(3, 4)], op="linalg.vector_norm"),
    row("linalg.vector_norm.zero", lambda L, a: L.linalg.vector_norm(a, 0), [(3, 4)], op="linalg.vector_norm"),
    row("linalg.matrix_norm", lambda L, a: L.linalg.matrix_norm(a), [(2, 3, 4)], op="linalg.matrix_norm"),
    row("linalg.matrix_norm.nuc", lambda L, a: L.linalg.matrix_norm(a, "nuc"), [(2, 3, 4)],
        op="linalg.matrix_norm", **_LOOSE),
    row("linalg.matrix_norm.two", lambda L, a: L.linalg.matrix_norm(a, 2), [(3, 4)], op="linalg.matrix_norm",
        **_LOOSE),
    row("linalg.matrix_norm.neg_two", lambda L, a: L.linalg.matrix_norm(a, -2), [(4, 3)], op="linalg.matrix_norm",
        **_LOOSE),
    row("linalg.matrix_norm.one", lambda L, a: L.linalg.matrix_norm(a, 1), [(3, 4)], op="linalg.matrix_norm"),
    row("linalg.matrix_norm.inf_dims_keepdim", lambda L, a: L.linalg.matrix_norm(a, INF, dim=(2, 0), keepdim=True),
        [(3, 2, 4)], op="linalg.matrix_norm"),
    row("linalg.matrix_norm.neg_one", lambda L, a: L.linalg.matrix_norm(a, -1), [(3, 4)], op="linalg.matrix_norm"),
    row("linalg.norm", lambda L, a: L.linalg.norm(a), [(2, 3, 4)], op="linalg.norm"),
    row("linalg.norm.vector_ord", lambda L, a: L.linalg.norm(a, 4), [(5,)], op="linalg.norm"),
    row("linalg.norm.matrix_fro", lambda L, a: L.linalg.norm(a, "fro"), [(3, 4)], op="linalg.norm"),
    row("linalg.norm.dim", lambda L, a: L.linalg.norm(a, dim=1), [(3, 4)], op="linalg.norm"),
    row("linalg.norm.nuc_dims", lambda L, a: L.linalg.norm(a, "nuc", dim=(0, 1)), [(3, 4, 2)], op="linalg.norm",
        **_LOOSE),
    row("linalg.cond", lambda L, a: L.linalg.cond(a), [(3, 3)], make=_well((3, 3)), op="linalg.cond", **_LOOSE),
    row("linalg.cond.neg_two_rect", lambda L, a: L.linalg.cond(a, -2), [(2, 4, 3)], op="linalg.cond", **_LOOSE),
    # torch's own backward of cond for these orders fails (it writes into a saved inverse): forward only here,
    # gradcheck in tests/test_linalg_module.py
    row("linalg.cond.fro", lambda L, a: L.linalg.cond(a, "fro"), [(3, 3)], make=_well((3, 3)), op="linalg.cond",
        grad=False),
    row("linalg.cond.one", lambda L, a: L.linalg.cond(a, 1), [(2, 3, 3)], make=_well((2, 3, 3)), op="linalg.cond",
        grad=False),
    # solvers built on the others
    row("linalg.solve_ex", lambda L, a, b: L.linalg.solve_ex(a, b).result, [(2, 3, 3), (3, 2)],
        make=_well((2, 3, 3), (3, 2)), op="linalg.solve_ex"),
    row("linalg.tensorinv", lambda L, a: L.linalg.tensorinv(a.reshape(4, 2, 2), ind=1), [(4, 4)], make=_well((4, 4)),
        op="linalg.tensorinv"),
    row("linalg.tensorsolve", lambda L, a, b: L.linalg.tensorsolve(a.reshape(2, 2, 4), b), [(4, 4), (2, 2)],
        make=_well((4, 4), (2, 2)), op="linalg.tensorsolve"),
    row("linalg.vander", lambda L, a: L.linalg.vander(a, N=4), [(2, 3)], op="linalg.vander"),
    row("cholesky_solve", lambda L, a, b: L.cholesky_solve(b, L.linalg.cholesky(_spd(L, a))), [(3, 3), (3, 2)]),
    row("cholesky_solve.upper_method",
        lambda L, a, b: b.cholesky_solve(L.linalg.cholesky(_spd(L, a), upper=True), True), [(2, 3, 3), (3, 2)],
        op="cholesky_solve"),
    row("cholesky_inverse", lambda L, a: L.cholesky_inverse(L.linalg.cholesky(_spd(L, a))), [(3, 3)]),
    row("cholesky_inverse.upper_method", lambda L, a: L.linalg.cholesky(_spd(L, a), upper=True).cholesky_inverse(True),
        [(3, 3)], op="cholesky_inverse"),
    row("qr", lambda L, a: tuple(L.qr(a)), [(4, 3)]),
    row("qr.method_complete", lambda L, a: tuple(a.qr(some=False)), [(3, 3)], op="qr"),
    # LU
    row("linalg.lu_factor", lambda L, a: L.linalg.lu_factor(a).LU, [(3, 3)], op="linalg.lu_factor"),
    row("linalg.lu_factor.tall_batch", lambda L, a: L.linalg.lu_factor(a).LU, [(2, 4, 3)], op="linalg.lu_factor"),
    row("linalg.lu_factor_ex.wide", lambda L, a: L.linalg.lu_factor_ex(a).LU, [(3, 5)], op="linalg.lu_factor_ex"),
    row("linalg.lu", lambda L, a: tuple(L.linalg.lu(a))[1:], [(2, 3, 3)], op="linalg.lu"),
    row("linalg.lu.tall", lambda L, a: tuple(L.linalg.lu(a))[1:], [(5, 3)], op="linalg.lu"),
    row("linalg.lu.wide", lambda L, a: tuple(L.linalg.lu(a))[1:], [(2, 4)], op="linalg.lu"),
    row("linalg.lu_solve", lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b), [(3, 3), (3, 2)],
        make=_well((3, 3), (3, 2)), op="linalg.lu_solve"),
    row("linalg.lu_solve.adjoint_right", lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b, left=False,
                                                                            adjoint=True), [(2, 3, 3), (2, 4, 3)],
        make=_well((2, 3, 3), (2, 4, 3)), op="linalg.lu_solve"),
    row("lu_unpack", lambda L, a: tuple(L.lu_unpack(*L.linalg.lu_factor(a)))[1:], [(4, 3)]),
    row("triangular_solve", lambda L, a, b: tuple(L.triangular_solve(b, a)), [(3, 3), (2, 3, 2)],
        make=_well((3, 3), (2, 3, 2))),
    row("triangular_solve.lower_transpose_method",
        lambda L, a, b: b.triangular_solve(a, upper=False, transpose=True, unitriangular=True)[0], [(3, 3), (3, 2)],
        make=_well((3, 3), (3, 2)), op="triangular_solve"),
    # cross, vecdot, diagonal
    row("linalg.cross", lambda L, a, b: L.linalg.cross(a, b), [(4, 3), (4, 3)], op="linalg.cross"),
    row("linalg.cross.broadcast_dim", lambda L, a, b: L.linalg.cross(a, b, dim=0), [(3, 1, 2), (3, 4, 2)],
        op="linalg.cross"),
    row("cross", lambda L, a, b: L.cross(a, b, dim=1), [(2, 3), (2, 3)]),
    row("cross.method_default_dim", lambda L, a, b: a.cross(b), [(4, 3), (4, 3)], op="cross"),
    row("linalg.vecdot", lambda L, a, b: L.linalg.vecdot(a, b), [(3, 4), (4,)], op="linalg.vecdot"),
    row("linalg.vecdot.dim", lambda L, a, b: L.linalg.vecdot(a, b, dim=0), [(3, 4), (3, 4)], op="linalg.vecdot"),
    row("linalg.diagonal", lambda L, a: L.linalg.diagonal(a), [(2, 3, 4)], op="linalg.diagonal"),
    row("linalg.diagonal.offset_dims", lambda L, a: L.linalg.diagonal(a, offset=-1, dim1=0, dim2=2), [(4, 2, 3)],
        op="linalg.diagonal"),
]
