"""chainrule.compile and writes into tensors' memory: in-place methods and batch norm's running
statistics are steps of the graph (effects) and replay as eager runs them, bit for bit."""

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.compiler import CompileError


def calls(fn):
    c = fn._compiled if hasattr(fn, "_compiled") else fn._compiled_call
    return dict(c.calls)


def _recorded_path(x, w):  # x and w require grad: the writes rebase the tensor onto the new node
    y = x * 2
    y.mul_(w)
    y += w
    y.relu_()
    return F.relu(y - 0.5, inplace=True).sum()


def _no_grad_path(x, w):  # nothing requires grad: the writes go straight into memory
    y = x * 1
    y.mul_(2.0)
    y.add_(w, alpha=1)
    y.sub_(w)
    y.clamp_(min=-1.0)
    z = y * 0.0
    z.copy_(y)
    z.div_(3.0)
    return y, z


def _view_sees_the_write(x, w):  # a view taken before the write reads the new values, as in eager
    y = x * w
    row = y[0]
    y.add_(1.0)
    return row * 2


def _zero_then_add(x, w):
    y = x * w
    y.zero_()
    y.fill_(0.25)
    return y + x


CASES = {"recorded": _recorded_path, "no_grad": _no_grad_path, "view": _view_sees_the_write,
         "fill": _zero_then_add}


@pytest.mark.parametrize("backend", ["inductor", "eager"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_methods_replay_bitwise(name, backend):
    fn = CASES[name]
    grad = name == "recorded"
    cf = torch.compile(fn, backend=backend, fullgraph=True)  # fullgraph: no break is allowed
    for seed in range(3):
        rng = np.random.default_rng(seed)
        x_np, w_np = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
        outs = []
        for f in (fn, cf):
            x = torch.tensor(x_np, requires_grad=grad)
            w = torch.tensor(w_np, requires_grad=grad)
            out = f(x, w)
            res = [o.detach().numpy() for o in (out if isinstance(out, tuple) else (out,))]
            if grad:
                out.backward()
                res += [x.grad.numpy(), w.grad.numpy()]
            outs.append(res)
        for got, want in zip(outs[1], outs[0]):
            np.testing.assert_array_equal(got, want)
    assert calls(cf) == {"replayed": 2, "recorded": 1, "eager": 0}


def test_writes_into_a_closed_over_buffer_replay():
    """A tensor made before the call and written in it (a counter, a running sum) is updated on
    every replayed call, as eagerly."""
    eager_buf, comp_buf = torch.zeros(3), torch.zeros(3)

    def step(buf):
        def f(x):
            buf.add_(x.sum(0))
            buf.mul_(0.5)
            return x * 2
        return f

    f, cf = step(eager_buf), torch.compile(step(comp_buf), fullgraph=True)
    for k in range(4):
        x = torch.full((2, 3), float(k))
        f(x)
        cf(x)
        np.testing.assert_array_equal(comp_buf.numpy(), eager_buf.numpy())
    assert calls(cf)["replayed"] == 3


def test_replayed_write_invalidates_saved_values_as_eagerly():
    """exp saves its output; writing into it in place makes backward raise, replayed or not."""
    def f(x):
        y = x.exp()
        y.add_(1.0)
        return y.sum()

    cf = torch.compile(f)
    for fn in (f, cf, cf):
        x = torch.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            fn(x).backward()
    assert calls(cf)["replayed"] == 1


def _bn_model(momentum=0.1):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4, momentum=momentum), nn.ReLU(inplace=True),
                         nn.Conv2d(4, 3, 1), nn.InstanceNorm2d(3, affine=True, track_running_stats=True))


