"""Tensors made inside a compiled function: constants of the code and random samples.

A factory whose values come from the code's numbers, arrays and sizes (``zeros``, ``ones``,
``full``, ``arange``, ``linspace``, ``eye``, ``tensor([...])``, the ``*_like`` and ``new_*``
forms) is a constant of the graph, kept as it was made: a replay starts every call from it, even
when the call writes into it, and a returned constant is a new tensor on every call. A random
factory (``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, the ``*_like`` forms) is the
``Draw`` operator inside a capture, so each replay draws a new sample from the same generator, as
eager does. Each test compares with eager over several calls, the later ones flat: bit for bit
with ``backend="eager"``, to 1e-13 where the default backend runs a fused kernel.
"""

import numpy as np
import pytest

import chainrule as torch

BACKENDS = ["inductor", "eager"]


def only_graph(run):
    assert run._compiled.failures() == [], run._compiled.failures()
    (graph,) = run._compiled.graphs()
    return graph


def compare(run, fn, calls, seed: bool = False, exact: bool = True) -> None:
    """``run`` equals ``fn`` on each argument list of ``calls`` (float arrays become tensors that
    require grad, integer arrays index tensors): outputs and gradients, with the same seed; bit for
    bit when ``exact``, else to 1e-13 (a fused kernel may round a float64's last bit its own way)."""
    for k, values in enumerate(calls):
        results = []
        for f in (run, fn):
            if seed:
                torch.manual_seed(k)
            args = [torch.tensor(v, requires_grad=v.dtype.kind == "f") for v in values]
            out = f(*args)
            wrt = [a for a in args if a.requires_grad]
            grads = torch.autograd.grad(out, wrt) if wrt else ()
            results.append([out.detach().numpy()] + [g.numpy() for g in grads])
        for got, want in zip(*results):
            if exact:
                np.testing.assert_array_equal(got, want)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def floats(k: int, shape) -> np.ndarray:
    return np.random.default_rng(k).standard_normal(shape)


@pytest.mark.parametrize("backend", BACKENDS)
def test_constant_factories_inside_the_function(backend):
    def f(x):
        n, d = x.shape
        mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)  # a causal mask
        scores = (x @ x.T).masked_fill(mask, -1e9).softmax(-1)
        pos = torch.arange(d, dtype=x.dtype) / d + torch.linspace(0.0, 1.0, d, dtype=x.dtype)
        shift = torch.tensor([1.0, -2.0, 0.5], dtype=x.dtype) + torch.full((d,), 0.25, dtype=x.dtype)
        shift = shift * torch.tensor(np.array([0.5, 2.0, 1.5]), dtype=x.dtype)  # a NumPy array of the code
        eye = torch.eye(n, dtype=x.dtype)
        return (scores @ x + pos + shift + torch.zeros_like(x) + x.new_ones(n, d)).sum() + (eye * scores).sum()

    run = torch.compile(f, backend=backend)
    compare(run, f, [(floats(k, (4, 3)),) for k in range(4)], exact=backend == "eager")
    assert only_graph(run).stats.get("flat_calls", 0) >= 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_picking_the_target_entries_with_arange(backend):
    def f(logits, y):
        return -torch.log_softmax(logits, 1)[torch.arange(logits.shape[0]), y].mean()

    run = torch.compile(f, backend=backend)
    compare(run, f, [(floats(k, (5, 4)), np.random.default_rng(k).integers(0, 4, 5)) for k in range(4)])
    assert only_graph(run).stats.get("flat_calls", 0) >= 2


def test_a_constant_written_in_place_starts_every_call_from_its_made_value():
    def f(x):
        acc = torch.zeros(3)
        acc.add_(x)  # reads the argument, writes the constant
        acc.mul_(2.0)
        return acc + 1.0

    run = torch.compile(f)
    for k in range(4):
        x = torch.full((3,), float(k))
        np.testing.assert_array_equal(run(x).numpy(), f(x).numpy())
    assert only_graph(run).stats.get("flat_calls", 0) >= 2


def test_a_returned_constant_is_a_new_tensor_on_every_call():
    run = torch.compile(lambda x: (x * 2.0, torch.ones(3), torch.zeros(4)[1:3]))
    first = run(torch.ones(3))
    for _ in range(3):
        _, ones, view = run(torch.ones(3))
        assert ones is not first[1]
        np.testing.assert_array_equal(ones.numpy(), np.ones(3))
        np.testing.assert_array_equal(view.numpy(), np.zeros(2))
        ones.add_(5.0)  # the caller's tensor: later calls are not affected
        view.fill_(7.0)
    only_graph(run)


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_factories_draw_anew_on_every_replay(backend):
    def f(mu, logvar):
        eps = torch.randn_like(mu)  # the reparameterisation of a VAE
        z = mu + eps * torch.exp(0.5 * logvar)
        noise = torch.rand(3) + torch.randint(0, 5, (3,)).to(mu.dtype) + torch.randperm(3).to(mu.dtype)
        return (z ** 2).sum() + (noise * torch.normal(0.0, 2.0, (3,), dtype=mu.dtype)).sum()

    run = torch.compile(f, backend=backend)
    calls = [(floats(k, (2, 3)), floats(10 + k, (2, 3))) for k in range(4)]
    compare(run, f, calls, seed=True, exact=backend == "eager")
    assert only_graph(run).stats.get("flat_calls", 0) >= 2


def test_a_generator_passed_to_a_random_factory_is_drawn_from_on_replay():
    g = torch.Generator().manual_seed(3)
    run = torch.compile(lambda x: x + torch.randn(3, generator=g, dtype=torch.float64))
    got = [run(torch.zeros(3, dtype=torch.float64)).numpy() for _ in range(4)]
    g.manual_seed(3)
    want = [torch.randn(3, generator=g, dtype=torch.float64).numpy() for _ in range(4)]
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(got[1], got[2])
    only_graph(run)


def test_a_python_list_index_is_a_constant_and_a_list_argument_part_of_the_signature():
    def f(x, rows):
        return (x[[0, 2]] * 2.0).sum() + x[rows].sum() + x[:, [1, 1]].sum()

    run = torch.compile(f)
    for k, rows in enumerate(([1, 0], [1, 0], [1, 0], [2, 2], [2, 2])):
        values = floats(k, (3, 2))
        results = []
        for fn in (run, f):
            x = torch.tensor(values, requires_grad=True)
            out = fn(x, rows)
            (g,) = torch.autograd.grad(out, x)
            results.append((out.detach().numpy(), g.numpy()))
        for got, want in zip(*results):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    graphs = run._compiled.graphs()
    assert run._compiled.failures() == [] and len(graphs) == 2  # one graph per list argument
    assert graphs[0].stats.get("flat_calls", 0) == 1
