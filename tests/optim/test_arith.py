"""The optimisers' update primitives round as PyTorch's CPU kernels do (add_ with alpha, addcmul_, addcdiv_, lerp_)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from chainrule.optim import _arith

# PyTorch fuses the multiply-adds only where its CPU build has FMA (the AVX2 and AVX512 kernels)
needs_fma = pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"),
                               reason="PyTorch's kernels on this CPU do not fuse multiply-adds")


def _arrays(n: int, dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n).astype(dtype), rng.normal(size=n).astype(dtype)
    c = (np.abs(rng.normal(size=n)) + 0.1).astype(dtype)
    return a, b, c


# 5: PyTorch's scalar loop; 1000: its vector loop; 100003: our blocked float64 path (> one block)
SIZES = [5, 1000, 100_003]


@needs_fma
@pytest.mark.parametrize("n", SIZES)
def test_float32_primitives_are_bit_identical_to_torch(n):
    a, b, c = _arrays(n, np.float32)
    ta, tb, tc = (torch.from_numpy(x.copy()) for x in (a, b, c))

    x = a.copy()
    _arith.add_(x, b, -0.3)
    np.testing.assert_array_equal(x, ta.clone().add_(tb, alpha=-0.3).numpy())

    x = a.copy()
    _arith.addcmul_(x, b, c, 0.01)
    np.testing.assert_array_equal(x, ta.clone().addcmul_(tb, tc, value=0.01).numpy())

    x = a.copy()
    _arith.addcdiv_(x, b, c, -1e-3)
    np.testing.assert_array_equal(x, ta.clone().addcdiv_(tb, tc, value=-1e-3).numpy())

    for weight in (0.1, 0.7, 1.0):
        x = a.copy()
        _arith.lerp_(x, b, weight)
        np.testing.assert_array_equal(x, ta.clone().lerp_(tb, weight).numpy())

    x = c.copy()
    _arith.square_avg_(x, b, 0.99)
    np.testing.assert_array_equal(x, tc.clone().mul_(0.99).addcmul_(tb, tb, value=1 - 0.99).numpy())

    np.testing.assert_array_equal(_arith.added(a, b, 0.05), ta.add(tb, alpha=0.05).numpy())


@pytest.mark.parametrize("n", SIZES)
def test_float32_fma_rounds_once(n):
    """Exact product and sum in float64, one rounding: the same for the small and the blocked path."""
    a, b, c = _arrays(n, np.float32, seed=1)
    exact = (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)
    out = np.empty_like(a)
    np.testing.assert_array_equal(_arith.fma(a, b, c, out), exact)
    s = np.float32(0.3)
    np.testing.assert_array_equal(_arith.fma(s, b, c, out), (np.float64(s) * b + c.astype(np.float64)).astype(np.float32))
    x = c.copy()  # in place: out is c
    np.testing.assert_array_equal(_arith.fma(a, b, x, x), exact)


def test_fma_exact_cancels_without_error_in_float64():
    """s - a*a for a*a close to s: the two-product keeps what a plain multiply loses."""
    rng = np.random.default_rng(2)
    a = rng.uniform(1.0, 2.0, size=1000)
    s = a * a * (1 + rng.uniform(-1e-12, 1e-12, size=1000))
    out = _arith.fma_exact(-a, a, s, np.empty_like(s))
    # reference in exact rational arithmetic for a few entries
    from fractions import Fraction

    for i in range(0, 1000, 97):
        ref = Fraction(s[i]) - Fraction(a[i]) * Fraction(a[i])
        assert abs(Fraction(out[i]) - ref) <= abs(ref) * Fraction(2) ** -52
    plain = s - a * a
    assert np.abs(plain - out).max() > 0  # the plain formula does lose digits here