@pytest.mark.parametrize("backend", ["inductor", "eager"])
def test_batch_norm_training_replays_with_running_statistics(backend):
    eager, copy = _bn_model(), _bn_model()
    copy.load_state_dict(eager.state_dict())
    compiled = torch.compile(copy, backend=backend, fullgraph=True)
    for k in range(4):
        x = torch.tensor(np.random.default_rng(k).standard_normal((3, 2, 5, 5)), dtype=torch.float32)
        outs = []
        for m in (eager, compiled):
            m.zero_grad()
            y = m(x)
            (y * y).sum().backward()
            outs.append([y.detach().numpy()] + [p.grad.numpy() for p in m.parameters()])
        for got, want in zip(outs[1], outs[0]):
            np.testing.assert_array_equal(got, want)
        for (k1, v1), (k2, v2) in zip(eager.state_dict().items(), copy.state_dict().items()):
            assert k1 == k2
            np.testing.assert_array_equal(v2.numpy(), v1.numpy(), err_msg=k1)
    assert int(copy[1].num_batches_tracked.item()) == 4
    assert calls(compiled) == {"replayed": 3, "recorded": 1, "eager": 0}


def test_cumulative_batch_norm_reads_its_counter_and_runs_eagerly():
    """momentum=None divides by num_batches_tracked, read into Python after it was incremented in
    place: a replay could not undo the increment if the value differed, so the call is not captured."""
    model = _bn_model(momentum=None)
    with pytest.raises(CompileError, match=r"read into Python \(item\) after an in-place write"):
        torch.compile(model, fullgraph=True)(torch.ones(2, 2, 4, 4))
    cm = torch.compile(_bn_model(momentum=None))
    for _ in range(2):
        cm(torch.ones(2, 2, 4, 4))
    assert calls(cm) == {"replayed": 0, "recorded": 1, "eager": 1}


STILL_REFUSED = {
    "random fill": lambda x: x.uniform_(),
    "out=": lambda x: torch.add(x, 1.0, out=x),
}


def _assign(x):
    y = x * 2.0
    y[0] = 5.0  # without grad: a plain write, repeated on replay
    y[torch.tensor([1, 2])] = y[0:2] * 3.0
    return y


@pytest.mark.parametrize("backend", ["inductor", "eager"])
def test_index_assignment_without_grad_is_captured(backend):
    run = torch.compile(_assign, backend=backend)
    for k in range(4):
        x = torch.arange(4.0) + k
        np.testing.assert_array_equal(run(x).numpy(), _assign(x).numpy())
    (graph,) = run._compiled.graphs()
    assert run._compiled.failures() == [] and graph.stats.get("flat_calls", 0) >= 2


@pytest.mark.parametrize("name", sorted(STILL_REFUSED))
def test_other_writes_still_break_the_graph(name):
    with pytest.raises(CompileError, match="in-place write"):
        torch.compile(STILL_REFUSED[name], fullgraph=True)(torch.zeros(3) * 1)


# ---- writes into constants of the code --------------------------------------------------------------
def _accumulate(x):  # a running total started from a literal zero
    z = torch.zeros(())
    z.add_(x.sum())
    return z * 2


def _two_equal_constants(x):  # b must stay zero though a, equal when made, is written
    a, b = torch.zeros(()), torch.zeros(())
    a.add_(x.sum())
    return a + b


def _constant_written_then_an_equal_literal(x):  # the literal 0.0 coerced later is not the written zero
    z = torch.zeros(())
    z.add_(x.sum())
    return z * 0.0 + x * 0.0 + z


def _through_a_view(x):
    z = torch.zeros(())
    z.view(1).add_(x.sum())
    return z * 2


# through a view too: with a value that requires grad the write is recorded into the constant
# (CopySlices), in eager and in the compiled call
@pytest.mark.parametrize("fn,grad", [(f, g) for f in (_accumulate, _two_equal_constants,
                                                      _constant_written_then_an_equal_literal, _through_a_view)
                                     for g in (False, True)])
@pytest.mark.parametrize("backend", ["inductor", "eager"])
def test_a_constant_written_in_place_starts_from_its_value_on_every_call(fn, grad, backend):
    """Replays start from the constant's value before the write, as each eager call makes it anew
    (they used to start from the value the last call left: 6, 12, 18, 24 for 6, 6, 6, 6)."""
    run = torch.compile(fn, backend=backend)
    for k in range(4):
        x = torch.tensor([1.0, 2.0 + k], requires_grad=grad)
        want = fn(x)
        got = run(x)
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        if grad:
            (g,) = torch.autograd.grad(got.sum(), x)
            (w,) = torch.autograd.grad(want.sum(), x)
            np.testing.assert_array_equal(g.numpy(), w.numpy())
