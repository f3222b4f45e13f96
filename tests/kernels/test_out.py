"""Kernels that take ``out=`` (``kernels/_out.py``): an array that fits gets the result, bit for bit
the one the kernel returns without it; one that does not fit is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule import kernels
from chainrule.kernels.windows import Window

from ..backends import NAMES, skip_reason
from ..threads import force_two_threads

rng = np.random.default_rng(0)


def _backend(name):
    reason = skip_reason(name)
    if reason:
        pytest.skip(reason)
    return kernels.only(name) if name == "numpy" else kernels.only("numba", "numpy")


def _check(run, shape, dtype=np.float32, used: bool = True):
    """``run(out)`` with no ``out``, a fitting one (full of NaN first; ``used``: the kernel must
    write there) and a wrong one."""
    want = run(None)
    out = np.full(shape, np.nan, dtype=dtype)
    got = run(out)
    assert np.shares_memory(got, out) == used
    np.testing.assert_array_equal(got, want)
    wrong = np.full(shape[:-1] + (shape[-1] + 1,), 7.0, dtype=dtype)
    other = run(wrong)
    assert not np.shares_memory(other, wrong) and (wrong == 7.0).all()
    np.testing.assert_array_equal(other, want)


@pytest.mark.parametrize("backend", NAMES)
def test_relu_and_its_gradient(backend):
    x = rng.standard_normal((3, 5, 7)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    with _backend(backend):
        _check(lambda out: kernels.call("pointwise", "relu", np, x, out=out), x.shape)
        y = kernels.call("pointwise", "relu", np, x)
        if backend == "numba":  # the reference's where has no out: it returns its own array
            _check(lambda out: kernels.call("pointwise", "relu_backward", np, g, y, out=out), x.shape)


def _conv_window(size, k, s, p):
    out = tuple((n + 2 * p - k) // s + 1 for n in size)
    return Window(tuple(size), out, (k,) * len(size), (s,) * len(size), (1,) * len(size), (p,) * len(size))


@pytest.mark.parametrize("backend", NAMES)
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("batch", [2, 64])  # 64: the reference runs the batch in chunks
def test_convolution_forward_and_input_gradient(backend, stride, batch, monkeypatch):
    force_two_threads(monkeypatch)
    win = _conv_window((9, 9), 3, stride, 1)
    x = rng.standard_normal((batch, 3) + win.in_size).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    gy = rng.standard_normal((batch, 4) + win.out_size).astype(np.float32)
    # the reference's strided paths in one chunk (the folded forward, the input gradient's
    # col2im) write elsewhere and would need a copy: they return their own arrays
    used = backend == "numba" or stride == 1
    with _backend(backend):
        _check(lambda out: kernels.call("conv", "forward", np, x, w, win=win, groups=1, out=out), gy.shape,
               used=used)
        _check(lambda out: kernels.call("conv", "input", np, gy, w, win=win, groups=1, out=out), x.shape,
               used=used)


@pytest.mark.parametrize("m,k,n", [(4, 5, 6), (64, 300, 512), (512, 512, 64)])  # as is, one thread, split
def test_matmul(m, k, n, monkeypatch):
    force_two_threads(monkeypatch)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((n, k)).astype(np.float32).T  # a transposed weight, as linear passes it
    _check(lambda out: kernels.call("matmul", "matmul", np, a, b, out=out), (m, n))
    a3 = a.reshape(2, m // 2, k)
    _check(lambda out: kernels.call("matmul", "matmul", np, a3, b, out=out), (2, m // 2, n))


@pytest.mark.parametrize("backend", NAMES)
def test_max_pool_route(backend):
    win = Window((8, 8), (4, 4), (2, 2), (2, 2), (1, 1), (0, 0))
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    g = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    with _backend(backend):
        _, route = kernels.call("pool", "max_pool", np, x, win=win, with_route=True)
        _check(lambda out: route.route(np, g, out=out), x.shape)
