"""The backend test hook ``kernels.only`` and the backend parametrisation of the tables
(tests/backends.py): ``only`` restricts ``select``; the probe finds exactly the rows whose
operators have compiled kernels; a ``numba`` case really runs the compiled kernels."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import kernels
from chainrule.kernels import _jit
from chainrule.kernels import numba as numba_backend
from chainrule.kernels import numpy as numpy_backend

from .. import backends


def test_only_restricts_select_and_restores_it(monkeypatch):
    monkeypatch.setattr(_jit, "ENABLED", True)
    x = np.ones(4, np.float32)
    with kernels.only("numpy"):
        assert kernels.select(np, x) == (numpy_backend,)
        with kernels.only("numba", "numpy"):
            assert kernels.select(np, x) == (numba_backend, numpy_backend)
        assert kernels.select(np, x) == (numpy_backend,)
    assert kernels.select(np, x) == (numba_backend, numpy_backend)


def test_only_refuses_an_unknown_backend():
    with pytest.raises(ValueError, match=r"unknown backend\(s\) \['cuda'\]"):
        with kernels.only("cuda"):
            pass


def test_the_probe_finds_the_compiled_families_and_nothing_else():
    x = cr.from_numpy(np.random.default_rng(0).standard_normal((2, 3, 6, 6)))
    w = cr.from_numpy(np.ones((4, 3, 3, 3)))
    assert backends.compiled_kernels_used(lambda: F.relu(x)) == {("pointwise", "relu")}
    assert backends.compiled_kernels_used(lambda: F.conv2d(x, w)) == {("conv", "forward")}
    assert ("pool", "max_pool") in backends.compiled_kernels_used(lambda: F.max_pool2d(x, 2))
    assert backends.compiled_kernels_used(lambda: (x * 2).sum()) == set()
    # the reference backend alone has matmul: Linear is a numpy-only row
    assert backends.compiled_kernels_used(lambda: F.linear(x.reshape(2, -1), cr.ones(5, 108))) == set()


def test_table_params_add_numba_cases_only_for_compiled_rows():
    ps = backends.params(["a", "b"], ["a", "b"], lambda r: r == "b")
    assert [p.id for p in ps] == ["a-numpy", "b-numpy", "b-numba"]
    assert [m.name for m in ps[2].marks] == ["numba"]


@pytest.mark.parametrize("which", backends.NAMES)
def test_each_backend_runs_its_own_kernels(monkeypatch, which):
    reason = backends.skip_reason(which)
    if reason:
        pytest.skip(reason)
    used = []
    original = numba_backend.pointwise.relu
    monkeypatch.setattr(numba_backend.pointwise, "relu", lambda *a, **k: used.append(1) or original(*a, **k))
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    with backends.running(which):
        y = F.relu(cr.from_numpy(x))
    np.testing.assert_array_equal(y.numpy(), np.maximum(x, 0))
    assert bool(used) == (which == "numba")
