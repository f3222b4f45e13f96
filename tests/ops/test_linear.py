"""Linear's one backward: ``LinearGrad`` (chainrule/ops/linear.py), the paired product whose own
backward is differentiable, runs for first derivatives with and without a recorded graph and for
second derivatives; compared with PyTorch and with gradgradcheck (the table, tests/opinfo, checks
the other linear shapes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops.linear import LinearGrad

torch.set_num_threads(1)


def _pair(shape, seed):
    a = np.random.default_rng(seed).standard_normal(shape)
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("xshape", [(5, 3), (2, 4, 3), (3,)], ids=["2d", "3d", "1d"])
def test_first_and_second_derivatives_match_torch(xshape):
    (x, xt), (w, wt), (b, bt) = _pair(xshape, 0), _pair((4, 3), 1), _pair((4,), 2)
    g = np.random.default_rng(3).standard_normal(xshape[:-1] + (4,))
    gx, gw, gb = cr.autograd.grad(F.linear(x, w, b), (x, w, b), cr.tensor(g), create_graph=True)
    tgx, tgw, tgb = torch.autograd.grad(torch.nn.functional.linear(xt, wt, bt), (xt, wt, bt),
                                        torch.from_numpy(g), create_graph=True)
    assert isinstance(gx.grad_fn, LinearGrad) and gw.grad_fn is gx.grad_fn  # one node for both
    for o, t in ((gx, tgx), (gw, tgw), (gb, tgb)):
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    v1, v2 = (np.random.default_rng(s).standard_normal(t.shape) for s, t in ((4, tgx), (5, tgw)))
    ours = cr.autograd.grad((gx * cr.tensor(v1)).sum() + (gw * cr.tensor(v2)).sum(), (x, w))
    theirs = torch.autograd.grad((tgx * torch.from_numpy(v1)).sum() + (tgw * torch.from_numpy(v2)).sum(),
                                 (xt, wt))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)


def test_gradients_with_and_without_a_graph_are_the_same_numbers():
    x, _ = _pair((6, 5), 6)
    w, _ = _pair((3, 5), 7)
    y = F.linear(x, w)
    g = cr.tensor(np.random.default_rng(8).standard_normal((6, 3)))
    plain = cr.autograd.grad(y, (x, w), g, retain_graph=True)
    graph = cr.autograd.grad(y, (x, w), g, create_graph=True)
    for a, c in zip(plain, graph):
        np.testing.assert_array_equal(a.numpy(), c.detach().numpy())


def test_the_gradient_node_passes_gradcheck_and_gradgradcheck():
    gy, _ = _pair((2, 3, 4), 9)
    x, _ = _pair((2, 3, 5), 10)
    w, _ = _pair((4, 5), 11)

    def fn(gy, x, w):
        return LinearGrad().apply(gy, x, w)

    assert gradcheck(fn, (gy, x, w))
    assert gradgradcheck(fn, (gy, x, w))
