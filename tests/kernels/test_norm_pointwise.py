"""The compiled batch-norm and ReLU kernels (``chainrule.kernels.numba.norm``, ``kernels.numba.pointwise``)
against the reference kernels they stand in for (``kernels.numpy.norm``), in parallel against
serial, and the fallbacks (no numba, dtypes and arrays they do not take). The operators on both
backends against PyTorch: tests/ops/test_norm_relu_backends.py.

Tolerances: float64 results to 1e-12 relative to their scale (both paths sum the same numbers in
another order); float32 to 1e-5.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels import _jit
from chainrule.kernels.numba import norm as norm_jit
from chainrule.kernels.numba import pointwise as pointwise_jit
from chainrule.kernels.numba import tuning as numba_tuning
from chainrule.kernels.numpy import norm as norm_kernels
from chainrule.kernels.numpy import pointwise as numpy_pointwise

from ..threads import force_two_threads

torch.set_num_threads(1)

requires_jit = pytest.mark.skipif(norm_jit._kernels(np.float64) is None, reason="numba not available")
KERNELS = {norm_jit: ("forward", "backward"), pointwise_jit: ("relu", "relu_backward")}


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


# ---- ReLU -------------------------------------------------------------------------------------------
@requires_jit
@pytest.mark.skipif(not _jit.ENABLED, reason="CHAINRULE_JIT off: the compiled ReLU declines")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_relu_backward_takes_broadcast_and_strided_gradients(dtype):
    """The gradient of a sum arrives as one value broadcast (strides 0), others transposed: the
    compiled kernel runs on both (it used to decline them, leaving the reference's slower where)
    and agrees with the reference bit for bit, NaN outputs and infinite gradients included."""
    y = np.maximum(_rand((5, 7), dtype, 3), 0)
    y[0, :3] = [np.nan, 0.0, -0.0]  # a NaN output passes the gradient; +-0 outputs give 0
    grads = [np.broadcast_to(dtype(2.5), y.shape), np.broadcast_to(dtype(np.inf), y.shape),
             _rand((7, 5), dtype, 4).T]
    for g in grads:
        got = pointwise_jit.relu_backward(np, g, y)
        assert got is not NotImplemented and got.flags.c_contiguous
        np.testing.assert_array_equal(got, numpy_pointwise.relu_backward(np, g, y))


@requires_jit
@pytest.mark.skipif(not _jit.ENABLED, reason="CHAINRULE_JIT off: the compiled ReLU declines")
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
