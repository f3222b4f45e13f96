"""2-D matrix products on chainrule's threads (``chainrule.kernels.numpy.matmul``).

With two threads forced and no size thresholds every 2-D product is cut into a block of rows
or of columns per thread. The result must be NumPy's product for every layout the operators
hand it (each element is the same dot product, but BLAS may order a smaller product's inner
loop otherwise: to rounding, 1e-12 in float64, 1e-5 in float32), and BLAS's thread count must
be what it was.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.kernels import _parallel
from chainrule.kernels.numpy import matmul as _matmul
from chainrule.kernels.numpy import tuning as numpy_tuning

from ..threads import force_two_threads

torch.set_num_threads(1)


@pytest.fixture
def forced(monkeypatch):
    force_two_threads(monkeypatch)
    monkeypatch.setattr(numpy_tuning, "MATMUL_PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(numpy_tuning, "MATMUL_AS_IS_MAX_MACS", 0)
    parts = []
    original = _parallel.parallel_for

    def counted(body, count, threads):
        parts.append(threads)
        return original(body, count, threads)

    monkeypatch.setattr(_matmul, "parallel_for", counted)
    return parts


def _operand(shape, dtype, seed, transposed=False):
    a = np.random.default_rng(seed).standard_normal(shape[::-1] if transposed else shape).astype(dtype)
    return a.T if transposed else a


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("m,k,n", [(7, 5, 3), (3, 5, 7), (1, 4, 9), (9, 4, 1), (64, 33, 64)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_split_products_equal_numpys(forced, m, k, n, ta, tb, dtype, tol):
    a, b = _operand((m, k), dtype, 0, ta), _operand((k, n), dtype, 1, tb)
    out = _matmul.matmul(np, a, b)
    assert forced == [2]  # one region, two parts (rows when m >= n, else columns)
    assert out.dtype == dtype and out.shape == (m, n)
    np.testing.assert_allclose(out, a @ b, rtol=tol, atol=tol * k)


def test_leading_dimensions_fold_into_the_rows_and_other_layouts_go_to_numpy(forced):
    a, b = _operand((2, 3, 4, 5), np.float64, 2), _operand((5, 6), np.float64, 3)
    np.testing.assert_allclose(_matmul.matmul(np, a, b), a @ b, rtol=1e-12)
    assert forced == [2]
    strided = a[:, ::2]  # not contiguous: NumPy's batched product
    np.testing.assert_allclose(_matmul.matmul(np, strided, b), strided @ b, rtol=1e-12)
    batched = _operand((3, 5, 2), np.float64, 4)
    np.testing.assert_allclose(_matmul.matmul(np, a[0], batched), a[0] @ batched, rtol=1e-12)
    vec = _operand((5,), np.float64, 5)
    np.testing.assert_allclose(_matmul.matmul(np, a, vec), a @ vec, rtol=1e-12)
    assert forced == [2]


def test_integers_and_empty_products(forced):
    a, b = np.arange(12).reshape(3, 4), np.arange(8).reshape(4, 2)
    np.testing.assert_array_equal(_matmul.matmul(np, a, b), a @ b)
    for shape_a, shape_b in (((0, 3), (3, 4)), ((3, 0), (0, 4)), ((3, 4), (4, 0))):
        out = _matmul.matmul(np, np.ones(shape_a), np.ones(shape_b))
        np.testing.assert_array_equal(out, np.ones(shape_a) @ np.ones(shape_b))


def test_blas_thread_count_is_restored(forced):
    controllers = _parallel._blas_controllers()
    if not controllers:
        pytest.skip("threadpoolctl finds no BLAS")
    before = [c.get_num_threads() for c in controllers]
    _matmul.matmul(np, np.ones((8, 8)), np.ones((8, 8)))  # split
    _matmul.matmul(np, np.ones((8, 8)), np.ones((8, 1)).ravel())  # NumPy's
    assert [c.get_num_threads() for c in controllers] == before


def test_linear_and_matmul_in_parallel_match_torch_with_exact_second_derivatives(forced):
    x_np, w_np, b_np = _operand((6, 5), np.float64, 6), _operand((4, 5), np.float64, 7), _operand(4, np.float64, 8)
    x, w, b = (cr.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np))
    y = F.linear(x, w, b) @ cr.tensor(w_np)
    yt = torch.nn.functional.linear(xt, wt, bt) @ torch.from_numpy(w_np)
    g = _operand(tuple(yt.shape), np.float64, 9)
    y.backward(cr.tensor(g))
    yt.backward(torch.from_numpy(g))
    assert len(forced) >= 4  # forward and backward products went through the split
    for ours, theirs in ((y, yt), (x.grad, xt.grad), (w.grad, wt.grad), (b.grad, bt.grad)):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert gradcheck(F.linear, (x, w, b)) and gradgradcheck(F.linear, (x, w, b))
    assert gradgradcheck(lambda p, q: p @ q, (x, cr.tensor(_operand((5, 3), np.float64, 10), requires_grad=True)))


def test_a_pair_of_products_runs_as_one_region_of_two_parts(forced):
    a1, b1 = _operand((6, 5), np.float64, 11), _operand((5, 4), np.float64, 12)
    a2, b2 = _operand((4, 6), np.float64, 13, transposed=True), _operand((6, 5), np.float64, 14)
    first, second = _matmul.matmul_pair(np, a1, b1, a2, b2)
    assert forced == [2]
    np.testing.assert_allclose(first, a1 @ b1, rtol=1e-12)
    np.testing.assert_allclose(second, a2 @ b2, rtol=1e-12)


@pytest.mark.parametrize("lead", [(), (5,), (2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_backward_as_a_pair_matches_torch_for_any_leading_dimensions(forced, lead, bias):
    x_np, w_np, b_np = _operand(lead + (4,), np.float64, 15), _operand((3, 4), np.float64, 16), _operand(3, np.float64, 17)
    g_np = _operand(lead + (3,), np.float64, 18)
    x, w, b = (cr.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np))
    F.linear(x, w, b if bias else None).backward(cr.tensor(g_np))
    torch.nn.functional.linear(xt, wt, bt if bias else None).backward(torch.from_numpy(g_np))
    # one region forward (none for a 1-D input) and one backward, both gradients in it
    assert forced == ([2, 2] if lead else [2])
    pairs = [(x.grad, xt.grad), (w.grad, wt.grad)] + ([(b.grad, bt.grad)] if bias else [])
    for ours, theirs in pairs:
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_a_tiny_product_goes_to_blas_without_setting_its_thread_count(monkeypatch):
    force_two_threads(monkeypatch)
    calls = []
    monkeypatch.setattr(_parallel, "_enter", lambda: calls.append("enter"))
    monkeypatch.setattr(_parallel, "_leave", lambda: calls.append("leave"))
    a, b = _operand((4, 32), np.float32, 0), _operand((32, 64), np.float32, 1)  # 8,192 multiply-adds
    assert np.array_equal(_matmul.matmul(np, a, b), a @ b) and calls == []
    a, b = _operand((64, 128), np.float32, 0), _operand((128, 64), np.float32, 1)  # 524,288: held to one thread
    assert np.array_equal(_matmul.matmul(np, a, b), a @ b) and calls == ["enter", "leave"]
