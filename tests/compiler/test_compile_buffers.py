"""Preallocated buffers of flat schedules (compiler/buffers.py): planned by liveness, kept across calls.

Every model here trains compiled and eagerly from the same weights on the same data, and the two
must agree bit for bit (a buffer written while a value in it is still read would show up as a
different gradient). ``buffer_min_bytes`` is 0 so that the small shapes of a test get buffers.
"""

import threading

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn as nn
from chainrule.compiler import buffers, config
from chainrule.ops import activation

from .test_compile_flat import only_graph as graph_of
from .test_compile_flat import train


@pytest.fixture(autouse=True)
def small_buffers(monkeypatch):
    monkeypatch.setattr(config, "buffer_min_bytes", 0)


def lenet():
    return nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 5 * 5, 16), nn.ReLU(), nn.Linear(16, 10))


def same_shape_convs():
    """Two convolutions with outputs of one shape: the second may write into the first's buffer."""
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))


def assert_trains_as_eager(make, shape, steps: int = 5):
    """Train ``make()`` compiled and eagerly (``test_compile_flat.train``); the graph of the compiled one."""
    model, losses, run = train(make, shape, True, steps)
    eager, want_losses, _ = train(make, shape, False, steps)
    assert losses == want_losses
    for p, q in zip(model.parameters(), eager.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    return graph_of(run)


@pytest.mark.parametrize("make,shape", [(lenet, (6, 1, 28, 28)), (same_shape_convs, (4, 3, 6, 6))])
def test_a_model_trained_with_buffers_equals_eager(make, shape):
    graph = assert_trains_as_eager(make, shape)
    plan = graph.flat
    assert graph.stats["flat_calls"] >= 3
    assert plan.forward.buffers is not None and plan.backward.schedule.buffers is not None


def test_values_with_disjoint_lives_share_a_buffer_and_the_buffers_are_kept_across_calls():
    graph = assert_trains_as_eager(same_shape_convs, (4, 3, 6, 6))
    fwd = graph.flat.forward.buffers
    convs = [k for k, (step, _) in enumerate(graph.flat.forward.steps) if type(step.template).__name__ == "Conv"]
    # the first conv's output dies at its ReLU, before the second conv: one buffer for both
    assert fwd.into[convs[0]] is not None and fwd.into[convs[0]] == fwd.into[convs[1]]
    bwd = graph.flat.backward.schedule.buffers
    assert len(bwd.sizes) < sum(b is not None for b in bwd.into)  # reused inside the backward too

    torch.manual_seed(0)
    model = same_shape_convs()
    run = torch.compile(model)
    x = torch.randn(4, 3, 6, 6)
    run(x).sum().backward()
    run(x).sum().backward()  # records the backward
    run(x).sum().backward()  # the first flat call makes the buffers
    plan = graph_of(run).flat
    assert plan.forward.buffers.arena is plan.backward.schedule.buffers.arena  # never in use at once
    held = [id(a) for a in plan.forward.buffers.arena.arrays]
    calls = graph_of(run).stats["flat_calls"]
    for _ in range(2):
        run(x).sum().backward()
    assert graph_of(run).stats["flat_calls"] == calls + 2
    assert [id(a) for a in plan.forward.buffers.arena.arrays] == held


def test_outputs_saved_values_and_gradients_never_live_in_a_buffer():
    torch.manual_seed(0)
    model = lenet()
    run = torch.compile(model)
    x = torch.randn(6, 1, 28, 28)
    outs = []
    for _ in range(4):
        model.zero_grad()
        out = run(x)
        out.sum().backward()
        outs.append(out)
    plan = graph_of(run).flat
    arrays = plan.forward.buffers.arena.arrays
    for t in outs + [p.grad for p in model.parameters()]:
        assert not any(np.shares_memory(t.detach().numpy(), a) for a in arrays)
    for o in outs[1:]:
        np.testing.assert_array_equal(o.detach().numpy(), outs[0].detach().numpy())


def same_width_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(108, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 5))


def test_an_operator_returning_a_buffer_it_reads_has_its_output_copied(monkeypatch):
    """A ReLU that writes into its input and returns it: its output, which the backward reads,
    would be the first linear layer's buffer, into which the second linear layer writes."""
    real = activation.Relu.forward

    def relu_in_place(self, x, out=None):
        y = real(self, x)
        x[...] = y
        self._to_save = None
        self.save_for_backward(x)
        return x

    monkeypatch.setattr(activation.Relu, "forward", relu_in_place)
    graph = assert_trains_as_eager(same_width_mlp, (4, 3, 6, 6))
    fwd = graph.flat.forward.buffers
    linears = [k for k, (step, _) in enumerate(graph.flat.forward.steps) if type(step.template).__name__ == "Linear"]
    assert fwd.into[linears[0]] is not None and fwd.into[linears[0]] == fwd.into[linears[1]]


