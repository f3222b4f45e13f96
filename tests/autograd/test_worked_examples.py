"""The course's worked examples of automatic differentiation, with their exact numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import autograd


def test_norm_gradient_through_grad_and_backward():
    # l = ||x|| at x = (1, 2, 2): l = 3 and dl/dx = x / ||x|| = (1/3, 2/3, 2/3)
    x = cr.tensor([1.0, 2.0, 2.0], requires_grad=True)
    l = x.norm()
    assert l.item() == pytest.approx(3.0)
    (g,) = autograd.grad(l, x)
    np.testing.assert_allclose(g.numpy(), [1 / 3, 2 / 3, 2 / 3], rtol=1e-6)
    x2 = cr.tensor([1.0, 2.0, 2.0], requires_grad=True)
    x2.norm().backward()
    np.testing.assert_allclose(x2.grad.numpy(), [1 / 3, 2 / 3, 2 / 3], rtol=1e-6)


def test_gradient_accumulates_across_backward_calls():
    # x = (3, 4): d||x||/dx = (0.6, 0.8); d(x . (-10, 10))/dx = (-10, 10); .grad holds the sum
    x = cr.tensor([3.0, 4.0], requires_grad=True)
    a = x.norm()
    a.backward()
    b = x.dot(cr.tensor([-10.0, 10.0]))
    b.backward()
    np.testing.assert_allclose(x.grad.numpy(), [-9.4, 10.8], rtol=1e-6)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    (y.norm() + y.dot(cr.tensor([-10.0, 10.0]))).backward()
    np.testing.assert_allclose(y.grad.numpy(), x.grad.numpy(), rtol=1e-7)


def test_higher_order_derivative_through_create_graph():
    # s1 = sum x^2, g1 = 2x; s2 = exp(g1[0]) - exp(g1[2]) = exp(2 x0) - exp(2 x2)
    # ds2/dx = (2 e^2, 0, -2 e^6) = (14.7781, 0, -806.8576)
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s1 = (x**2).sum()
    (g1,) = autograd.grad(s1, x, create_graph=True)
    np.testing.assert_allclose(g1.detach().numpy(), [2.0, 4.0, 6.0])
    s2 = g1[0].exp() - g1[2].exp()
    (g2,) = autograd.grad(s2, x)
    np.testing.assert_allclose(g2.numpy(), [14.7781, 0.0, -806.8576], atol=1e-4, rtol=1e-6)
    np.testing.assert_allclose(g2.numpy(), [2 * np.exp(2), 0.0, -2 * np.exp(6)], rtol=1e-6)


def _shared_weight_dag(lib, w1, w2, x0):
    # x1 = w1 x0, x2 = x0 + w2 x1, x3 = w1 (x1 + x2), q = ||x3||: w1 is used twice
    x1 = w1 @ x0
    x2 = x0 + w2 @ x1
    x3 = w1 @ (x1 + x2)
    return x3.norm()


def test_dag_with_shared_weight_matches_torch_and_sums_both_uses():
    rng = np.random.default_rng(0)
    w1_np, w2_np, x0_np = rng.standard_normal((5, 5)), rng.standard_normal((5, 5)), rng.standard_normal(5)
    w1 = cr.tensor(w1_np, requires_grad=True)
    w2 = cr.tensor(w2_np, requires_grad=True)
    q = _shared_weight_dag(cr, w1, w2, cr.tensor(x0_np))
    q.backward()
    tw1 = torch.tensor(w1_np, requires_grad=True)
    tw2 = torch.tensor(w2_np, requires_grad=True)
    tq = _shared_weight_dag(torch, tw1, tw2, torch.tensor(x0_np))
    tq.backward()
    np.testing.assert_allclose(q.item(), tq.item(), rtol=1e-12)
    np.testing.assert_allclose(w1.grad.numpy(), tw1.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w2.grad.numpy(), tw2.grad.numpy(), rtol=1e-10, atol=1e-12)

    # w1's gradient is the sum of the gradients of its two uses: treat them as separate leaves
    a = cr.tensor(w1_np, requires_grad=True)
    b = cr.tensor(w1_np, requires_grad=True)
    x0 = cr.tensor(x0_np)
    x1 = a @ x0
    x2 = x0 + cr.tensor(w2_np) @ x1
    (b @ (x1 + x2)).norm().backward()
    np.testing.assert_allclose(w1.grad.numpy(), (a.grad + b.grad).numpy(), rtol=1e-12, atol=1e-14)
    assert np.abs(a.grad.numpy()).max() > 0 and np.abs(b.grad.numpy()).max() > 0


@pytest.mark.parametrize("k", [1, 3])
def test_data_dependent_graph_matches_torch(k):
    # a loop that applies tanh(w[i] @ x) k times, sharing w; q = u . v
    rng = np.random.default_rng(k)
    w_np = rng.standard_normal((3, 4, 4)) * 0.7
    x_np, v_np = rng.standard_normal(4), rng.standard_normal(4)

    def run(lib, w, x, v):
        u = x
        for i in range(k):
            u = lib.tanh(w[i % 3] @ u)
        return u.dot(v)

    w = cr.tensor(w_np, requires_grad=True)
    x = cr.tensor(x_np, requires_grad=True)
    q = run(cr, w, x, cr.tensor(v_np))
    q.backward()
    tw = torch.tensor(w_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    tq = run(torch, tw, tx, torch.tensor(v_np))
    tq.backward()
    np.testing.assert_allclose(q.item(), tq.item(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-13)
