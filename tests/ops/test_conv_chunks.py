"""The convolution kernels split the batch into chunks whose column arrays fit in the cache
(``kernels/numpy/conv.py``: ``samples_per_chunk``), with the compiled kernels off: every layout, with a bias, gives PyTorch's results when
the batch is cut into chunks of one sample, and of two samples with a shorter last chunk; the
row-blocked GEMM equals ``matmul``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradgradcheck
from chainrule.kernels.numpy import tuning as numpy_tuning

torch.set_num_threads(1)

CASES = [  # (op, x shape, w shape, kwargs); batch 3 so that chunks of 2 leave a remainder
    ("conv2d", (3, 4, 6, 5), (3, 4, 3, 2), dict(padding=1)),
    ("conv2d", (3, 1, 7, 7), (4, 1, 5, 5), dict(padding=2)),
    # wide enough for the weight gradient's swapped product (>= 32 output channels, depth >= 64)
    ("conv2d", (3, 24, 5, 4), (32, 24, 3, 3), dict(padding=1)),
    ("conv2d", (3, 4, 7, 6), (6, 2, 3, 3), dict(stride=(2, 1), padding=(0, 1), dilation=(1, 2), groups=2)),
    ("conv2d", (3, 4, 8, 8), (6, 4, 1, 1), dict(stride=2)),
    ("conv3d", (3, 3, 4, 3, 4), (2, 3, 2, 2, 2), dict(dilation=(2, 1, 1), padding=(1, 0, 1))),
    ("conv1d", (3, 2, 9), (4, 2, 3), dict(stride=2, padding=1)),
    ("conv_transpose2d", (3, 4, 3, 4), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (3, 3, 4, 3), (3, 2, 3, 3), dict(padding=1)),
]


def t(a, requires_grad=False):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


@pytest.mark.parametrize("samples", [1, 2])
@pytest.mark.parametrize("shift,fold", [(True, True), (False, False)])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}{c[1]}")
def test_chunked_batch_gives_torchs_results_and_second_derivatives(monkeypatch, case, samples, shift, fold):
    from chainrule.kernels import _jit
    from chainrule.kernels.numpy import conv as conv_kernels

    op, xs, ws, kw = case
    monkeypatch.setattr(_jit, "ENABLED", False)  # the NumPy kernels (tests/kernels/test_conv.py: the compiled ones)
    monkeypatch.setattr(conv_kernels, "samples_per_chunk", lambda per_sample, threads=1: samples)
    monkeypatch.setattr(numpy_tuning, "CONV_SHIFT_MIN_DEPTH", 1 if shift else 10**9)
    monkeypatch.setattr(numpy_tuning, "CONV_FOLD_BELOW", 10**9 if fold else 0)
    ours = check_against_torch(case, seed=3)
    assert gradgradcheck(lambda a, b, c: getattr(F, op)(a, b, c, **kw), ours, fast_mode=True)


def check_against_torch(case, seed: int) -> list:
    """Random float64 x, w, b for ``case``: output and all three gradients equal torch's to
    1e-12; returns chainrule's leaf tensors (x, w, b) for further checks."""
    op, xs, ws, kw = case
    rng = np.random.default_rng(seed)
    groups = kw.get("groups", 1)
    channels = ws[1] * groups if op.startswith("conv_transpose") else ws[0]
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(channels)
    ours, theirs = [t(a, True) for a in (x, w, b)], [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    y, ty = getattr(F, op)(*ours, **kw), getattr(TF, op)(*theirs, **kw)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(ty.shape))
    for o, th in zip(cr.autograd.grad(y, ours, t(g)), torch.autograd.grad(ty, theirs, torch.tensor(g))):
        np.testing.assert_allclose(o.numpy(), th.numpy(), rtol=1e-12, atol=1e-12)
    return ours


@pytest.mark.parametrize("a_shape,b_shape", [((1, 40, 6), (3, 1, 6, 5)), ((3, 2, 17, 4), (4, 9)), ((24, 7), (7, 3))])
def test_gemm_cut_into_row_blocks_equals_matmul(monkeypatch, a_shape, b_shape):
    from chainrule.kernels.numpy import conv as conv_kernels

    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    # a limit that allows blocks of 8 rows: the product is computed in several blocks
    monkeypatch.setattr(numpy_tuning, "SMALL_GEMM_MNK", 8 * a_shape[-1] * b_shape[-1])
    np.testing.assert_allclose(conv_kernels.gemm(np, a, b), np.matmul(a, b), rtol=1e-13, atol=1e-13)
    out = np.empty(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]))
    assert conv_kernels.gemm(np, a, b, out=out) is out
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-13, atol=1e-13)
