"""Pooling, max-unpooling and unfold/fold: worked examples, the naive loop reference, ties and
NaN, errors and randomly drawn shapes (the operator table in tests/opinfo/cases_conv.py covers
forward/gradients against PyTorch, gradcheck and gradgradcheck row by row)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.kernels import _jit
from chainrule.kernels.numba import pool as pool_jit

from .. import backends
from .. import conv_reference as ref
from ..threads import force_two_threads

torch.set_num_threads(1)


@pytest.fixture(params=[pytest.param("numba", marks=backends.numba_mark), "numpy"])
def kernels(request, monkeypatch):
    """Max pooling on one backend (tests/backends.py): the compiled kernels (``kernels/numba/pool.py``)
    or the reference ones. Yields the list of calls that reached the compiled maxima (None on the
    NumPy path, where none may happen)."""
    calls = []
    original = pool_jit.run_max_pool
    monkeypatch.setattr(pool_jit, "run_max_pool", lambda *a: calls.append(1) or original(*a))
    with backends.running(request.param):
        yield calls if request.param == "numba" else None
    if request.param == "numpy":
        assert not calls


def t(a, requires_grad=False):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_1d_max_pool_example_from_the_course():
    y = F.max_pool1d(t([[[1, 4, -1, 0, 2, -2, 1, 3, 3, 1]]]), 2)
    np.testing.assert_array_equal(y.numpy(), [[[4, 0, 2, 3, 3]]])


def test_global_average_pooling_is_the_spatial_mean():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    y = F.adaptive_avg_pool2d(t(x), 1)
    assert y.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(y.numpy()[:, :, 0, 0], x.mean(axis=(2, 3)), rtol=1e-13)


# ---- the naive loop reference ------------------------------------------------------------------

MAX = [  # (shape, kernel_size, stride, padding, dilation, ceil_mode, taken by the compiled kernels)
    ((2, 2, 9), 3, 2, 1, 1, True, False),  # padding
    ((1, 2, 7, 6), 3, 2, 1, 1, False, False),
    ((1, 2, 7, 6), (2, 3), (2, 1), (1, 1), (2, 1), True, False),
    ((1, 1, 4, 5, 6), 2, (1, 2, 2), (0, 1, 1), 1, True, False),  # 3-D
    ((2, 3, 9), 2, 2, 0, 1, False, True),
    ((2, 3, 8, 7), 2, 2, 0, 1, False, True),
    ((1, 2, 9, 8), (3, 2), (2, 1), 0, (1, 2), False, True),
    ((2, 2, 7, 7), 3, 1, 0, 1, True, True),  # overlapping windows; ceil_mode adds none here
    ((1, 2, 7, 6), 3, 2, 0, 1, True, False),  # ceil_mode: the last windows reach past the input
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape,k,s,p,d,ceil,compiled", MAX)
def test_max_pool_matches_the_naive_loops(kernels, shape, k, s, p, d, ceil, compiled, dtype):
    x = np.random.default_rng(1).standard_normal(shape)
    nd = len(shape) - 2
    y, idx = getattr(F, f"max_pool{nd}d")(cr.tensor(x.astype(dtype)), k, s, p, d, ceil, return_indices=True)
    assert kernels is None or bool(kernels) == compiled
    ey, eidx = ref.max_pool(x.astype(dtype), k, s, p, d, ceil)
    assert y.dtype.name == np.dtype(dtype).name and idx.dtype == cr.int64
    np.testing.assert_array_equal(y.numpy(), ey.astype(dtype))
    np.testing.assert_array_equal(idx.numpy(), eidx)


AVG = [  # (shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    ((2, 2, 9), 3, 2, 1, True, True, None),
    ((2, 2, 9), 3, 2, 1, True, False, None),
    ((1, 2, 7, 6), 3, 2, 1, False, True, None),
    ((1, 2, 7, 6), (3, 2), (2, 1), (1, 1), True, False, None),
    ((1, 2, 7, 6), 3, 3, 1, True, True, 4),
    ((1, 1, 4, 5, 6), 2, (1, 2, 2), (0, 1, 1), True, False, None),
    ((1, 3, 6, 4), 2, 2, 0, False, True, None),  # exact tiling (the reshape path)
]


@pytest.mark.parametrize("shape,k,s,p,ceil,incl,div", AVG)
def test_avg_pool_matches_the_naive_loops(shape, k, s, p, ceil, incl, div):
    x = np.random.default_rng(2).standard_normal(shape)
    nd = len(shape) - 2
    kw = dict(ceil_mode=ceil, count_include_pad=incl)
    if nd > 1:
        kw["divisor_override"] = div
    y = getattr(F, f"avg_pool{nd}d")(t(x), k, s, p, **kw)
    np.testing.assert_allclose(y.numpy(), ref.avg_pool(x, k, s, p, ceil, incl, div), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("shape,out", [((2, 2, 10), 4), ((1, 2, 7, 6), (3, 4)), ((1, 2, 8, 6), (4, 3)),
                                       ((1, 1, 5, 6, 7), (2, 3, 4)), ((1, 2, 5, 3), (5, 2))])
def test_adaptive_pools_match_the_naive_loops(shape, out):
    x = np.random.default_rng(3).standard_normal(shape)
    nd = len(shape) - 2
    np.testing.assert_allclose(getattr(F, f"adaptive_avg_pool{nd}d")(t(x), out).numpy(),
                               ref.adaptive_pool(x, out, "avg"), rtol=1e-13, atol=1e-13)
    y, idx = getattr(F, f"adaptive_max_pool{nd}d")(t(x), out, return_indices=True)
    ey, eidx = ref.adaptive_pool(x, out, "max")
    np.testing.assert_array_equal(y.numpy(), ey)
    np.testing.assert_array_equal(idx.numpy(), eidx)


# ---- ties, NaN and the gradient routing -----------------------------------------------------------


def test_ties_route_the_gradient_to_the_first_maximum_in_scan_order(kernels):
    x = np.array([[[[1.0, 3.0, 3.0, 0.0],
                    [3.0, 2.0, 1.0, 3.0],
                    [0.0, 0.0, 5.0, 5.0],
                    [0.0, 0.0, 5.0, 5.0]]]])
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        xs = t(x, True)
        y, idx = F.max_pool2d(xs, return_indices=True, **kw)
        tx = torch.tensor(x, requires_grad=True)
        ty, tidx = TF.max_pool2d(tx, return_indices=True, **kw)
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        g = np.arange(1.0, 1.0 + y.numel()).reshape(tuple(y.shape))
        y.backward(t(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_array_equal(xs.grad.numpy(), tx.grad.numpy())
    # 2x2 windows: [[1, 3], [3, 2]] picks the 3 at (0, 1), not the one at (1, 0)
    assert F.max_pool2d(t(x), 2, return_indices=True)[1].numpy()[0, 0, 0, 0] == 1
    assert kernels is None or kernels


@pytest.mark.parametrize("kw", [dict(kernel_size=2, stride=1), dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=2, dilation=2)])
def test_minus_infinity_nan_and_overlaps_route_like_torch_with_second_derivatives(kernels, kw):
    """Windows of -inf report their first tap; NaN wins (the last one); overlapping windows add
    their gradients on a shared maximum; the gradient's own gradient is exact."""
    x = np.array([[[[-np.inf, -np.inf, 1.0, 1.0, 0.0],
                    [-np.inf, -np.inf, np.nan, 2.0, 2.0],
                    [3.0, np.nan, 0.5, 2.0, 1.0],
                    [3.0, 3.0, 0.5, -1.0, 1.0]]]])
    xs = t(x, True)
    y, idx = F.max_pool2d(xs, return_indices=True, **kw)
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = TF.max_pool2d(tx, return_indices=True, **kw)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    g = np.arange(1.0, 1.0 + y.numel()).reshape(tuple(y.shape))
    y.backward(t(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(xs.grad.numpy(), tx.grad.numpy())
    finite = t(np.random.default_rng(5).standard_normal((2, 2, 5, 6)), True)
    assert gradcheck(lambda a: F.max_pool2d(a, **kw), (finite,))
    assert gradgradcheck(lambda a: F.max_pool2d(a, **kw), (finite,))


def test_compiled_max_pool_over_two_threads_repeats_the_serial_result(monkeypatch):
    if _jit.numba_module() is None:
        pytest.skip("numba not available")
    x = cr.tensor(np.random.default_rng(4).standard_normal((3, 5, 9, 8)).astype(np.float32), requires_grad=True)

    def run():
        x.grad = None
        y, idx = F.max_pool2d(x, 3, 2, return_indices=True)
        (y * y).sum().backward()
        return y.detach().numpy(), idx.numpy(), x.grad.numpy()

    serial = run()
    force_two_threads(monkeypatch)
    for a, b in zip(serial, run()):
        np.testing.assert_array_equal(a, b)


def test_nan_wins_the_window_as_in_torch(kernels):
    x = np.array([[[1.0, np.nan, 2.0, 0.0, np.nan, np.nan, 7.0, 1.0]]])
    for op, args in (("max_pool1d", (2,)), ("max_pool1d", (3, 1, 1)), ("adaptive_max_pool1d", (3,))):
        y, idx = getattr(F, op)(t(x), *args, return_indices=True)
        ty, tidx = getattr(TF, op)(torch.tensor(x), *args, return_indices=True)
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_windows_of_minus_infinity_point_at_their_first_real_element_as_in_torch():
    x = np.array([[[-np.inf, -np.inf, 5.0, -np.inf, -np.inf, -np.inf]]])
    for args in ((3, 1, 1), (2, 2, 1), (3, 3, 1)):
        idx = F.max_pool1d(t(x), *args, return_indices=True)[1]
        np.testing.assert_array_equal(idx.numpy(), TF.max_pool1d(torch.tensor(x), *args, return_indices=True)[1].numpy())
    x = np.full((1, 1, 3, 3), -np.inf)
    idx = F.max_pool2d(t(x), 2, 1, 1, return_indices=True)[1]
    np.testing.assert_array_equal(idx.numpy(), [[[[0, 0, 1, 2], [0, 0, 1, 2], [3, 3, 4, 5], [6, 6, 7, 8]]]])


def test_max_pool_gradient_is_a_scatter_whose_gradient_is_a_gather():
    rng = np.random.default_rng(4)
    x = t(rng.standard_normal((1, 2, 5, 5)), True)
    y = F.max_pool2d(x, 3, 1, 1)  # overlapping windows: one input can receive several gradients
    g = t(rng.standard_normal(tuple(y.shape)), True)
    (gx,) = cr.autograd.grad(y, x, g, create_graph=True)
    assert gx.grad_fn.name() == "MaxPool2DWithIndicesBackwardBackward0"  # PyTorch's name
    v = rng.standard_normal(tuple(x.shape))
    (gg,) = cr.autograd.grad(gx, g, t(v))
    assert type(gg).__name__ == "Tensor"
    idx = F.max_pool2d(x, 3, 1, 1, return_indices=True)[1].numpy()
    # d<gx, v>/dg = v gathered at the arg-max of each window
    np.testing.assert_array_equal(gg.numpy(), np.take_along_axis(v.reshape(1, 2, -1), idx.reshape(1, 2, -1), 2)
                                  .reshape(idx.shape))


# ---- max_unpool ---------------------------------------------------------------------------------


def test_max_unpool_puts_the_maxima_back():
    x = np.random.default_rng(5).standard_normal((2, 3, 6, 8))
    y, idx = F.max_pool2d(t(x), 2, return_indices=True)
    u = F.max_unpool2d(y, idx, 2).numpy()
    mask = u != 0
    np.testing.assert_array_equal(u[mask], x[mask])
    assert mask.sum() == y.numel()
    u2 = F.max_unpool2d(y, idx, 2, output_size=(7, 9))
    assert u2.shape == (2, 3, 7, 9)
    np.testing.assert_array_equal(u2.numpy(), TF.max_unpool2d(torch.tensor(y.numpy()), torch.tensor(idx.numpy()), 2,
                                                              output_size=(7, 9)).numpy())


# ---- unfold / fold ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,kw", [((2, 3, 5, 6), dict(kernel_size=(2, 3))),
                                      ((1, 2, 7, 6), dict(kernel_size=3, dilation=(1, 2), padding=1, stride=2))])
