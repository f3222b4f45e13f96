"""Gradient clipping: clip_grad_norm_ / clip_grad_value_ against PyTorch, adaptive gradient
clipping (AGC) against the unit-wise formula on hand-computed cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import (
    adaptive_clip_grad_,
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
    unitwise_norm,
)


def _pairs(shapes, scale=3.0, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for s in shapes:
        w, g = rng.standard_normal(s).astype(dtype), (rng.standard_normal(s) * scale).astype(dtype)
        p, t = nn.Parameter(cr.tensor(w)), torch.nn.Parameter(torch.tensor(w))
        p.grad, t.grad = cr.tensor(g), torch.tensor(g)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 0.5, 3])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pairs([(3, 4), (4,), (2, 2, 3)])
    total = clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, cr.Tensor) and total.ndim == 0 and total.dtype == cr.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_result_and_edge_cases():
    p = nn.Parameter(cr.tensor([3.0, 4.0], dtype=cr.float64))
    p.grad = cr.tensor([3.0, 4.0], dtype=cr.float64)
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # a single tensor is accepted
    np.testing.assert_allclose(p.grad.numpy(), [3 / (5 + 1e-6), 4 / (5 + 1e-6)], rtol=1e-12)
    q = nn.Parameter(cr.ones(2))  # no grad: skipped
    assert clip_grad_norm_([q], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        clip_grad_norm_((x for x in []), 1.0)
    with pytest.warns(FutureWarning, match="deprecated"):
        clip_grad_norm([p], 1.0)


def test_clip_grad_norm_nonfinite():
    ours, theirs = _pairs([(2, 2)])
    with cr.no_grad():
        ours[0].grad[0, 0] = float("inf")
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total = clip_grad_norm_(ours, 1.0)
    assert math.isinf(total.item())


def test_total_norm_split_api_matches_torch():
    ours, theirs = _pairs([(5,), (2, 3)])
    total = get_total_norm([p.grad for p in ours], 2.0)
    ttotal = torch.nn.utils.get_total_norm([t.grad for t in theirs], 2.0)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    clip_grads_with_norm_(ours, 0.3, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.3, ttotal)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_clip_grad_value_matches_torch():
    ours, theirs = _pairs([(3, 4), (6,)])
    assert clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
    assert float(np.abs(ours[0].grad.numpy()).max()) == pytest.approx(0.7)


# ---- adaptive gradient clipping --------------------------------------------------------------------
def test_agc_linear_rows_hand_computed():
    # row 0: ||w|| = 5, ||g|| = 10 -> limit 0.1 * 5 = 0.5 < 10: scaled by 0.05
    # row 1: ||w|| = 1, ||g|| = 0.05 -> limit 0.1, not clipped
    w = nn.Parameter(cr.tensor([[3.0, 4.0], [0.0, 1.0]], dtype=cr.float64))
    w.grad = cr.tensor([[6.0, 8.0], [0.03, 0.04]], dtype=cr.float64)
    adaptive_clip_grad_([w], clipping=0.1)
    np.testing.assert_allclose(w.grad.numpy(), [[0.3, 0.4], [0.03, 0.04]], rtol=1e-12)


def test_agc_bias_is_unitwise_per_entry_and_eps_floor():
    # bias entries are their own units: |b| = (2, 0); the zero entry uses eps = 1e-3 instead
    b = nn.Parameter(cr.tensor([2.0, 0.0], dtype=cr.float64))
    b.grad = cr.tensor([-1.0, 0.5], dtype=cr.float64)
    adaptive_clip_grad_(b, clipping=0.01, eps=1e-3)
    # entry 0: limit 0.02 < 1 -> -0.02; entry 1: limit 1e-5 < 0.5 -> 1e-5
    np.testing.assert_allclose(b.grad.numpy(), [-0.02, 1e-5], rtol=1e-12)


def test_agc_conv_filters():
    rng = np.random.default_rng(1)
    w_np = rng.standard_normal((3, 2, 2, 2))
    g_np = rng.standard_normal((3, 2, 2, 2)) * np.array([10.0, 0.001, 1.0]).reshape(3, 1, 1, 1)
    w = nn.Parameter(cr.tensor(w_np))
    w.grad = cr.tensor(g_np)
    adaptive_clip_grad_([w], clipping=0.05)
    expected = g_np.copy()
    for o in range(3):  # one filter per output channel
        limit = 0.05 * max(np.linalg.norm(w_np[o]), 1e-3)
        gn = np.linalg.norm(g_np[o])
        if gn > limit:
            expected[o] *= limit / gn
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)
    assert not np.allclose(expected[0], g_np[0]) and np.allclose(expected[1], g_np[1])


def test_agc_keeps_dtype_and_skips_missing_grads():
    w = nn.Parameter(cr.randn(4, 3))
    w.grad = cr.randn(4, 3) * 100
    v = nn.Parameter(cr.randn(3))
    adaptive_clip_grad_([w, v])
    assert w.grad.dtype == cr.float32 and v.grad is None
    ratio = np.linalg.norm(w.grad.numpy(), axis=1) / np.maximum(np.linalg.norm(w.detach().numpy(), axis=1), 1e-3)
    np.testing.assert_allclose(ratio, 0.01, rtol=1e-4)


def test_unitwise_norm_shapes():
    assert unitwise_norm(cr.ones(5)).shape == (5,)
    np.testing.assert_allclose(unitwise_norm(cr.ones(4, 2, 3, 3)).numpy().ravel(), [math.sqrt(18)] * 4, rtol=1e-6)
    assert unitwise_norm(cr.ones(4, 2, 3, 3)).shape == (4, 1, 1, 1)