def test_a_second_run_while_the_buffers_are_in_use_runs_without_them():
    f32 = np.dtype(np.float32)
    held = buffers.Buffers(((0, (2, 3), f32), None), (24,), ((), ()))
    first = held.take()
    assert first is not None and first[0].shape == (2, 3) and first[0].dtype == f32 and first[1] is None
    assert held.take() is None  # another thread, or a run inside a run
    seen = []
    t = threading.Thread(target=lambda: seen.append(held.take()))
    t.start()
    t.join()
    assert seen == [None]
    held.give_back()
    again = held.take()
    assert again is not None and again[0] is first[0]
    held.give_back()


def test_a_value_takes_the_smallest_free_buffer_that_holds_it_else_grows_the_largest():
    from types import SimpleNamespace

    from chainrule.ops.activation import Relu

    def step(i, o):
        return (SimpleNamespace(template=Relu(), effect=None, outs=(o,), ins=(i,)), ())

    f32 = np.float32
    # slot 1 (400 B) and slot 2 (40 B) live together, then slot 3 (40 B) and slot 4 (800 B) follow
    steps = (step(0, 1), step(1, 2), step(2, 3), step(3, 4), step(4, 5))
    reads = [[0], [1], [2], [3], [4]]
    meta = [((100,), f32), ((100,), f32), ((10,), f32), ((10,), f32), ((200,), f32), ((1,), f32)]
    planned = buffers.plan(steps, reads, {5}, meta)
    numbers = [w[0] if w else None for w in planned.into]
    # step 0: buffer 0 (400 B); step 1: buffer 1 (40 B); step 2: buffer 0 is free again and
    # holds 40 B (the smallest free that fits); step 3: buffer 1 free, grown to 800 B
    assert numbers == [0, 1, 0, 1, None]
    assert planned.sizes == (400, 800)


def test_no_buffers_when_reuse_is_off_and_none_for_small_values_by_default(monkeypatch):
    monkeypatch.setattr(config, "reuse_buffers", False)
    graph = assert_trains_as_eager(lenet, (6, 1, 28, 28), steps=4)
    assert graph.flat.forward.buffers is None and graph.flat.backward.schedule.buffers is None
    monkeypatch.setattr(config, "reuse_buffers", True)
    monkeypatch.setattr(config, "buffer_min_bytes", 1 << 16)
    graph = assert_trains_as_eager(lenet, (2, 1, 28, 28), steps=4)  # every value under 64 KiB
    assert graph.flat.forward.buffers is None and graph.flat.backward.schedule.buffers is None


def test_an_inference_graph_uses_buffers_and_equals_eager():
    torch.manual_seed(0)
    model = same_shape_convs().eval()
    run = torch.compile(model)
    x = torch.randn(4, 3, 6, 6)
    with torch.no_grad():
        want = model(x).numpy()
        for _ in range(4):
            np.testing.assert_array_equal(run(x).numpy(), want)
    graph = graph_of(run)
    assert graph.flat.forward.buffers is not None and graph.stats["flat_calls"] >= 2


def _writer_rows(cases) -> list:
    """The table rows that run an operator of ``buffers.WRITES_INTO``."""
    import re

    return [pytest.param(c, id=c.name) for c in cases if re.search("relu|conv|linear|max_?pool", c.name, re.I)]


def _tables():
    from . import test_compile_tables

    return test_compile_tables


@pytest.mark.parametrize("case", _writer_rows(_tables().OP_CASES))
def test_operator_rows_that_write_into_buffers_equal_eager(case):
    _tables().test_operator_row_compiled_equals_eager(case)


@pytest.mark.parametrize("case", _writer_rows(_tables().MODULE_CASES))
def test_module_rows_that_write_into_buffers_equal_eager(case):
    _tables().test_module_row_compiled_equals_eager(case)


def test_two_forwards_before_one_backward_and_a_retained_backward_run_twice_equal_eager():
    """The second forward writes into the forward buffers while the first call's backward is still
    to come, and a retained backward runs its schedule twice: neither reads a buffer's old value."""
    results = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = same_shape_convs()
        run = torch.compile(model) if compiled else model
        x1, x2 = torch.randn(4, 3, 6, 6), torch.randn(4, 3, 6, 6)
        grads = []
        for _ in range(4):
            model.zero_grad()
            loss = run(x1).square().sum() + run(x2).sum()
            loss.backward(retain_graph=True)
            loss.backward()
            grads.append([p.grad.numpy().copy() for p in model.parameters()])
        results.append(grads)
        if compiled:
            assert graph_of(run).flat.forward.buffers is not None and graph_of(run).stats["flat_calls"] >= 4
    for got, want in zip(*reversed(results)):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
