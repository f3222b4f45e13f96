"""Every operator row of the table (tests/opinfo) through the same checks, on every backend.

Each check runs on the reference kernels (``-numpy`` ids) and, for the rows whose operator has
a compiled kernel in ``kernels.BACKENDS["numba"]`` (convolution, batch norm, pooling, ReLU, ...:
found by probing each row, see tests/backends.py), again on numba (``-numba`` ids, marker
``numba``); running the other rows twice would repeat the same NumPy code.

Tolerances: float64 results must agree with PyTorch to 1e-10 (both compute the same formula in
double precision; only summation order differs). float32 results to 1e-5 relative: a few ulps
(1.2e-7 each) of rounding amplified by reductions of a dozen terms. gradcheck compares with
central differences at eps=1e-6, whose truncation error O(eps^2 f''') and rounding error
O(1e-16/eps) both stay below atol=1e-5 / rtol=1e-3.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck

from .. import backends
from ..opinfo import all_cases

CASES = all_cases()
torch.set_num_threads(1)


def _ours(arrays, requires_grad=False, noncontig=False):
    out = []
    for a in arrays:
        if a.dtype.kind != "f":
            out.append(cr.from_numpy(a.copy()))
            continue
        if noncontig and a.ndim >= 1:
            big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
            big[..., ::2] = a
            t = cr.from_numpy(big[..., ::2])
            assert not t.is_contiguous() or a.shape[-1] <= 1
        else:
            t = cr.from_numpy(a.copy())
        if requires_grad:
            t.requires_grad_()
        out.append(t)
    return out


def _theirs(arrays, requires_grad=False):
    out = []
    for a in arrays:
        t = torch.from_numpy(a.copy())
        if requires_grad and a.dtype.kind == "f":
            t.requires_grad_()
        out.append(t)
    return out


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


_COMPILED: dict[str, bool] = {}  # case name -> whether its forward reaches a compiled kernel


def _on_backends(cases):
    """Each case on the reference backend, and on numba where its operator has a compiled kernel
    (tests/backends.py: probed once per row; elsewhere the numba run would repeat the numpy one)."""
    def compiled(case):
        if case.name not in _COMPILED:
            _COMPILED[case.name] = bool(backends.compiled_kernels_used(
                lambda: case.fn(*_ours(case.inputs(np.float64)))))
        return _COMPILED[case.name]
    return backends.params(cases, [str(c) for c in cases], compiled)


def _assert_close(ours, theirs, atol, rtol, what=""):
    ours, theirs = _tuple(ours), _tuple(theirs)
    assert len(ours) == len(theirs), what
    for o, t in zip(ours, theirs):
        if isinstance(t, torch.Tensor):
            assert isinstance(o, cr.Tensor), f"{what}: expected a Tensor, got {type(o).__name__}"
            assert tuple(o.shape) == tuple(t.shape), f"{what}: shape {tuple(o.shape)} != torch {tuple(t.shape)}"
            assert o.dtype.name == str(t.dtype).replace("torch.", ""), f"{what}: dtype {o.dtype} != {t.dtype}"
            np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), atol=atol, rtol=rtol, err_msg=what)
        else:
            assert o == t, what


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case,backend", _on_backends(CASES), indirect=["backend"])
def test_forward_matches_torch(case, dtype, backend):
    arrays = case.inputs(dtype)
    tol = (case.atol32, case.rtol32) if dtype == np.float32 else (case.atol64, case.rtol64)
    _assert_close(case.fn(*_ours(arrays)), case.ref(*_theirs(arrays)), *tol, what=case.name)


@pytest.mark.parametrize("case,backend", _on_backends([c for c in CASES if c.noncontig]), indirect=["backend"])
def test_noncontiguous_inputs(case, backend):
    arrays = case.inputs(np.float64)
    contiguous = _tuple(case.fn(*_ours(arrays)))
    strided = _tuple(case.fn(*_ours(arrays, noncontig=True)))
    for a, b in zip(contiguous, strided):
        if isinstance(a, cr.Tensor):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case,backend", _on_backends(CASES), indirect=["backend"])
def test_inputs_not_modified(case, backend):
    arrays = case.inputs(np.float64)
    xs = _ours(arrays, requires_grad=case.grad)
    before = [x.detach().numpy().copy() for x in xs]
    outs = [o for o in _tuple(case.fn(*xs)) if isinstance(o, cr.Tensor) and o.requires_grad]
    if outs:
        cr.autograd.backward(outs, [cr.ones_like(o) for o in outs])
    for x, b in zip(xs, before):
        np.testing.assert_array_equal(x.detach().numpy(), b)


@pytest.mark.parametrize("case,backend", _on_backends([c for c in CASES if c.grad]), indirect=["backend"])
def test_gradient_matches_torch(case, backend):
    arrays = case.inputs(np.float64)
    xs, ts = _ours(arrays, requires_grad=True), _theirs(arrays, requires_grad=True)
    outs, touts = _tuple(case.fn(*xs)), _tuple(case.ref(*ts))
    rng = np.random.default_rng(1)
    pairs = [(o, t) for o, t in zip(outs, touts) if isinstance(t, torch.Tensor) and t.requires_grad]
    seeds = [rng.standard_normal(tuple(t.shape)) for _, t in pairs]
    diff = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    ours = cr.autograd.grad([o for o, _ in pairs], [xs[i] for i in diff],
                            [cr.tensor(s) for s in seeds], allow_unused=True)
    theirs = torch.autograd.grad([t for _, t in pairs], [ts[i] for i in diff],
                                 [torch.from_numpy(s) for s in seeds], allow_unused=True)
    for i, o, t in zip(diff, ours, theirs):
        if t is None:
            assert o is None or not np.any(o.numpy()), f"{case.name}: input {i} should get no gradient"
            continue
        assert o is not None, f"{case.name}: no gradient for input {i}"
        np.testing.assert_allclose(o.numpy(), t.numpy(), atol=case.atol64, rtol=case.rtol64,
                                   err_msg=f"{case.name}: gradient of input {i}")


def _checkable(case):
    arrays = case.inputs(np.float64)
    return _ours(arrays, requires_grad=True)


@pytest.mark.parametrize("case,backend", _on_backends([c for c in CASES if c.grad and c.numeric_grad]),
                         indirect=["backend"])
def test_gradcheck(case, backend):
    assert gradcheck(case.fn, _checkable(case), fast_mode=case.fast)


@pytest.mark.parametrize("case,backend", _on_backends([c for c in CASES if c.grad and c.numeric_grad and c.gradgrad]),
                         indirect=["backend"])
def test_gradgradcheck(case, backend):
    assert gradgradcheck(case.fn, _checkable(case), fast_mode=case.fast)


def test_table_counts_operators():
    ops = {c.op_name for c in CASES}
    print(f"\noperator table: {len(CASES)} cases covering {len(ops)} operators")
    assert len(ops) >= 206  # a ratchet: the count when this line was written; rows are never dropped
