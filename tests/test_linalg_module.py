"""``chainrule.linalg`` as a module: its names, result types and fields, integer outputs, and
errors, against PyTorch 2.13 (values and gradients of each function: tests/opinfo/cases_linalg_decomp.py)."""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.linalg
from chainrule.autograd import gradcheck, gradgradcheck

R = np.random.default_rng(0)
SQ = R.standard_normal((3, 3)) + 3 * np.eye(3)
SPD = SQ @ SQ.T + 3 * np.eye(3)
TALL = R.standard_normal((5, 3))
SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])


def both(a):
    return cr.tensor(a), torch.tensor(a)


# ---- the module ------------------------------------------------------------------------------------
def test_import_forms_and_names():
    assert importlib.import_module("chainrule.linalg") is cr.linalg is chainrule.linalg
    names = ("cholesky cholesky_ex cond cross det diagonal eigh eigvalsh inv inv_ex lstsq matmul matrix_exp "
             "matrix_norm matrix_power matrix_rank multi_dot norm pinv qr slogdet solve solve_triangular svd "
             "svdvals vecdot vector_norm LinAlgError solve_ex tensorinv tensorsolve vander lu lu_factor lu_factor_ex "
             "lu_solve").split()
    for name in names:
        assert hasattr(torch.linalg, name), name
        assert callable(getattr(cr.linalg, name)), name
    assert set(cr.linalg.__all__) == set(names)


def test_lin_alg_error_is_a_runtime_error():
    assert issubclass(cr.linalg.LinAlgError, RuntimeError)
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize("name", ["det", "logdet", "slogdet", "inverse", "cholesky", "pinverse", "matrix_power",
                                  "matrix_exp", "svd", "cross", "qr", "cholesky_solve", "cholesky_inverse", "lu",
                                  "lu_solve", "lu_unpack", "triangular_solve"])
def test_top_level_names_and_methods_as_torch(name):
    assert hasattr(cr, name)
    assert hasattr(cr.Tensor, name) == hasattr(torch.Tensor, name)


@pytest.mark.parametrize("call,typename,fields", [
    (lambda L, a: L.linalg.slogdet(a), "linalg_slogdet", ("sign", "logabsdet")),
    (lambda L, a: L.slogdet(a), "slogdet", ("sign", "logabsdet")),
    (lambda L, a: L.linalg.inv_ex(a), "linalg_inv_ex", ("inverse", "info")),
    (lambda L, a: L.linalg.cholesky_ex(a), "linalg_cholesky_ex", ("L", "info")),
    (lambda L, a: L.linalg.qr(a), "linalg_qr", ("Q", "R")),
    (lambda L, a: L.linalg.eigh(a), "linalg_eigh", ("eigenvalues", "eigenvectors")),
    (lambda L, a: L.linalg.svd(a), "linalg_svd", ("U", "S", "Vh")),
    (lambda L, a: L.svd(a), "svd", ("U", "S", "V")),
    (lambda L, a: L.linalg.lstsq(a, a), "linalg_lstsq", ("solution", "residuals", "rank", "singular_values")),
    (lambda L, a: L.linalg.solve_ex(a, a), "linalg_solve_ex", ("result", "info")),
    (lambda L, a: L.qr(a), "qr", ("Q", "R")),
    (lambda L, a: L.linalg.lu_factor(a), "linalg_lu_factor", ("LU", "pivots")),
    (lambda L, a: L.linalg.lu_factor_ex(a), "linalg_lu_factor_ex", ("LU", "pivots", "info")),
    (lambda L, a: L.linalg.lu(a), "linalg_lu", ("P", "L", "U")),
    (lambda L, a: L.lu_unpack(*L.linalg.lu_factor(a)), "lu_unpack", ("P", "L", "U")),
    (lambda L, a: L.lu(a, get_infos=True), "_lu_with_info", ("LU", "pivots", "info")),
    (lambda L, a: L.triangular_solve(a, a), "triangular_solve", ("solution", "cloned_coefficient")),
])
def test_namedtuple_results(call, typename, fields):
    ours, theirs = (call(L, x) for L, x in zip((cr, torch), both(SPD)))
    assert type(ours).__name__ == type(theirs).__name__ == typename
    assert ours._fields == fields
    for f in fields:
        o, t = getattr(ours, f), getattr(theirs, f)
        assert tuple(o.shape) == tuple(t.shape), f
        assert o.dtype.name == str(t.dtype).split(".")[-1], f


