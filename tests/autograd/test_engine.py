"""The backward engine: accumulation, retained graphs, grad(), hooks, grad mode, version counters."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd


def leaf(values, dtype=cr.float64):
    return cr.tensor(values, dtype=dtype, requires_grad=True)


def test_non_scalar_backward_needs_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        y.backward()
    y.backward(cr.tensor([1.0, 10.0], dtype=cr.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 20.0])


def test_gradient_shape_mismatch_names_both_shapes():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"Mismatch in shape.*\[3\].*\[2\]"):
        (x * 2).backward(cr.ones(3, dtype=cr.float64))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        cr.tensor([1.0, 2.0]).sum().backward()


def test_second_backward_raises_and_names_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward_and_accumulates():
    x = leaf([1.0, 2.0])
    y = (x.exp()).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]))


def test_saved_buffers_are_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = x.exp()
    node = y.grad_fn
    assert node._saved is not None
    y.sum().backward()
    assert node._saved is None


def test_no_grad_records_nothing_and_keeps_nothing_alive():
    x = leaf([1.0, 2.0])
    with cr.no_grad():
        y = x * 2 + 1
    assert y.grad_fn is None and not y.requires_grad
    z = (x * 3).exp()
    ref = weakref.ref(z.grad_fn)
    del z
    gc.collect()
    assert ref() is None


def test_grad_mode_switches_nest_and_decorate():
    x = leaf([1.0])
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        with cr.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()

    @cr.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    assert not cr.is_grad_enabled()
    cr.set_grad_enabled(True)


def test_grad_does_not_touch_dot_grad_and_handles_unused_inputs():
    x, y = leaf([1.0, 2.0]), leaf([3.0])
    out = (x * x).sum()
    (gx,) = autograd.grad(out, x, retain_graph=True)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 4.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad(out, [x, y], retain_graph=True)
    gx, gy = autograd.grad(out, [x, y], allow_unused=True, retain_graph=True)
    assert gy is None
    gx, gy = autograd.grad(out, [x, y], materialize_grads=True)
    np.testing.assert_array_equal(gy.numpy(), [0.0])


def test_grad_with_respect_to_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3
    out = (h * h).sum()
    gh, gx = autograd.grad(out, [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())
    np.testing.assert_allclose(gx.numpy(), 18 * x.detach().numpy())


def test_third_derivative():
    x = leaf([0.5, -1.5])
    y = (x**4).sum()
    (g1,) = autograd.grad(y, x, create_graph=True)
    (g2,) = autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), 24 * x.detach().numpy())


def test_backward_create_graph_makes_grad_differentiable():
    x = leaf([2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(g2.numpy(), [12.0])


def test_backward_inputs_restricts_accumulation():
    x, y = leaf([1.0]), leaf([2.0])
    (x * y).sum().backward(inputs=[x])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0])
    assert y.grad is None


def test_shared_tensor_gets_sum_of_gradients():
    x = leaf([1.0, 2.0])
    (x * x + x.exp() + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]) + np.exp([1.0, 2.0]) + 1)


def test_broadcast_gradients_are_summed_to_input_shape():
    a = leaf(np.ones((3, 1)))
    b = leaf(np.arange(4.0))
    (a * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), 6.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 3.0))


def test_hooks_modify_gradients_and_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    handle = h.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: g + 1)
    (h * h).sum().backward()
    # dL/dh = 2h; the hook on h runs before retain_grad's (registered earlier runs first)
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), 2 * 10 * 2 * h.detach().numpy() + 1)
    handle.remove()


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cr.ones(2).register_hook(lambda g: g)


def test_in_place_on_leaf_requiring_grad_raises_unless_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1.0)
    with cr.no_grad():
        w.add_(1.0)
        w.mul_(2.0)
    np.testing.assert_array_equal(w.detach().numpy(), [4.0, 6.0])
    assert w.is_leaf and w.requires_grad


def test_modifying_a_saved_tensor_makes_backward_raise():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = (y * y).sum()  # saves y
    with cr.no_grad():
        y.mul_(3)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_in_place_on_non_leaf_is_recorded():
    x = leaf([1.0, 2.0])
    y = x * 2
    y += x  # y = 3x
    y.mul_(y)  # y = 9x^2, multiplies by itself: the snapshot keeps the old value for backward
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 18 * np.array([1.0, 2.0]))


def test_in_place_through_a_view_bumps_the_shared_version():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 1
    z = (y.exp()).sum()  # exp saves its output, not y; sum of y's view:
    v = y.reshape(4)
    w = (v * v).sum()
    with cr.no_grad():
        y[0, 0] = 5.0
    z.backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.backward()


def test_every_view_knows_its_base_as_in_pytorch():
    z = cr.zeros(3)
    v = z[:2]
    assert v._base is z and v.view(2)._base is z  # the first tensor of the chain
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        v.detach_()
    with cr.no_grad():
        assert z.reshape(3, 1)._base is z


def test_in_place_writes_through_an_indexing_view_are_recorded_into_its_base_as_in_pytorch():
    """``z[0] += w``, ``z[1].mul_(3)``: the base gets the write's history (PyTorch's CopySlices); the
    base used to keep none, so the gradient of ``w`` through ``z`` was silently lost."""
    import torch

    results = []
    for lib in (cr, torch):
        w = lib.tensor([5.0, 1.0], requires_grad=True)
        x = lib.tensor([2.0, 3.0], requires_grad=True)
        z = lib.zeros(2, 2, dtype=w.dtype)
        z[0] += w
        z[1].mul_(3).add_(w * x)
        y = x * 1  # a non-leaf base that requires grad
        y[1:].mul_(w[1:])
        z[:, 1:2].sub_(lib.tensor([[0.5], [0.25]], dtype=w.dtype))
        loss = (z * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=w.dtype)).sum() + (y * y).sum()
        loss.backward()
        results.append((z.grad_fn.name(), z.detach().numpy(), w.grad.numpy(), x.grad.numpy()))
    assert results[0][0] == results[1][0] == "torch::autograd::CopySlices"
    for ours, theirs in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_in_place_writes_with_grad_through_other_views_are_recorded_into_the_base():
    w = leaf([5.0, 1.0])
    z = cr.zeros(2, 2)
    for make in (lambda: z.reshape(4)[:2], lambda: z.view(4), lambda: z.t()):  # PyTorch's values and grads
        view = make()
        view.add_(w if view.shape == (2, 2) or view.shape == (2,) else w.repeat(2))
    assert z.requires_grad and z.tolist() == [[15.0, 7.0], [6.0, 2.0]]
    z.sum().backward()  # each entry of w added once, twice (repeated) and twice (broadcast over rows)
    assert w.grad.tolist() == [5.0, 5.0]
    leaf_base = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        leaf_base[0].add_(1.0)


def test_detach_shares_memory_and_leaves_graph():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    with cr.no_grad():
        x[0] = 7.0
    assert d[0].item() == 7.0


class Cube(autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x**3 * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2 * ctx.scale, None


class CubeOnce(Cube):
    @staticmethod
    @autograd.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2 * ctx.scale, None


def test_custom_function_first_and_second_derivative():
    x = leaf([1.0, -2.0])
    y = Cube.apply(x, 2.0)
    assert y.grad_fn is not None and "Cube" in y.grad_fn.name()
    (g,) = autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 6 * np.array([1.0, 4.0]))
    (g2,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 12 * np.array([1.0, -2.0]))
    assert autograd.gradcheck(lambda t: Cube.apply(t, 0.5), (leaf([0.3, 1.1]),))
    assert autograd.gradgradcheck(lambda t: Cube.apply(t, 0.5), (leaf([0.3, 1.1]),))


def test_custom_function_needs_input_grad():
    seen = {}

    class Probe(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, g

    Probe.apply(leaf([1.0]), cr.tensor([2.0], dtype=cr.float64))
    assert seen["needs"] == (True, False)


def test_once_differentiable_raises_on_double_backward():
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad(CubeOnce.apply(x, 1.0).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    with pytest.raises(RuntimeError, match="once_differentiable"):
        autograd.grad(g.sum(), x)


def test_gradcheck_reports_input_index_and_values():
    class Wrong(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x  # should be 2x

    with pytest.raises(autograd.GradcheckError, match=r"(?s)input 0.*numerical.*analytical"):
        autograd.gradcheck(Wrong.apply, (leaf([1.0, 2.0]),))
    assert not autograd.gradcheck(Wrong.apply, (leaf([1.0, 2.0]),), raise_exception=False)
    with pytest.raises(autograd.GradcheckError, match="random direction"):
        autograd.gradcheck(Wrong.apply, (leaf([1.0, 2.0]),), fast_mode=True)


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_detect_anomaly_names_the_forward_line():
    x = leaf([0.0, 1.0])
    with autograd.detect_anomaly():
        y = x.sqrt()  # d sqrt/dx at 0 is inf
        with pytest.raises(RuntimeError, match=r"(?s)SqrtBackward.*test_engine.py"):
            y.sum().backward()


def test_inference_mode_disables_recording_and_decorates():
    x = leaf([1.0])
    with cr.inference_mode():
        assert not (x * 2).requires_grad
    with cr.inference_mode(False):
        assert (x * 2).requires_grad

    @cr.inference_mode()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and cr.is_grad_enabled()


# ---- a leaf's first gradient becomes its .grad without a copy when nothing else holds it -------------
def test_a_leafs_first_gradient_is_taken_without_a_copy_when_only_the_engine_holds_it(monkeypatch):
    """As PyTorch's AccumulateGrad: a fresh gradient nobody else holds becomes ``.grad`` as it is
    (``accumulate_grad``, which copies, is not called); a second backward adds into it."""
    from chainrule.autograd import function

    copied = []
    real = function.accumulate_grad
    monkeypatch.setattr(function, "accumulate_grad", lambda t, g, cg: (copied.append(t), real(t, g, cg)))
    lin = cr.nn.Linear(4, 3)
    x = cr.randn(5, 4)
    lin(x).square().sum().backward()
    assert copied == []
    first = lin.weight.grad.numpy().copy()
    lin(x).square().sum().backward()
    assert len(copied) == 2  # .grad exists now: added into, out of place
    np.testing.assert_allclose(lin.weight.grad.numpy(), 2 * first, rtol=1e-6)


def _shares(a, b) -> bool:
    return np.shares_memory(a.numpy(), b.numpy())


def test_one_gradient_sent_to_two_leaves_gives_each_its_own_memory():
    a, b = cr.randn(3, requires_grad=True), cr.randn(3, requires_grad=True)
    c = cr.randn(3)
    ((a + b) * c).sum().backward()  # Add's backward hands the same gradient to a and b
    assert not _shares(a.grad, b.grad)
    np.testing.assert_array_equal(a.grad.numpy(), c.numpy())
    a.grad.zero_()
    np.testing.assert_array_equal(b.grad.numpy(), c.numpy())


def test_a_gradient_a_hook_keeps_is_copied_into_grad():
    a = cr.randn(3, requires_grad=True)
    kept = []
    a.register_hook(lambda g: kept.append(g))
    (a * cr.randn(3)).sum().backward()
    assert not _shares(a.grad, kept[0])
    a.grad.zero_()
    assert kept[0].abs().sum().item() > 0


def test_the_gradient_given_to_backward_of_a_leaf_is_copied_into_grad():
    a = cr.randn(3, requires_grad=True)
    g = cr.ones(3)
    a.backward(g)
    assert not _shares(a.grad, g)
    y = a * 2
    g2 = cr.randn(3)
    a.grad = None
    y.backward(g2)
    assert not _shares(a.grad, g2)


def test_a_gradient_taken_without_a_copy_shares_memory_with_nothing_else():
    a = cr.randn(4, requires_grad=True)
    w = cr.randn(4)
    (a * w).sum().backward()
    data = a.grad.numpy()
    assert data.flags.owndata and not _shares(a.grad, w)


def test_a_product_with_a_number_keeps_no_operand_so_a_later_write_is_no_error_as_in_pytorch():
    """``v * 2`` and ``v / 2`` need no value of ``v`` for their gradient: a write into ``v``'s tensor
    afterwards must not fail the backward (it did: both operands were kept)."""
    import torch

    for lib in (cr, torch):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = a * 1
        y = x[:-1] * 2 + x[1:] / 4
        x.add_(1.0)  # bumps the version of x and its views
        y.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.25, 0.25])
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    v = cr.tensor([3.0, 4.0], requires_grad=True)
    p = v * 1
    q = p * w  # both need each other: both kept
    p.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        q.sum().backward()
