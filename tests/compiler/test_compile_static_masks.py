"""Operators whose backward makes its masks with operators, replayed as a flat schedule.

Each backward here once branched on values read in NumPy, or built a mask from values in raw
NumPy, and so kept its compiled graphs on nodes. Now the masks are made by operators on Tensors
(comparisons, ``sign``, ``trunc``, casts), which a recorded backward schedule runs again on each
call's values. Each test compiles a small function, calls it three times (the first call records
the graph, the second records its backward, the third runs flat) and gives the later calls values
on the other side of the old branch or mask: the recording call never sees a zero base, an
infinity, a clamped input, a negative argument ... and the flat call does. Outputs and gradients
must equal eager bit for bit, so a schedule that froze the recorded call's mask fails here, and
so does a backward the recorder refuses (the third call would not run flat).
"""

import numpy as np
import pytest

import chainrule as torch

BACKENDS = ["inductor", "eager"]


def flat_calls(run) -> int:
    (graph,) = run._compiled.graphs()
    return graph.stats.get("flat_calls", 0)


def check(fn, calls, backend: str) -> None:
    """Run ``fn`` compiled and eagerly on each argument list of ``calls`` (float64 arrays; every
    argument requires grad) and compare the outputs and the gradients bit for bit; the last call
    must be the first to run flat."""
    run = torch.compile(fn, backend=backend)
    for k, values in enumerate(calls):
        results = []
        for f in (run, fn):
            args = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
            out = f(*args)
            grads = torch.autograd.grad(out, args)
            results.append([out.detach().numpy()] + [g.numpy() for g in grads])
        for got, want in zip(*results):
            np.testing.assert_array_equal(got, want)
        assert flat_calls(run) == (1 if k == len(calls) - 1 else 0), f"call {k + 1}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_pow_with_a_zero_base(backend):
    def f(x, p):
        return (x ** p).sum()

    positive = ([1.5, 2.0, 3.0], [2.0, 0.5, 3.0])
    check(f, [positive, positive, ([0.0, 2.0, 0.0], [2.0, 0.5, 3.0])], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nan_to_num_with_infinities_and_nan(backend):
    def f(x):
        return (torch.nan_to_num(x * 2.0, nan=0.5, posinf=7.0) * x).sum()

    finite = ([1.0, -2.0, 3.0, 0.5],)
    check(f, [finite, finite, ([np.inf, -2.0, np.nan, -np.inf],)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fmod_with_other_quotients(backend):
    def f(a, b):
        return (torch.fmod(a, b) * a).sum()

    first = ([5.5, -7.0, 2.0], [2.0, 3.0, 0.75])  # trunc(a / b): 2, -2, 2
    check(f, [first, first, ([-9.5, 1.0, 7.0], [2.0, 3.0, -0.75])], backend)  # -4, 0, -9


@pytest.mark.parametrize("backend", BACKENDS)
def test_logit_with_clamped_inputs(backend):
    def f(x):
        return torch.logit(x, eps=0.1).sum()

    inside = ([0.2, 0.5, 0.7, 0.9],)
    check(f, [inside, inside, ([0.05, 0.5, 0.95, 0.1],)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_i0e_with_negative_arguments(backend):
    def f(x):
        return torch.special.i0e(x).sum()

    positive = ([0.5, 1.0, 2.5],)
    check(f, [positive, positive, ([-0.5, 1.0, -2.5],)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_i1e_with_negative_arguments_and_zero(backend):
    def f(x):
        return torch.special.i1e(x).sum()

    positive = ([0.5, 1.0, 2.5],)
    check(f, [positive, positive, ([-0.5, 0.0, -2.5],)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_xlogy_with_zeros_of_x(backend, name):
    op = torch.xlogy if name == "xlogy" else torch.special.xlog1py

    def f(x, y):
        return op(x, y).sum()

    nonzero = ([1.0, -2.0, 0.5], [2.0, 3.0, 0.25])
    check(f, [nonzero, nonzero, ([0.0, -2.0, 0.0], [2.0, 3.0, 0.25])], backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_with_the_other_operand_picked(backend, name):
    op = getattr(torch, name)

    def f(a, b):
        return (op(a, b) * a).sum()

    first = ([3.0, 1.0, 2.0], [1.0, 3.0, 2.0])  # each side picked, and a tie
    check(f, [first, first, ([1.0, 3.0, np.nan], [3.0, 1.0, 2.0])], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_logcumsumexp_with_negative_weights_and_minus_infinity(backend):
    def f(x, w):
        return (torch.logcumsumexp(x, 0) * w).sum()

    first = ([0.5, -1.0, 2.0, 0.25], [1.0, 2.0, 0.5, 3.0])  # a positive incoming gradient, y finite
    check(f, [first, first, ([-np.inf, -np.inf, 2.0, 0.25], [1.0, -2.0, 0.0, -3.0])], backend)