def test_float32_stays_float32():
    a = cr.tensor(SPD.astype(np.float32))
    for r in (cr.linalg.det(a), cr.linalg.inv(a), cr.linalg.cholesky(a), cr.linalg.eigh(a)[1], cr.linalg.svd(a)[0],
              cr.linalg.matrix_exp(a), cr.linalg.pinv(a), cr.linalg.norm(a, "nuc"), cr.linalg.solve(a, a[0])):
        assert r.dtype == cr.float32


# ---- integer results and fields ---------------------------------------------------------------------
@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("shapes", [((5, 3), (5, 2)), ((2, 5, 3), (2, 5, 2)), ((5, 3), (5,)), ((3, 5), (3, 2))])
def test_lstsq_fields_as_torch_cpu_drivers(driver, shapes):
    a, b = R.standard_normal(shapes[0]), R.standard_normal(shapes[1])
    ours = cr.linalg.lstsq(cr.tensor(a), cr.tensor(b), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape) and o.dtype.name == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-9, atol=1e-9)


def test_lstsq_rank_deficient_gives_the_minimum_norm_solution():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    b = np.array([[1.0], [2.0], [2.5]])
    ours = cr.linalg.lstsq(cr.tensor(a), cr.tensor(b))
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(ours.solution.numpy(), theirs.solution.numpy(), rtol=1e-9, atol=1e-12)
    assert int(ours.rank) == int(theirs.rank) == 1


@pytest.mark.parametrize("kw", [{}, {"atol": 0.7}, {"rtol": 0.3}, {"hermitian": True}, {"atol": 0.5, "rtol": 0.1}])
def test_matrix_rank_and_pinv_tolerances(kw):
    u, _ = np.linalg.qr(R.standard_normal((4, 4)))
    a = u @ np.diag([3.0, 1.0, 0.4, 1e-18]) @ u.T  # symmetric, numerically of rank 3
    x, t = both(np.stack([a, 2 * a]))
    assert torch.equal(torch.from_numpy(cr.linalg.matrix_rank(x, **kw).numpy()), torch.linalg.matrix_rank(t, **kw))
    assert cr.linalg.matrix_rank(x, **kw).dtype == cr.int64
    np.testing.assert_allclose(cr.linalg.pinv(x, **kw).numpy(), torch.linalg.pinv(t, **kw).numpy(), atol=1e-9)


def test_ex_variants_report_info_instead_of_raising():
    x, t = both(np.stack([SQ, np.pad(SINGULAR, ((0, 1), (0, 1)))]))
    ours, theirs = cr.linalg.inv_ex(x), torch.linalg.inv_ex(t)
    assert ours.info.dtype == cr.int32 and ours.info.tolist() == theirs.info.tolist()
    np.testing.assert_allclose(ours.inverse[0].numpy(), theirs.inverse[0].numpy(), rtol=1e-12)
    x, t = both(np.stack([SPD, NOT_PD[[0, 1, 1]][:, [0, 1, 1]] + 0 * SPD]))
    ours, theirs = cr.linalg.cholesky_ex(x), torch.linalg.cholesky_ex(t)
    assert ours.info.tolist() == theirs.info.tolist() and ours.info.dtype == cr.int32
    np.testing.assert_allclose(ours.L[0].numpy(), theirs.L[0].numpy(), rtol=1e-12)


