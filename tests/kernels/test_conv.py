"""The compiled convolution kernels (``chainrule.kernels.numba.conv``, numba) against PyTorch and
against the NumPy kernels they stand in for.

The rest of the suite runs with them on (the default when numba is installed), so every
convolution test there checks them too; here the geometries that exercise their own code:
blocks of one sample and blocks of several with a shorter last one, row shifts on and off,
strides, dilations, padding wider than the kernel, groups, 1-D as a plane of height 1, the
parallel path, and the fallbacks (no numba, other dtypes, ``CHAINRULE_JIT=0``).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import kernels
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.kernels import _jit
from chainrule.kernels.numba import blas_symbols as _blas
from chainrule.kernels.numba import conv as conv_jit
from chainrule.kernels.numba import tuning as numba_tuning
from chainrule.kernels.windows import Window, conv_out_size

from ..ops.test_conv_chunks import CASES, check_against_torch
from ..threads import force_two_threads

torch.set_num_threads(1)

requires_jit = pytest.mark.skipif(conv_jit._kernels(np.float64) is None or not _jit.ENABLED,
                                  reason="numba or NumPy's OpenBLAS not available")


@pytest.fixture
def calls(monkeypatch):
    """Counts the calls that reach the compiled kernels."""
    seen = {"run_forward": 0, "run_weight": 0, "run_input_strided": 0}
    for name in seen:
        original = getattr(conv_jit, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            seen[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(conv_jit, name, counted)
    return seen


def test_numpys_blas_is_found_and_multiplies_strided_transposed_slabs():
    found = _blas.gemm_functions()
    if found is None:
        pytest.skip("NumPy is not built on OpenBLAS here")
    assert set(found) == {np.float32, np.float64}
    assert all(_blas._agrees(fn, dt) for dt, fn in found.items())


@requires_jit
@pytest.mark.parametrize("block", ["one", "several"])
@pytest.mark.parametrize("shift", [True, False])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}{c[1]}")
def test_compiled_kernels_give_torchs_results_and_second_derivatives(monkeypatch, calls, case, block, shift):
    op, xs, ws, kw = case
    # one sample per GEMM, or two (batch 3: the last block is shorter)
    monkeypatch.setattr(conv_jit, "_block", lambda *a: 1 if block == "one" else 2)
    monkeypatch.setattr(numba_tuning, "CONV_SHIFT_MIN_DEPTH", 1 if shift else 10**9)
    ours = check_against_torch(case, seed=7)
    assert gradgradcheck(lambda a, b, c: getattr(F, op)(a, b, c, **kw), ours, fast_mode=True)
    if op == "conv3d":
        assert sum(calls.values()) == 0  # 3-D stays on the NumPy kernels
    else:
        assert calls["run_forward"] > 0 and calls["run_weight"] > 0


GEOMETRIES = [  # (N, C, O, groups, spatial size, kernel, stride, padding, dilation)
    (5, 4, 6, 1, (9, 8), (3, 3), (1, 1), (1, 1), (1, 1)),
    (4, 3, 5, 1, (11, 10), (3, 2), (2, 3), (2, 0), (1, 2)),
    (3, 4, 4, 2, (7, 7), (3, 3), (1, 1), (4, 4), (2, 1)),  # padding wider than the kernel
    (6, 6, 9, 3, (5, 6), (1, 1), (2, 2), (0, 0), (1, 1)),
    (2, 16, 8, 1, (12, 12), (5, 5), (1, 1), (2, 2), (1, 1)),  # deep enough for row shifts
    (7, 2, 3, 1, (13,), (3,), (2,), (1,), (1,)),  # 1-D
    (3, 8, 4, 1, (16,), (5,), (1,), (0,), (3,)),
    (9, 3, 2, 1, (2, 3), (2, 2), (1, 1), (0, 0), (1, 1)),  # few positions: blocks of samples
]


def _window(g) -> Window:
    n, c, o, groups, size, k, s, p, d = g
    out = tuple(conv_out_size(a, kk, ss, dd, pp, pp) for a, kk, ss, dd, pp in zip(size, k, s, d, p))
    return Window(size, out, k, s, d, p)


@requires_jit
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("g", GEOMETRIES, ids=str)
def test_compiled_kernels_equal_the_numpy_kernels(monkeypatch, g, dtype, tol):
    n, c, o, groups, size, k, s, p, d = g
    win = _window(g)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, c) + size).astype(dtype)
    w = rng.standard_normal((o, c // groups) + k).astype(dtype)
    gy = rng.standard_normal((n, o) + win.out_size).astype(dtype)

    def run():
        return (kernels.call("conv", "forward", np, x, w, win=win, groups=groups),
                kernels.call("conv", "input", np, gy, w, win=win, groups=groups),
                kernels.call("conv", "weight", np, x, gy, win=win, groups=groups, cg=c // groups))

    compiled = run()
    monkeypatch.setattr(_jit, "ENABLED", False)
    reference = run()
    for a, b in zip(compiled, reference):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * float(np.abs(b).max()))


@requires_jit
@pytest.mark.parametrize("g", GEOMETRIES[:3] + GEOMETRIES[5:6], ids=str)
def test_compiled_kernels_in_parallel_match_the_serial_ones(monkeypatch, g):
    """To rounding (the parts cut the batch into other GEMM blocks, and the weight gradient
    adds per-part sums), and the same bits from one parallel run to the next."""
    n, c, o, groups, size, k, s, p, d = g
    win = _window(g)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((n, c) + size)
    w = rng.standard_normal((o, c // groups) + k)
    gy = rng.standard_normal((n, o) + win.out_size)

    def run():
        return (kernels.call("conv", "forward", np, x, w, win=win, groups=groups),
                kernels.call("conv", "input", np, gy, w, win=win, groups=groups),
                kernels.call("conv", "weight", np, x, gy, win=win, groups=groups, cg=c // groups))

    serial = run()
    force_two_threads(monkeypatch)
    monkeypatch.setattr(numba_tuning, "CONV_PARALLEL_MIN_MACS", 0)
    assert conv_jit._threads(np, n, 1, 1) == 2
    parallel, again = run(), run()
    for a, b, r in zip(parallel, again, serial):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12 * float(np.abs(r).max()))
        np.testing.assert_array_equal(a, b)


@requires_jit
def test_a_parallel_compiled_conv_layer_passes_gradcheck(monkeypatch):
    force_two_threads(monkeypatch)
    monkeypatch.setattr(numba_tuning, "CONV_PARALLEL_MIN_MACS", 0)
    rng = np.random.default_rng(13)
    x, w = (cr.tensor(rng.standard_normal(s), requires_grad=True) for s in [(5, 3, 6, 7), (4, 3, 3, 3)])
    fn = lambda a, b: F.conv2d(a, b, stride=(2, 1), padding=1)  # noqa: E731
    assert gradcheck(fn, (x, w)) and gradgradcheck(fn, (x, w))


def test_other_dtypes_and_disabled_jit_use_the_numpy_kernels(monkeypatch, calls):
    x = np.ones((2, 3, 5, 5), dtype=np.float16)
    w = np.ones((4, 3, 3, 3), dtype=np.float16)
    assert not conv_jit.available(np, x, w)
    assert not conv_jit.available(np, x.astype(np.float32), w.astype(np.float64))
    assert not conv_jit.available(np, np.ones((0, 3, 5, 5)), w.astype(np.float64))
    monkeypatch.setattr(_jit, "ENABLED", False)
    assert not conv_jit.available(np, x.astype(np.float64), w.astype(np.float64))
    y = F.conv2d(cr.tensor(x.astype(np.float64)), cr.tensor(w.astype(np.float64)), padding=1)
    assert sum(calls.values()) == 0 and float(y[0, 0, 2, 2]) == 27.0


@pytest.mark.parametrize("value,on", [(None, True), ("1", True), ("0", False), (" Off ", False),
                                      ("false", False), ("no", False), ("yes", True)])
def test_the_environment_variable_turns_the_kernels_off(value, on):
    assert _jit.enabled_by(value) is on


def test_without_numba_the_convolutions_fall_back_to_numpy(monkeypatch, calls):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    _jit.numba_module.cache_clear()
    conv_jit._kernels.cache_clear()
    try:
        assert conv_jit._kernels(np.float64) is None
        x = cr.tensor(np.arange(50.0).reshape(1, 2, 5, 5), requires_grad=True)
        w = cr.ones(3, 2, 3, 3, dtype=cr.float64, requires_grad=True)
        y = F.conv2d(x, w)
        y.sum().backward()
        assert sum(calls.values()) == 0
        assert float(y[0, 1, 0, 0]) == float(np.arange(50.0).reshape(2, 5, 5)[:, :3, :3].sum())
        assert x.grad.shape == (1, 2, 5, 5) and float(w.grad[0, 0, 0, 0]) == 9 * 6.0
    finally:
        monkeypatch.undo()
        _jit.numba_module.cache_clear()
        conv_jit._kernels.cache_clear()
