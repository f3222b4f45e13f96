"""Index assignment under autograd: ``x[i] = v`` with ``x`` or ``v`` requiring grad is recorded (as
PyTorch records it, ``CopySlices``), checked against PyTorch and by finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(0)


def _rnn_outputs(lib, w0, x0):
    """The tutorial pattern: a tensor of zeros filled step by step with hidden states."""
    w = lib.tensor(w0, requires_grad=True)
    x = lib.tensor(x0)
    steps, batch, hidden = x0.shape
    outputs = lib.zeros(steps, batch, hidden, dtype=w.dtype)
    h = lib.zeros(batch, hidden, dtype=w.dtype)
    for t in range(steps):
        h = lib.tanh(x[t] @ w + h)
        outputs[t] = h
    loss = (outputs ** 2).sum()
    loss.backward()
    return loss.item(), w.grad.numpy(), outputs.grad_fn.name()


def test_filling_a_tensor_of_hidden_states_step_by_step_gives_pytorchs_gradients():
    w0, x0 = rng.standard_normal((3, 3)), rng.standard_normal((4, 2, 3))
    loss, grad, name = _rnn_outputs(cr, w0, x0)
    want_loss, want_grad, want_name = _rnn_outputs(torch, w0, x0)
    assert name == want_name == "torch::autograd::CopySlices"
    np.testing.assert_allclose(loss, want_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-14)


INDICES = {
    "int": (1,),
    "slice_step": (slice(0, 4, 2),),
    "row_col": (slice(None), 2),
    "tensor_index": ("long", [3, 0]),
    "bool_mask": ("mask", None),
    "ellipsis_none": (Ellipsis, None, 1),
}


def _index(lib, key, shape):
    spec = INDICES[key]
    if spec[0] == "long":
        return lib.tensor(spec[1])
    if spec[0] == "mask":
        return lib.tensor(np.arange(shape[0] * shape[1]).reshape(shape) % 3 == 0)
    return spec


@pytest.mark.parametrize("key", sorted(INDICES))
@pytest.mark.parametrize("broadcast", [False, True])
def test_both_gradients_match_pytorch(key, broadcast):
    shape = (4, 5)
    x0 = rng.standard_normal(shape)
    target = np.empty(shape)[_index(np, key, shape) if INDICES[key][0] not in ("long", "mask")
                             else (np.array(INDICES[key][1]) if INDICES[key][0] == "long"
                                   else np.arange(20).reshape(shape) % 3 == 0)].shape
    v_shape = target[-1:] if broadcast and len(target) else target
    v0 = rng.standard_normal(v_shape)
    g0 = rng.standard_normal(shape)
    results = []
    for lib in (cr, torch):
        x = lib.tensor(x0, requires_grad=True)
        v = lib.tensor(v0, requires_grad=True)
        y = x * 1.0
        y[_index(lib, key, shape)] = v
        (y * lib.tensor(g0)).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), v.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_a_number_or_a_value_of_another_dtype_is_cast_to_the_tensors():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[0] = 7  # a Python number
    w = cr.tensor([5.0], dtype=cr.float32, requires_grad=True)
    y[1:2] = w  # float32 into float64... of x's dtype
    y.sum().backward()
    assert y.tolist() == [7.0, 5.0, 6.0] and y.dtype == x.dtype
    assert x.grad.tolist() == [0.0, 0.0, 2.0] and w.grad.tolist() == [1.0] and w.grad.dtype == cr.float32


def test_finite_differences_first_and_second_order():
    def f(x, v):
        y = x.sin()  # sin saves its input, not y: y may be written
        y[1:3, ::2] = v * v
        return y * y

    x = cr.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    v = cr.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    assert gradcheck(f, (x, v)) and gradgradcheck(f, (x, v))


def test_clear_errors_for_a_leaf_a_view_and_a_shape_that_does_not_broadcast():
    leaf = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf[0] = cr.tensor(1.0, requires_grad=True)
    base = cr.zeros(2, 3)
    v = cr.tensor(1.0, requires_grad=True)
    base.t()[1] = v  # an assignment into a transposed view of base: recorded into base (CopySlices)
    base.sum().backward()
    assert base.tolist() == [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]] and v.grad.item() == 2.0
    y = cr.zeros(2, 3) * cr.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[2\] cannot be broadcast to "
                                           r"indexing result of shape \[3\]"):
        y[0] = cr.ones(2, requires_grad=True)


def test_without_grad_it_stays_a_plain_write():
    x = cr.zeros(3)
    x[1] = 4.0
    assert x.tolist() == [0.0, 4.0, 0.0] and x.grad_fn is None and x._version[0] == 1
    with cr.no_grad():
        y = cr.ones(2, requires_grad=True) * 1
        y[0] = cr.tensor(3.0, requires_grad=True)
    assert y.tolist() == [3.0, 1.0]


def test_compiled_hidden_state_filling_equals_eager():
    def f(x, w):
        outputs = cr.zeros(x.shape[0], x.shape[1], w.shape[1])
        h = cr.zeros(x.shape[1], w.shape[1])
        for t in range(x.shape[0]):
            h = cr.tanh(x[t] @ w + h)
            outputs[t] = h
        return (outputs ** 2).sum()

    run = cr.compile(f, backend="eager")  # bit for bit: no fused kernel (a fused tanh rounds its own way)
    w = cr.tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    for _ in range(3):
        x = cr.tensor(rng.standard_normal((4, 2, 3)).astype(np.float32))
        got, want = run(x, w), f(x, w)
        (g,) = cr.autograd.grad(got, w)
        (gw,) = cr.autograd.grad(want, w)
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        np.testing.assert_array_equal(g.numpy(), gw.numpy())
    (graph,) = run._compiled.graphs()
    assert graph.stats.get("flat_calls", 0) == 1  # the zeros made inside are constants: it replays


def test_writing_into_a_value_a_node_saved_raises_as_in_pytorch():
    for lib in (cr, torch):
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        y = x.tanh()  # tanh saves its output
        y[0] = 2.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_an_assignment_into_an_indexing_view_is_recorded_into_the_base():
    results = []
    for lib in (cr, torch):
        w = lib.tensor(2.0, requires_grad=True)
        base = lib.zeros(2, 3)
        base[0][1] = w * 3  # the view base[0], then an assignment into it
        (base * lib.arange(6.0).reshape(2, 3)).sum().backward()
        results.append((base.detach().numpy(), w.grad.item()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1] == 3.0


def test_compiled_writes_through_indexing_views_equal_eager():
    def f(x, w):
        z = x * 1.0
        z[0] += w
        z[1:, 1:].mul_(w[1:])
        z[2][0] = w[0] * 2
        return (z * z).sum()

    for backend in ("inductor", "eager"):
        run = cr.compile(f, backend=backend)
        for _ in range(3):
            x = cr.tensor(rng.standard_normal((3, 3)), requires_grad=True)
            w = cr.tensor(rng.standard_normal(3), requires_grad=True)
            got, want = run(x, w), f(x, w)
            g = cr.autograd.grad(got, (x, w))
            gw = cr.autograd.grad(want, (x, w))
            np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
            for a, b in zip(g, gw):
                np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_write_through_a_view_that_would_grow_it_raises_as_in_pytorch():
    z = cr.zeros(2, 2)
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[3, 2\]"):
        z[0].add_(cr.ones(3, 2, requires_grad=True))
    assert z.tolist() == [[0.0, 0.0], [0.0, 0.0]] and z.grad_fn is None


def test_an_assignment_writes_into_the_tensor_without_copying_it():
    """``outputs[t] = h`` into a large tensor costs the written slice, not a copy of the whole (a
    tutorial's seq2seq loop fills a (steps, batch, vocabulary) tensor this way)."""
    import tracemalloc

    outputs = cr.zeros(4, 256, 1024)  # 4 MiB
    x = cr.randn(256, 8)
    w = cr.randn(8, 1024, requires_grad=True)
    h = x @ w  # 1 MiB
    data = outputs._data
    tracemalloc.start()
    try:
        outputs[0] = h
        outputs[1, :, :512] += h[:, :512]  # through a view of it
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20 and outputs._data is data
    outputs.sum().backward()
    columns = np.where(np.arange(1024) < 512, 2.0, 1.0)  # written twice in the first half
    np.testing.assert_allclose(w.grad.numpy(), x.numpy().sum(0)[:, None] * columns, rtol=1e-5)


def test_overlapping_assignments_and_writes_match_pytorch():
    results = []
    for lib in (cr, torch):
        a = lib.tensor(np.arange(6.0), requires_grad=True)
        x = a * 1
        x[1:] = x[:-1] * 2  # reads the old values it overwrites
        y = a * 1
        y[0:2].mul_(3)
        (x * lib.arange(6.0) + y).sum().backward()
        results.append((x.detach().numpy(), a.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_writing_over_values_another_node_saved_through_a_view_raises():
    """PyTorch refuses the write itself (the operands overlap); chainrule lets it happen and its
    backward raises, as for any saved value written since: never a silently wrong gradient."""
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = x * 1
    z[0:2].mul_(z[1:3])  # mul saves z[1:3], whose z[1] the write changes
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    tz = torch.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        tz[0:2].mul_(tz[1:3])
