"""The kernel contract (``chainrule.kernels``): ``select`` chooses the backends in one place, a
kernel may decline with ``NotImplemented`` and the next backend runs; the backends' ``pointwise``
kernels agree with each other and with PyTorch; ReLU has one backward (``ReluGrad``, whose
forward is the kernel and whose backward is itself) for every order of derivative."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import kernels
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.kernels import _jit
from chainrule.kernels import numba as numba_backend
from chainrule.kernels import numpy as numpy_backend
from chainrule.kernels.numba import pointwise as numba_pointwise
from chainrule.kernels.numpy import pointwise as numpy_pointwise

HAVE_NUMBA = numba_pointwise._loops() is not None and _jit.ENABLED
requires_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba missing or CHAINRULE_JIT off")


def test_select_puts_the_compiled_backend_first_only_for_arrays_it_may_take(monkeypatch):
    monkeypatch.setattr(_jit, "ENABLED", True)
    x32 = np.ones(4, np.float32)
    assert kernels.select(np, x32) == (numba_backend, numpy_backend)
    assert kernels.select(np, np.ones(4, np.float16)) == (numpy_backend,)
    assert kernels.select(np, np.ones(4, np.int64)) == (numpy_backend,)
    assert kernels.select(np, x32, np.ones(4)) == (numpy_backend,)  # mixed dtypes
    assert kernels.select(np, np.ones(0, np.float32)) == (numpy_backend,)
    with _jit.disabled():
        assert kernels.select(np, x32) == (numpy_backend,)
    monkeypatch.setattr(_jit, "ENABLED", False)
    assert kernels.select(np, x32) == (numpy_backend,)


def test_a_kernel_that_declines_hands_over_to_the_next_backend(monkeypatch):
    monkeypatch.setattr(_jit, "ENABLED", True)
    calls = []

    def declines(xp, x):
        calls.append("numba")
        return NotImplemented

    monkeypatch.setattr(numba_pointwise, "relu", declines)
    x = np.array([-1.0, 0.5, np.nan])
    np.testing.assert_array_equal(kernels.call("pointwise", "relu", np, x), [0.0, 0.5, np.nan])
    assert calls == ["numba"]


def test_every_backend_declining_is_an_error(monkeypatch):
    monkeypatch.setattr(numpy_pointwise, "relu", lambda xp, x: NotImplemented)
    with pytest.raises(NotImplementedError, match="pointwise.relu"):
        kernels.call("pointwise", "relu", np, np.ones(3, np.float16))


@requires_numba
def test_the_compiled_relu_declines_non_contiguous_and_mismatched_arrays():
    x = np.ones((3, 4))
    assert numba_pointwise.relu(np, x[:, ::2]) is NotImplemented
    assert numba_pointwise.relu_backward(np, x, np.ones((4, 3))) is NotImplemented
    assert numba_pointwise.relu_backward(np, x, np.ones((3, 4), np.float32)) is NotImplemented


SPECIAL = np.array([-2.0, -0.0, 0.0, 1.5, np.nan, np.inf, -np.inf])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_relu_kernels_match_torch_including_nan_inf_and_signed_zero(backend, dtype):
    module = {"numpy": numpy_pointwise, "numba": numba_pointwise}[backend]
    if backend == "numba" and not HAVE_NUMBA:
        pytest.skip("numba missing or CHAINRULE_JIT off")
    x = np.add.outer(SPECIAL, np.zeros(3)).astype(dtype).reshape(-1)
    g = np.resize(np.array([1.0, np.nan, -3.0, np.inf], dtype), x.shape)
    y = module.relu(np, x)
    gx = module.relu_backward(np, g, y)
    xt = torch.from_numpy(x)
    yt = torch.relu(xt)
    want = torch.ops.aten.threshold_backward(torch.from_numpy(g), yt, 0).numpy()
    assert y.dtype == dtype and gx.dtype == dtype
    np.testing.assert_array_equal(y, yt.numpy())
    np.testing.assert_array_equal(np.signbit(y), np.signbit(yt.numpy()))
    np.testing.assert_array_equal(gx, want)  # NaN g at an inactive position gives 0, as PyTorch


@pytest.mark.parametrize("enabled", [False, True])
def test_relu_has_one_backward_for_first_and_second_derivatives(monkeypatch, enabled):
    if enabled and not HAVE_NUMBA:
        pytest.skip("numba missing or CHAINRULE_JIT off")
    monkeypatch.setattr(_jit, "ENABLED", enabled)
    calls = []
    original = numba_pointwise.relu_backward

    def counted(xp, g, y, out=None):
        out = original(xp, g, y, out=out)
        calls.append(out is not NotImplemented)
        return out

    monkeypatch.setattr(numba_pointwise, "relu_backward", counted)
    x = cr.tensor(np.random.default_rng(0).standard_normal((5, 4)), requires_grad=True)
    y = F.relu(x)
    w = cr.tensor(np.random.default_rng(1).standard_normal((5, 4)))
    (gx,) = cr.autograd.grad((y * y * w).sum(), x, create_graph=True)  # through ReluGrad, recorded
    assert type(gx.grad_fn).__name__ == "ReluGrad"
    (ggx,) = cr.autograd.grad((gx * w).sum(), x)  # the backward of ReluGrad: ReluGrad again
    xn, wn = x.detach().numpy(), w.numpy()
    np.testing.assert_allclose(gx.detach().numpy(), np.where(xn > 0, 2 * xn * wn, 0), rtol=1e-12)
    np.testing.assert_allclose(ggx.numpy(), np.where(xn > 0, 2 * wn * wn, 0), rtol=1e-12)
    # with the compiled path on, both orders ran the compiled gradient kernel
    assert (any(calls) if enabled else not calls)
    assert gradcheck(F.relu, (x,)) and gradgradcheck(F.relu, (x,))