def test_unfold_matches_the_naive_loops_and_fold_is_its_adjoint(shape, kw):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    cols = F.unfold(t(x), **kw)
    np.testing.assert_array_equal(cols.numpy(), ref.unfold(x, **kw))
    c = rng.standard_normal(tuple(cols.shape))
    back = F.fold(t(c), shape[2:], **kw).numpy()
    # <unfold(x), c> == <x, fold(c)>
    np.testing.assert_allclose(np.vdot(cols.numpy(), c), np.vdot(x, back), rtol=1e-12)
    # fold(unfold(x)) counts how many blocks cover each pixel
    counts = F.fold(F.unfold(cr.ones(*shape, dtype=cr.float64), **kw), shape[2:], **kw).numpy()
    np.testing.assert_allclose(F.fold(cols, shape[2:], **kw).numpy(), x * counts, rtol=1e-12)


# ---- errors ---------------------------------------------------------------------------------------

X = cr.zeros(2, 3, 5, 5)
ERRORS = [
    (lambda: F.max_pool2d(X, 3, padding=2), "pad should be at most half of kernel size"),
    (lambda: F.avg_pool2d(X, 2, padding=(0, 2)), "pad should be at most half of kernel size"),
    (lambda: F.max_pool2d(X, 7), "Output size is too small"),
    (lambda: F.avg_pool2d(X, 6), "Calculated output size: \\(3x0x0\\)"),
    (lambda: F.max_pool2d(X, 2, stride=0), "stride must be greater than zero"),
    (lambda: F.max_pool2d(X, 0), "kernel_size must be greater than zero"),
    (lambda: F.max_pool2d(X, 2, dilation=0), "dilation must be greater than zero"),
    (lambda: F.max_pool2d(X, 2, padding=-1), "negative padding"),
    (lambda: F.max_pool2d(cr.zeros(5, 5), 2), "Expected 3D \\(unbatched\\) or 4D \\(batched\\) input to max_pool2d"),
    (lambda: F.avg_pool1d(cr.zeros(1, 2, 3, 4), 2), "Expected 2D \\(unbatched\\) or 3D \\(batched\\) input to avg_pool1d"),
    (lambda: F.avg_pool2d(X, 2, divisor_override=0), "divisor must be not zero"),
    (lambda: F.max_pool2d(X.long(), 2), "expected a floating-point input"),
    (lambda: F.adaptive_avg_pool2d(X, (2, 0)), "output_size must be positive"),
    (lambda: F.adaptive_max_pool2d(X, (2, 2, 2)), "output_size must have 2 elements"),
    (lambda: F.max_unpool2d(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 2, 2, dtype=cr.int64) + 25, 2),
     "invalid max index: 25 \\(output volumes are of size 4x4\\)"),
    (lambda: F.max_unpool2d(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 2, 3, dtype=cr.int64), 2), "expected shape of indices"),
    (lambda: F.unfold(cr.zeros(5, 5), 2), "Only 3D or 4D input Tensors are supported \\(got 2D\\)"),
    (lambda: F.unfold(X, 6), "calculated shape of the array of sliding blocks as \\[0, 0\\]"),
    (lambda: F.fold(cr.zeros(1, 13, 16), (5, 5), 2), "divisible by the product of kernel_size"),
    (lambda: F.fold(cr.zeros(1, 12, 15), (5, 5), 2), "calculated number of sliding blocks 4 \\* 4 = 16"),
]


