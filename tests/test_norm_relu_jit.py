"""The compiled batch-norm and ReLU kernels (``chainrule.kernels.numba.norm``, ``kernels.numba.pointwise``)
against the NumPy code they stand in for and against PyTorch.

The rest of the suite runs with them on (the default when numba is installed). Here both paths
run side by side: every test that takes ``path`` runs once with the compiled kernels (and
checks that they were called) and once with ``CHAINRULE_JIT`` off (and checks that they were
not). Tolerances: float64 results to 1e-12 relative to their scale (both paths sum the same
numbers in another order); float32 to 1e-5, PyTorch's own float32 batch norm being the
coarser of the two sides.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.kernels import _jit
from chainrule.kernels.numba import norm as norm_jit
from chainrule.kernels.numba import pointwise as pointwise_jit
from chainrule.kernels.numba import tuning as numba_tuning
from chainrule.kernels.numpy import norm as norm_kernels

from .threads import force_two_threads

torch.set_num_threads(1)

requires_jit = pytest.mark.skipif(norm_jit._kernels(np.float64) is None, reason="numba not available")
KERNELS = {norm_jit: ("forward", "backward"), pointwise_jit: ("relu", "relu_backward")}


@pytest.fixture(params=["compiled", "numpy"])
def path(request, monkeypatch):
    """Runs the test on one path; yields the calls that reached the compiled kernels."""
    if request.param == "numpy":
        monkeypatch.setattr(_jit, "ENABLED", False)
    elif norm_jit._kernels(np.float64) is None:
        pytest.skip("numba not available")
    seen = {}
    for module, names in KERNELS.items():
        for name in names:
            original = getattr(module, name)
            seen[name] = 0

            def counted(*args, _name=name, _original=original, **kwargs):
                seen[_name] += 1
                return _original(*args, **kwargs)

            monkeypatch.setattr(module, name, counted)
    yield request.param, seen
    if request.param == "numpy":
        assert sum(seen.values()) == 0


def _used(path, *names):
    which, seen = path
    if which == "compiled":
        assert all(seen[n] > 0 for n in names), seen


def _rand(shape, dtype, seed, scale=1.0, offset=0.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + offset).astype(dtype)


# ---- batch norm: the kernels ----------------------------------------------------------------------
SHAPES = [(2, 3, 5), (5, 2, 1), (64, 4, 33), (9, 3, 7), (17, 1, 4)]  # N below, at and above SHIFT_SAMPLES


@requires_jit
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("shape", SHAPES)
def test_compiled_batch_norm_equals_the_numpy_kernels(shape, dtype, tol, affine):
    n, c, length = shape
    x, g = _rand(shape, dtype, 0, 3.0, 5.0), _rand(shape, dtype, 1)
    w, b = (_rand(c, dtype, 2), _rand(c, dtype, 3)) if affine else (None, None)
    y, shift, delta, var, rstd = norm_jit.forward(np, x, w, b, 1e-5)
    xc, shift0, delta0, var0 = norm_kernels.channel_stats(np, x)
    np.testing.assert_allclose(shift, shift0, rtol=tol)  # the mean of the same samples
    np.testing.assert_allclose(delta, delta0, rtol=tol, atol=tol)
    np.testing.assert_allclose(var, var0, rtol=tol, atol=tol * var0.max())
    np.testing.assert_allclose(rstd, 1 / np.sqrt(var0 + 1e-5), rtol=tol)
    w1 = np.ones(c, dtype) if w is None else w
    b1 = np.zeros(c, dtype) if b is None else b
    y0 = (xc - delta0[:, None]) * (rstd * w1)[:, None] + b1[:, None]
    np.testing.assert_allclose(y, y0, rtol=tol, atol=tol * np.abs(y0).max())
    for need_input in (True, False):
        gx, dw, db = norm_jit.backward(np, g, x, shift, delta, rstd, w, need_input)
        gx0, dw0, db0 = norm_kernels.backward(np, g, x, shift, delta, rstd, w, need_input)
        scale = np.abs(dw0).max() + np.abs(db0).max()
        np.testing.assert_allclose(dw, dw0, rtol=tol, atol=tol * scale)
        np.testing.assert_allclose(db, db0, rtol=tol, atol=tol * scale)
        if need_input:
            np.testing.assert_allclose(gx, gx0, rtol=tol, atol=tol * np.abs(gx0).max())
        else:
            assert gx is None


@requires_jit
def test_compiled_batch_norm_in_parallel_repeats_the_serial_result(monkeypatch):
    """Channels split over two threads: each channel is still summed by one thread in one
    order, so the result is the serial one bit for bit."""
    x, g = _rand((8, 5, 40), np.float32, 4), _rand((8, 5, 40), np.float32, 5)
    serial = norm_jit.forward(np, x, None, None, 1e-5)
    serial_b = norm_jit.backward(np, g, x, *serial[1:3], serial[4], None, True)
    force_two_threads(monkeypatch)
    monkeypatch.setattr(numba_tuning, "NORM_PARALLEL_MIN_BYTES", 0)
    assert norm_jit._threads(np, x) == 2
    parallel = norm_jit.forward(np, x, None, None, 1e-5)
    parallel_b = norm_jit.backward(np, g, x, *parallel[1:3], parallel[4], None, True)
    for a, b in zip(serial + serial_b, parallel + parallel_b):
        np.testing.assert_array_equal(a, b)


# ---- batch norm: through the module, both paths ---------------------------------------------------
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-5)])
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (7, 2, 9), (10, 4, 2, 3, 2)])
def test_batch_norm_training_matches_torch_on_both_paths(path, shape, dtype, tol):
    c = shape[1]
    layer = {3: cr.nn.BatchNorm1d, 4: cr.nn.BatchNorm2d, 5: cr.nn.BatchNorm3d}[len(shape)](c, dtype=getattr(cr, dtype))
    ref = {3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d, 5: torch.nn.BatchNorm3d}[len(shape)](
        c, dtype=getattr(torch, dtype))
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(_rand(c, dtype, 6)))
        ref.bias.copy_(torch.from_numpy(_rand(c, dtype, 7)))
    layer.weight.data = cr.tensor(ref.weight.detach().numpy().copy())
    layer.bias.data = cr.tensor(ref.bias.detach().numpy().copy())
    x_np, g_np = _rand(shape, dtype, 8, 2.0, -3.0), _rand(shape, dtype, 9)
    x, xt = cr.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, yt = layer(x), ref(xt)
    y.backward(cr.tensor(g_np))
    yt.backward(torch.from_numpy(g_np))
    _used(path, "forward", "backward")
    pairs = [(y, yt), (x.grad, xt.grad), (layer.weight.grad, ref.weight.grad), (layer.bias.grad, ref.bias.grad),
             (layer.running_mean, ref.running_mean), (layer.running_var, ref.running_var)]
    for ours, theirs in pairs:
        theirs = theirs.detach().numpy()
        np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=tol, atol=tol * max(1.0, np.abs(theirs).max()))


def test_batch_norm_gradients_and_second_derivatives_on_both_paths(path):
    """gradcheck reaches the first-order backward (the kernels); gradgradcheck the recorded
    graph, which must agree with it."""
    x = cr.tensor(_rand((5, 3, 4), "float64", 10, 2.0, 1.0), requires_grad=True)
    w = cr.tensor(_rand(3, "float64", 11), requires_grad=True)
    b = cr.tensor(_rand(3, "float64", 12), requires_grad=True)

    def fn(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)

    assert gradcheck(fn, (x, w, b))
    _used(path, "forward", "backward")
    assert gradgradcheck(fn, (x, w, b))


def test_float32_batch_norm_far_from_zero_mean_keeps_its_precision_on_both_paths(path):
    """Data at mean 1e4 with unit spread: the statistics come from x - shift, so the float32
    output matches the float64 one to float32 rounding of the centred values."""
    x64 = _rand((32, 3, 50), "float64", 13, 1.0, 1e4)
    y32 = F.batch_norm(cr.tensor(x64.astype(np.float32)), None, None, training=True).numpy()
    y64 = F.batch_norm(cr.tensor(x64.astype(np.float32).astype(np.float64)), None, None, training=True).numpy()
    _used(path, "forward")
    np.testing.assert_allclose(y32, y64, atol=2e-3)  # 1e4 * 2**-24 = 6e-4 of input rounding, times rstd ~1


def test_nan_in_a_channel_spreads_over_that_channel_only_on_both_paths(path):
    x = _rand((4, 3, 6), "float32", 14)
    x[2, 1, 3] = np.nan
    y = F.batch_norm(cr.tensor(x), None, None, training=True).numpy()
    _used(path, "forward")
    assert np.isnan(y[:, 1]).all() and np.isfinite(y[:, [0, 2]]).all()


# ---- ReLU -------------------------------------------------------------------------------------------
SPECIAL = np.array([np.nan, -np.inf, -1.5, -0.0, 0.0, 2.5, np.inf], dtype=np.float32)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_and_its_gradient_match_torch_on_special_values_on_both_paths(path, dtype):
    x_np = np.concatenate([SPECIAL.astype(dtype), _rand(50, dtype, 15)])
    g_np = _rand(x_np.shape, dtype, 16)
    x, xt = cr.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, yt = F.relu(x), torch.relu(xt)
    y.backward(cr.tensor(g_np))
    yt.backward(torch.from_numpy(g_np))
    _used(path, "relu", "relu_backward")
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())  # NaN where torch has NaN
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())  # g at NaN outputs, as threshold_backward


def test_relu_second_derivatives_and_non_contiguous_inputs(path):
    x = cr.tensor(_rand((6, 5), "float64", 17), requires_grad=True)
    assert gradcheck(F.relu, (x,)) and gradgradcheck(F.relu, (x,))
    xt = x.detach().t()  # not contiguous: the NumPy code, same values
    np.testing.assert_array_equal(F.relu(xt).numpy(), np.maximum(xt.numpy(), 0))


@requires_jit
def test_compiled_relu_in_parallel_repeats_the_serial_result(monkeypatch):
    x, g = _rand((3, 1001), np.float32, 18), _rand((3, 1001), np.float32, 19)
    serial = pointwise_jit.relu(np, x), pointwise_jit.relu_backward(np, g, x)
    force_two_threads(monkeypatch)
    monkeypatch.setattr(numba_tuning, "RELU_PARALLEL_MIN_BYTES", 0)
    assert pointwise_jit._threads(np, x) == 2
    parallel = pointwise_jit.relu(np, x), pointwise_jit.relu_backward(np, g, x)
    np.testing.assert_array_equal(serial[0], np.maximum(x, 0))
    np.testing.assert_array_equal(serial[1], np.where(x > 0, g, 0))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


# ---- fallbacks ----------------------------------------------------------------------------------------
def test_without_numba_batch_norm_and_relu_fall_back_to_numpy(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    caches = [_jit.numba_module, norm_jit._kernels, pointwise_jit._loops]
    for cache in caches:
        cache.cache_clear()
    try:
        x = cr.tensor(_rand((4, 2, 3), "float64", 20), requires_grad=True)
        assert not norm_jit.available(np, x.detach().numpy())
        assert not pointwise_jit.available(np, x.detach().numpy())
        y = F.relu(F.batch_norm(x, None, None, training=True))
        y.sum().backward()
        xn = x.detach().numpy()
        mean, var = xn.mean(axis=(0, 2), keepdims=True), xn.var(axis=(0, 2), keepdims=True)
        np.testing.assert_allclose(y.detach().numpy(), np.maximum((xn - mean) / np.sqrt(var + 1e-5), 0), rtol=1e-12)
        assert x.grad.shape == (4, 2, 3)
    finally:
        monkeypatch.undo()
        for cache in caches:
            cache.cache_clear()


def test_other_dtypes_and_empty_arrays_are_not_taken():
    assert not _jit.takes(np, np.ones(3, np.float16))
    assert not _jit.takes(np, np.ones(3, np.float32), np.ones(3, np.float64))
    assert not _jit.takes(np, np.ones(0, np.float32))
    assert not pointwise_jit.available(np, np.ones((3, 4))[:, ::2])
