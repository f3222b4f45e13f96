"""``detach()`` and ``.data`` inside a compiled function.

Both make a tensor outside the graph around a value's memory. A capture records them as steps
that only read their tensor (``autograd.capture``), so a replay makes them again from each call's
values, flat included: gradients stop where eager stops them, and a write through the detached
tensor reaches the memory it shares, as in eager. Bit for bit with ``backend="eager"``; the default
backend's fused kernels may round the last bit of a float64 their own way (1e-13 relative).
"""

import numpy as np
import pytest

import chainrule as torch

BACKENDS = ["inductor", "eager"]


def only_graph(run):
    assert run._compiled.failures() == [], run._compiled.failures()
    (graph,) = run._compiled.graphs()
    return graph


@pytest.mark.parametrize("backend", BACKENDS)
def test_detached_values_and_arguments_stop_the_gradient_as_in_eager(backend):
    def f(x, w):
        h = torch.tanh(x * w)
        target = h.detach() * 0.5 + w.detach()  # a target computed from the model, as in a GAN or DQN step
        return ((h - target) ** 2).sum() + (x.data * h).sum()

    run = torch.compile(f, backend=backend)
    rng = np.random.default_rng(0)
    for _ in range(4):
        values = rng.standard_normal((2, 3))
        results = []
        for fn in (run, f):
            x, w = (torch.tensor(v, requires_grad=True) for v in values)
            out = fn(x, w)
            out.backward()
            results.append((out.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
        for got, want in zip(*results):
            if backend == "eager":
                np.testing.assert_array_equal(got, want)
            else:  # a fused kernel (tanh, powers) may round the last bit its own way (float64)
                np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    assert only_graph(run).stats.get("flat_calls", 0) >= 2


def test_a_write_through_a_detached_argument_reaches_the_callers_tensor():
    def f(x):
        d = x.detach()
        d.mul_(2.0)
        return d + 1.0

    run = torch.compile(f)
    for k in range(3):
        x, y = torch.full((3,), float(k)), torch.full((3,), float(k))
        np.testing.assert_array_equal(run(x).numpy(), f(y).numpy())
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    only_graph(run)


def test_a_detached_value_that_is_returned_is_not_a_view_and_needs_no_grad():
    run = torch.compile(lambda x: (x * 2.0).detach())
    for _ in range(3):
        out = run(torch.ones(2, requires_grad=True))
        assert not out.requires_grad and out._base is None and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), [2.0, 2.0])
    only_graph(run)