@pytest.mark.parametrize("call,match", ERRORS)
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


def test_unpool_output_size_out_of_range():
    y, idx = F.max_pool2d(t(np.zeros((1, 1, 4, 4))), 2, return_indices=True)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(y, idx, 2, output_size=(6, 4))


# ---- randomly drawn shapes --------------------------------------------------------------------


@st.composite
def pool_args(draw):
    nd = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    # every window holds an input element (PyTorch reads out of bounds for a window of padding)
    size = tuple(draw(st.integers(d * (k - 1) + 1, 6)) for k, d in zip(kernel, dilation))
    return nd, (2, 2) + size, kernel, stride, padding, dilation, draw(st.booleans()), draw(st.booleans())


@settings(max_examples=30, deadline=None)
@given(pool_args(), st.integers(0, 2**31 - 1))
def test_random_pools_match_torch_with_gradients(args, seed):
    nd, shape, k, s, p, d, ceil, incl = args
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    calls = [(f"max_pool{nd}d", (k, s, p, d, ceil), {}),
             (f"avg_pool{nd}d", (k, s, p, ceil, incl), {})]
    for op, a, kw in calls:
        xs, tx = t(x, True), torch.tensor(x, requires_grad=True)
        y, ty = getattr(F, op)(xs, *a, **kw), getattr(TF, op)(tx, *a, **kw)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=op)
        g = rng.standard_normal(tuple(ty.shape))
        y.backward(t(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=op)


def test_a_second_backward_through_a_max_pool_raises_the_engines_error(kernels):
    x = cr.randn(2, 3, 8, 8, requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.sum().backward(retain_graph=True)
    once = x.grad.numpy().copy()
    assert once.sum() == y.numel()  # each window routes its 1 to one position
    y.sum().backward()  # retained: the same gradient again
    np.testing.assert_array_equal(x.grad.numpy(), 2 * once)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.sum().backward()
    assert kernels is None or kernels
