"""In-place writes into any view of a tensor in the graph (``x.t().mul_(y)``, ``x.view(-1)[1:3] += 1``,
``x.diagonal().zero_()`` ...): recorded into the view's base as PyTorch records them (``CopySlices``),
checked against PyTorch.

Tolerances: everything runs in float64 with the same elementwise arithmetic as PyTorch (the write
itself is a copy, add, multiply or clamp of the same numbers), so values agree exactly; gradients
agree to a few ulps (``rtol=1e-12``), the only difference being the order in which contributions to
one element of a leaf's gradient are added up."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr

rng = np.random.default_rng(0)
SHAPE = (2, 3, 4)

# each a view of ``x`` (of shape SHAPE, a non-leaf) that is not made by indexing ``x`` directly
VIEWS = {
    "t": lambda x: x.reshape(6, 4).t(),
    "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(2, 0, 1),
    "view_slice": lambda x: x.view(-1)[3:17],
    "reshape": lambda x: x.reshape(4, 6),
    "flatten": lambda x: x.flatten(1),
    "unsqueeze_squeeze": lambda x: x.unsqueeze(1).squeeze(1),
    "diagonal": lambda x: x.diagonal(dim1=1, dim2=2),
    "narrow_of_transpose": lambda x: x.transpose(1, 2).narrow(1, 1, 2),
    "select_of_permute": lambda x: x.permute(1, 0, 2).select(0, 1),
    "unfold": lambda x: x.unfold(2, 2, 2),  # windows that do not overlap
    "view_of_view": lambda x: x.view(6, 4)[1:5].t(),
    "view_of_index": lambda x: x[1][:, 1:3],
    "index_of_permute": lambda x: x.permute(1, 0, 2)[1],
    "strided_slice_of_view": lambda x: x.view(6, 4)[::2, 1::2],
}


def _setitem(v, y):
    v[0] = y[0]


# each an in-place write into the view ``v``; ``y`` is a leaf of ``v``'s shape that requires grad
OPS = {
    "add_": lambda v, y: v.add_(y),
    "mul_": lambda v, y: v.mul_(y),
    "zero_": lambda v, y: v.zero_(),
    "copy_": lambda v, y: v.copy_(y),
    "clamp_": lambda v, y: v.clamp_(-0.3, 0.3),
    "setitem": _setitem,
}

A0 = rng.standard_normal(SHAPE)
W0 = rng.standard_normal(SHAPE)  # weights of the loss: each element's gradient differs


def _run(lib, view, op, *, base_requires_grad=True):
    """Write through ``view(x)``, then differentiate a loss of both ``x`` and the view."""
    a = lib.tensor(A0, requires_grad=True)
    x = a * 1.5 if base_requires_grad else lib.tensor(A0)
    v = view(x)
    y0 = np.random.default_rng(1).standard_normal(tuple(v.shape))
    y = lib.tensor(y0, requires_grad=True)
    op(v, y)
    vw = lib.tensor(np.random.default_rng(2).standard_normal(tuple(v.shape)))
    loss = (x * lib.tensor(W0)).sum() + (v * v * vw).sum()
    leaves = [t for t in (a, y) if t.requires_grad]
    grads = lib.autograd.grad(loss, leaves, allow_unused=True)
    return (x.detach().numpy().copy(), v.detach().numpy().copy(), x.grad_fn.name() if x.grad_fn else None,
            [None if g is None else g.numpy() for g in grads])


def _compare(ours, theirs) -> None:
    np.testing.assert_array_equal(ours[0], theirs[0])  # the base after the write
    np.testing.assert_array_equal(ours[1], theirs[1])  # the view after the write
    assert ours[2] == theirs[2] == "torch::autograd::CopySlices"
    assert len(ours[3]) == len(theirs[3])
    for g, want in zip(ours[3], theirs[3]):
        assert (g is None) == (want is None)
        if g is not None:
            np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("view", list(VIEWS))
def test_a_write_into_a_view_is_recorded_into_its_base_as_in_pytorch(view, op):
    _compare(_run(cr, VIEWS[view], OPS[op]), _run(torch, VIEWS[view], OPS[op]))


@pytest.mark.parametrize("op", ["add_", "mul_", "copy_", "setitem"])
@pytest.mark.parametrize("view", ["t", "view_slice", "diagonal", "view_of_index"])
def test_a_value_that_requires_grad_written_into_a_view_of_a_constant_gives_the_base_a_history(view, op):
    _compare(_run(cr, VIEWS[view], OPS[op], base_requires_grad=False),
             _run(torch, VIEWS[view], OPS[op], base_requires_grad=False))


def test_common_writes_through_views_match_pytorch():
    """Each of these writes into ``x = a * 1``; ``a.grad`` accounts for it."""
    writes = [
        lambda x, y: x.t().mul_(2),
        lambda x, y: x.view(-1)[1:3].add_(1),
        lambda x, y: x.reshape(6).zero_(),
        lambda x, y: x.permute(1, 0)[0].add_(y[0]),
        lambda x, y: x[0][1:].mul_(y[0, :2]),
        lambda x, y: x.unsqueeze(0).squeeze(0).add_(1),
        lambda x, y: x.diagonal().add_(y[0, :2]),
        lambda x, y: x.narrow(1, 0, 2).t().mul_(3),
        lambda x, y: x.view(-1).__setitem__(slice(1, 4), y[1, 0]),
        lambda x, y: x.t().__setitem__(0, y[0, :2]),
    ]
    a0, y0 = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    for write in writes:
        results = []
        for lib in (cr, torch):
            a = lib.tensor(a0, requires_grad=True)
            y = lib.tensor(y0, requires_grad=True)
            x = a * 1
            write(x, y)
            (x * x).sum().backward()
            results.append((x.detach().numpy(), a.grad.numpy(), None if y.grad is None else y.grad.numpy()))
        for ours, theirs in zip(*results):
            assert (ours is None) == (theirs is None)
            if ours is not None:
                np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


OVERLAP = "unsupported operation: more than one element of the written-to tensor refers to a single memory location"


def _expand_writes(lib):
    a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = a * 1
    for write in (lambda v: v.add_(1.0), lambda v: v.mul_(lib.ones(2, 3, dtype=v.dtype, requires_grad=True)),
                  lambda v: v.t().clamp_(0.0, 1.0)):
        with pytest.raises(RuntimeError, match=OVERLAP):
            write(x.expand(2, 3))
    with lib.no_grad(), pytest.raises(RuntimeError, match=OVERLAP):
        x.expand(2, 3).add_(1.0)
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_a_view_that_repeats_elements_raises_pytorchs_error():
    for lib in (torch, cr):  # what PyTorch does, then chainrule
        _expand_writes(lib)


def test_pieces_of_split_and_chunk_raise_pytorchs_error():
    for lib in (cr, torch):
        x = lib.tensor(A0, requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="Output 1 of Split is a view and is being modified inplace. This view "
                                               "is the output of a function that returns multiple views."):
            x.split(1)[1].mul_(2.0)
        with pytest.raises(RuntimeError, match="Output 2 of Split is a view and is being modified inplace"):
            x.chunk(3, 1)[2].add_(1.0)
        with lib.no_grad():  # not recorded: a plain write
            x.split(1)[1].mul_(2.0)
        np.testing.assert_array_equal(x.detach().numpy()[1], A0[1] * 2.0)


def _leaf_view_writes(lib):
    a = lib.tensor(A0, requires_grad=True)
    for write in (lambda: a.transpose(0, 1).add_(1.0), lambda: a.view(-1)[2:5].zero_(),
                  lambda: a[0].t().mul_(2.0)):
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an "
                                               "in-place operation."):
            write()
    np.testing.assert_array_equal(a.detach().numpy(), A0)


def test_a_view_of_a_leaf_that_requires_grad_raises_pytorchs_error():
    for lib in (torch, cr):  # what PyTorch does, then chainrule
        _leaf_view_writes(lib)


def _saved_value_writes(lib):
    a = lib.tensor(A0, requires_grad=True)
    x = a * 1
    w = x.sin()  # saves x
    x.transpose(0, 2).mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()
    x = a * 1
    w = x.view(-1)[4:9].sin()  # saves its input, a view of x
    x.permute(2, 1, 0).add_(1.0)  # writes the memory whose values sin saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()
    x = a * 1
    w = (x.mT * 2.0).sum()  # saves nothing of x
    x.mT.mul_(3.0)
    w.backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full(SHAPE, 2.0))


def test_writing_into_a_view_of_a_saved_value_makes_backward_raise():
    for lib in (torch, cr):  # what PyTorch does, then chainrule
        _saved_value_writes(lib)


def _twice(lib, a0, y0):
    a = lib.tensor(a0, requires_grad=True)
    y = lib.tensor(y0, requires_grad=True)
    x = a * a
    x.t().mul_(y)
    x.view(-1)[1:4].add_(y.reshape(-1)[:3] ** 2)
    loss = (x * x).sum()
    ga, gy = lib.autograd.grad(loss, (a, y), create_graph=True)
    gga, ggy = lib.autograd.grad((ga * ga).sum() + (gy ** 3).sum(), (a, y))
    return [t.detach().numpy() for t in (ga, gy, gga, ggy)]


def test_double_backward_through_a_write_into_a_view_matches_pytorch():
    a0, y0 = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    for ours, theirs in zip(_twice(cr, a0, y0), _twice(torch, a0, y0)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_detach_and_data_are_not_views_and_writes_without_grad_stay_plain():
    for lib in (cr, torch):
        a = lib.tensor(A0, requires_grad=True)
        x = a * 1
        assert x.detach()._base is None and x.data._base is None
        with lib.no_grad():
            x.transpose(0, 2).mul_(2.0)  # a plain write: x keeps its history
        assert x.grad_fn.name() == "MulBackward0"
        d = x.detach()
        y = lib.tensor(np.ones((4, 3, 2)), requires_grad=True)
        d.transpose(0, 2).add_(y)  # d, not a view, gets the history; x's memory is written
        assert d.grad_fn.name() == "torch::autograd::CopySlices"
        np.testing.assert_array_equal(x.detach().numpy(), A0 * 2.0 + 1.0)
        (g,) = lib.autograd.grad((d * d).sum(), y)
        np.testing.assert_array_equal(g.numpy(), 2.0 * (A0 * 2.0 + 1.0).transpose(2, 1, 0))


def _compiled_writes(a, y):
    x = a * 2.0
    x.t().mul_(y)
    x.view(-1)[1:4].add_(y[0, :3])
    x.diagonal().clamp_(-0.5, 0.5)
    return (x * x).sum()


def test_a_compiled_function_replays_writes_into_views_bit_for_bit():
    run = cr.compile(_compiled_writes, backend="eager")
    gen = np.random.default_rng(3)
    for _ in range(5):
        a0, y0 = gen.standard_normal((3, 4)), gen.standard_normal((4, 3))
        results = []
        for fn in (_compiled_writes, run):
            a = cr.tensor(a0, requires_grad=True)
            y = cr.tensor(y0, requires_grad=True)
            out = fn(a, y)
            results.append([out.detach().numpy()] + [g.numpy() for g in cr.autograd.grad(out, (a, y))])
        for ours, eager in zip(results[1], results[0]):
            np.testing.assert_array_equal(ours, eager)
    compiled = run._compiled
    assert compiled.failures() == []
    (graph,) = compiled.graphs()
    assert graph.stats.get("flat_calls", 0) >= 1