def test_old_svd_api():
    x, t = both(TALL)
    for kw in ({}, {"some": False}, {"compute_uv": False}):
        ours, theirs = cr.svd(x, **kw), torch.svd(t, **kw)
        for o, tt in zip(ours, theirs):
            assert tuple(o.shape) == tuple(tt.shape)
        np.testing.assert_allclose(ours.S.numpy(), theirs.S.numpy(), rtol=1e-12)
        if kw.get("compute_uv", True):
            np.testing.assert_allclose((ours.U[:, :3] * ours.S) @ ours.V.mT.numpy(), TALL, atol=1e-12)
        else:
            assert not np.any(ours.U.numpy()) and not np.any(ours.V.numpy())


def test_deprecated_cholesky_warns_and_is_named_as_torch():
    a = cr.tensor(SPD, requires_grad=True)
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
        u = cr.cholesky(a, upper=True)
    np.testing.assert_allclose(u.detach().numpy(), torch.linalg.cholesky(torch.tensor(SPD), upper=True).numpy())
    assert u.grad_fn.name() == "CholeskyBackward0"


def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix():
    """Where det(A) = 0, A^-T does not exist; the gradient is still cof(A) (here from the SVD). PyTorch
    2.13 returns zeros there, which gradcheck refutes."""
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    x = cr.tensor(np.stack([a, 2 * np.eye(3)]), requires_grad=True)
    assert gradcheck(cr.linalg.det, [x])
    cr.linalg.det(x)[0].backward()
    cof = np.array([[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]])
    np.testing.assert_allclose(x.grad[0].numpy(), cof, atol=1e-12)


def test_deprecated_qr_warns():
    with pytest.warns(UserWarning, match="torch.qr is deprecated"):
        q, r = cr.qr(cr.tensor(TALL), some=False)
    assert tuple(q.shape) == (5, 5) and tuple(r.shape) == (5, 3)


def test_solve_ex_reports_singular_matrices():
    x, t = both(np.stack([SINGULAR, np.eye(2)]))
    ours, theirs = cr.linalg.solve_ex(x, cr.ones(2, 2, 1, dtype=cr.float64)), torch.linalg.solve_ex(t, torch.ones(
        2, 2, 1, dtype=torch.float64))
    assert ours.info.tolist() == theirs.info.tolist() and tuple(ours.result.shape) == tuple(theirs.result.shape)
    with pytest.raises(cr.linalg.LinAlgError):
        cr.linalg.solve_ex(x, cr.ones(2, 2, 1, dtype=cr.float64), check_errors=True)


def test_lu_of_singular_matrices_and_the_old_api():
    x, t = both(np.stack([SQ, np.pad(SINGULAR, ((0, 1), (0, 1)))]))
    ours, theirs = cr.linalg.lu_factor_ex(x), torch.linalg.lu_factor_ex(t)
    assert ours.info.tolist() == theirs.info.tolist() and ours.pivots.tolist() == theirs.pivots.tolist()
    np.testing.assert_allclose(ours.LU.numpy(), theirs.LU.numpy(), atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, p = cr.lu(cr.tensor(SQ))
        b = cr.tensor(R.standard_normal((3, 2)))
        np.testing.assert_allclose(cr.lu_solve(b, a, p).numpy(), np.linalg.solve(SQ, b.numpy()), rtol=1e-12)
        np.testing.assert_allclose(b.lu_solve(a, p).numpy(), np.linalg.solve(SQ, b.numpy()), rtol=1e-12)
    with pytest.warns(UserWarning, match="torch.lu is deprecated"):
        cr.tensor(SQ).lu()


def test_logdet_of_negative_and_singular_matrices():
    for a in (np.diag([1.0, -2.0]), SINGULAR):
        x, t = both(a)
        np.testing.assert_array_equal(cr.logdet(x).numpy(), torch.logdet(t).numpy())


def test_matrix_power_zero_gives_identity_and_zero_gradient():
    a = cr.tensor(SQ, requires_grad=True)
    y = cr.linalg.matrix_power(a, 0)
    np.testing.assert_array_equal(y.detach().numpy(), np.eye(3))
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros((3, 3)))


