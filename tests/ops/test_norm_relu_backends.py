"""Batch norm and ReLU on each backend (numpy, numba: tests/backends.py) against PyTorch, on
what the tables do not draw: special values (NaN, infinities, signed zeros), data far from zero
mean, NaN confined to its channel, second derivatives. Each test runs once with the compiled
kernels (and checks that they were called) and once on the reference kernels (and checks that
the compiled ones were not). The kernels themselves: tests/kernels/test_norm_pointwise.py.

Tolerances: float64 results to 1e-12 relative to their scale (both paths sum the same numbers in
another order); float32 to 1e-5, PyTorch's own float32 batch norm being the coarser of the two sides.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.kernels.numba import norm as norm_jit
from chainrule.kernels.numba import pointwise as pointwise_jit

from .. import backends

torch.set_num_threads(1)

KERNELS = {norm_jit: ("forward", "backward"), pointwise_jit: ("relu", "relu_backward")}


@pytest.fixture(params=[pytest.param("numba", marks=backends.numba_mark), "numpy"])
def path(request, monkeypatch):
    """Runs the test on one backend; yields the calls that reached the compiled kernels."""
    if request.param == "numba" and norm_jit._kernels(np.float64) is None:
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
    with backends.running(request.param):
        yield request.param, seen
    if request.param == "numpy":
        assert sum(seen.values()) == 0


def _used(path, *names):
    which, seen = path
    if which == "numba":
        assert all(seen[n] > 0 for n in names), seen


def _rand(shape, dtype, seed, scale=1.0, offset=0.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + offset).astype(dtype)


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