def test_integer_matrix_power_stays_integer():
    a = np.array([[1, 1], [1, 0]])
    x, t = both(a)
    assert cr.matrix_power(x, 10).tolist() == torch.matrix_power(t, 10).tolist()


@pytest.mark.parametrize("p", ["fro", "nuc", 1, -1, math.inf, -math.inf])
def test_cond_other_orders_differentiable(p):
    a = cr.tensor(SQ, requires_grad=True)
    np.testing.assert_allclose(cr.linalg.cond(a, p).item(), torch.linalg.cond(torch.tensor(SQ), p).item(), rtol=1e-10)
    assert gradcheck(lambda x: cr.linalg.cond(x, p), [a])
    if p in ("fro", "nuc"):  # the others are piecewise linear in |a|: their second derivative is of the inverse
        assert gradgradcheck(lambda x: cr.linalg.cond(x, p), [a])


def test_cond_of_a_singular_matrix_is_inf():
    for p in (None, 1, "fro"):
        ours = cr.linalg.cond(cr.tensor(SINGULAR), p).item()
        theirs = torch.linalg.cond(torch.tensor(SINGULAR), p).item()
        assert ours > 1e15 and theirs > 1e15


def test_qr_backward_refusals_as_torch():
    a = cr.tensor(TALL, requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        cr.linalg.qr(a, mode="r").R.sum().backward()
    q, r = cr.linalg.qr(a, mode="complete")
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        (q.sum() + r.sum()).backward()


def test_solve_left_false():
    a, b = R.standard_normal((3, 3)) + 3 * np.eye(3), R.standard_normal((2, 3))
    ours = cr.linalg.solve(cr.tensor(a), cr.tensor(b), left=False)
    np.testing.assert_allclose(ours.numpy(), torch.linalg.solve(torch.tensor(a), torch.tensor(b), left=False).numpy(),
                               rtol=1e-12)


def test_diagonal_gradient_and_norm_dtype():
    a = cr.tensor(R.standard_normal((2, 3, 4)), requires_grad=True)
    assert gradgradcheck(lambda x: cr.linalg.diagonal(x, offset=2, dim1=1, dim2=2), [a])
    x, t = both(SQ)
    ours = cr.linalg.vector_norm(x.float(), dtype=cr.float64)
    assert ours.dtype == cr.float64
    np.testing.assert_allclose(ours.item(), torch.linalg.vector_norm(t.float(), dtype=torch.float64).item())


# ---- errors ------------------------------------------------------------------------------------------------
_I = np.ones((2, 2), dtype=np.int64)
ERRORS = [
    ("inv", lambda L: L.linalg.inv(L.ones(2, 3))),
    ("inv.1d", lambda L: L.linalg.inv(L.ones(3))),
    ("inv.int", lambda L: L.linalg.inv(L.tensor(_I))),
    ("inverse", lambda L: L.inverse(L.ones(2, 3))),
    ("det", lambda L: L.linalg.det(L.ones(2, 3))),
    ("det.int", lambda L: L.linalg.det(L.tensor(_I))),
    ("slogdet", lambda L: L.linalg.slogdet(L.ones(2, 3))),
    ("solve.square", lambda L: L.linalg.solve(L.ones(2, 3), L.ones(2))),
    ("solve.shapes", lambda L: L.linalg.solve(L.eye(2), L.ones(3))),
    ("solve.shapes_matrix", lambda L: L.linalg.solve(L.eye(2), L.ones(3, 1))),
    ("solve.dtype", lambda L: L.linalg.solve(L.eye(2), L.ones(2, dtype=L.float64))),
    ("cholesky.square", lambda L: L.linalg.cholesky(L.ones(2, 3))),
    ("cholesky.int", lambda L: L.linalg.cholesky(L.tensor(_I.astype(np.int32)))),
    ("eigh.square", lambda L: L.linalg.eigh(L.ones(2, 3))),
    ("eigh.uplo", lambda L: L.linalg.eigh(L.eye(2), UPLO="X")),
    ("eigvalsh.int", lambda L: L.linalg.eigvalsh(L.tensor(_I))),
    ("svd.1d", lambda L: L.linalg.svd(L.ones(2))),
    ("qr.1d", lambda L: L.linalg.qr(L.ones(3))),
    ("qr.mode", lambda L: L.linalg.qr(L.ones(2, 2), mode="x")),
    ("matrix_power.square", lambda L: L.linalg.matrix_power(L.ones(2, 3), 2)),
    ("cross.size", lambda L: L.linalg.cross(L.ones(3, 2), L.ones(3, 2))),
    ("cross.broadcast", lambda L: L.linalg.cross(L.ones(2, 3), L.ones(4, 3))),
    ("cross.no_three", lambda L: L.cross(L.ones(2, 2), L.ones(2, 2))),
    ("multi_dot.one", lambda L: L.linalg.multi_dot([L.ones(2, 2)])),
    ("multi_dot.shapes", lambda L: L.linalg.multi_dot([L.ones(2, 3), L.ones(2, 2)])),
    ("vector_norm.int", lambda L: L.linalg.vector_norm(L.tensor(_I))),
    ("vector_norm.empty_inf", lambda L: L.linalg.vector_norm(L.ones(0), math.inf)),
    ("matrix_norm.1d", lambda L: L.linalg.matrix_norm(L.ones(2))),
    ("matrix_norm.order", lambda L: L.linalg.matrix_norm(L.ones(2, 2), 3)),
    ("norm.3d_ord", lambda L: L.linalg.norm(L.ones(2, 2, 2), 2)),
    ("norm.nuc_dim", lambda L: L.linalg.norm(L.ones(2, 2), "nuc", dim=1)),
    ("norm.fro_1d", lambda L: L.linalg.norm(L.ones(2), "fro")),
    ("lstsq.rows", lambda L: L.linalg.lstsq(L.ones(3, 2), L.ones(2, 2))),
    ("lstsq.dtype", lambda L: L.linalg.lstsq(L.ones(3, 2, dtype=L.float64), L.ones(3, 2))),
    ("matrix_exp.square", lambda L: L.linalg.matrix_exp(L.ones(2, 3))),
    ("matrix_exp.int", lambda L: L.linalg.matrix_exp(L.tensor(_I))),
    ("pinv.int", lambda L: L.linalg.pinv(L.ones(2, dtype=L.int64))),
    ("matrix_rank.int", lambda L: L.linalg.matrix_rank(L.tensor(_I))),
    ("cond.square", lambda L: L.linalg.cond(L.ones(2, 3), 1)),
    ("vecdot.int", lambda L: L.linalg.vecdot(L.tensor(_I), L.tensor(_I))),
    ("diagonal.1d", lambda L: L.linalg.diagonal(L.ones(2))),
    ("cholesky_solve.sizes", lambda L: L.cholesky_solve(L.ones(4, 2), L.eye(3))),
    ("cholesky_solve.1d", lambda L: L.cholesky_solve(L.ones(3), L.eye(3))),
    ("cholesky_inverse.1d", lambda L: L.cholesky_inverse(L.ones(3))),
    ("cholesky_inverse.square", lambda L: L.cholesky_inverse(L.ones(2, 3))),
    ("tensorinv.shape", lambda L: L.linalg.tensorinv(L.ones(2, 3), ind=1)),
    ("tensorsolve.shape", lambda L: L.linalg.tensorsolve(L.ones(2, 3), L.ones(3))),
    ("vander.n", lambda L: L.linalg.vander(L.ones(2, 2), N=0)),
    ("qr.1d_old", lambda L: L.qr(L.ones(3))),
    ("triangular_solve.1d", lambda L: L.triangular_solve(L.ones(3), L.eye(3))),
    ("triangular_solve.sizes", lambda L: L.triangular_solve(L.ones(2, 1), L.eye(3))),
    ("lu_factor.singular", lambda L: L.linalg.lu_factor(L.tensor(SINGULAR))),
    ("lu_factor.singular_batch", lambda L: L.linalg.lu_factor(L.tensor(np.stack([np.eye(2), SINGULAR])))),
    ("lu_factor.no_pivot", lambda L: L.linalg.lu_factor(L.eye(2), pivot=False)),
    ("lu_factor.1d", lambda L: L.linalg.lu_factor(L.ones(2))),
    ("lu_factor.int", lambda L: L.linalg.lu_factor(L.tensor(_I))),
    ("lu_solve.shapes", lambda L: L.linalg.lu_solve(*L.linalg.lu_factor(L.eye(2)), L.ones(3, 1))),
    # LinAlgError (a RuntimeError)
    ("inv.singular", lambda L: L.linalg.inv(L.tensor(SINGULAR))),
    ("inv.singular_batch", lambda L: L.linalg.inv(L.tensor(np.stack([np.eye(2), SINGULAR])))),
    ("matrix_power.singular", lambda L: L.linalg.matrix_power(L.tensor(SINGULAR), -1)),
    ("solve.singular", lambda L: L.linalg.solve(L.tensor(SINGULAR), L.ones(2, dtype=L.float64))),
    ("cholesky.not_pd", lambda L: L.linalg.cholesky(L.tensor(NOT_PD))),
    ("cholesky.not_pd_batch", lambda L: L.linalg.cholesky(L.tensor(np.stack([np.eye(3), -np.eye(3)])))),
]


@pytest.mark.parametrize("name,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_as_torch(name, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            call(torch)
        with pytest.raises(Exception) as ours:
            call(cr)
    t_type = theirs.type
    if issubclass(t_type, torch.linalg.LinAlgError):
        assert ours.type is cr.linalg.LinAlgError
    else:
        assert ours.type is t_type
    assert str(ours.value) == str(theirs.value)


# ---- norms: every order with dims and keepdim ---------------------------------------------------------------
_X = R.standard_normal((3, 4, 5))


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [(-2, -1), (0, 2), (2, 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_orders_dims_keepdim(ord, dim, keepdim):
    x, t = both(_X)
    ours, theirs = cr.linalg.matrix_norm(x, ord, dim, keepdim), torch.linalg.matrix_norm(t, ord, dim, keepdim)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    np.testing.assert_allclose(cr.linalg.norm(x, ord, dim, keepdim).numpy(), theirs.numpy(), rtol=1e-10)


@pytest.mark.parametrize("ord", [2, 1, 0, 3, 0.5, -1, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [None, 1, (0, 2), -1])
def test_vector_norm_orders_and_dims(ord, dim):
    x, t = both(_X * (np.abs(_X) > 0.3))  # some exact zeros for ord 0
    for keepdim in (False, True):
        ours, theirs = cr.linalg.vector_norm(x, ord, dim, keepdim), torch.linalg.vector_norm(t, ord, dim, keepdim)
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


@pytest.mark.parametrize("shape,ord,dim", [((4,), None, None), ((3, 4), None, None), ((2, 3, 4), None, None),
                                           ((4,), 3, None), ((3, 4), 1, None), ((3, 4), "nuc", None),
                                           ((2, 3, 4), None, 1), ((2, 3, 4), 2, (1, 2)), ((2, 3, 4), -1, (0,))])
def test_norm_dispatch_as_torch(shape, ord, dim):
    x, t = both(_X[tuple(slice(0, s) for s in shape)] if len(shape) == 3 else R.standard_normal(shape))
    ours, theirs = cr.linalg.norm(x, ord, dim), torch.linalg.norm(t, ord, dim)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
