"""Operators that index with a tensor, replayed by ``chainrule.compile`` with each call's indices.

Each operator here turns its index tensor into the array it reads (flattened, wrapped, spread over
the source, a mask, ...) and checks its range inside an operator node (``scatter.PreparedIndex``),
so a graph capture records that work and repeats it on every call. Each test compiles a small
function that takes the index tensor as an argument and calls it several times with new indices
and new float values: the first call records the graph, the second records its backward, the
later ones run flat. Outputs and gradients must equal eager bit for bit (a replay that kept the
recorded call's indices fails), no call may break the graph, and an index out of range on a
replayed call raises eager's error (the check runs on every call, not only when recording).
"""

import re

import numpy as np
import pytest

import chainrule as torch

BACKENDS = ["inductor", "eager"]


def graph_of(run):
    (graph,) = run._compiled.graphs()
    return graph


def index_array(i):
    """An index argument: int64 from a list, a NumPy array (a boolean mask) as it is."""
    return i if isinstance(i, np.ndarray) else np.asarray(i, dtype=np.int64)


def run_both(run, fn, floats, ints):
    """(outputs, gradients) of ``run`` and of ``fn`` on fresh tensors of the same values."""
    results = []
    for f in (run, fn):
        xs = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in floats]
        idx = [torch.tensor(index_array(i)) for i in ints]
        out = f(*xs, *idx)
        grads = torch.autograd.grad(out, xs)
        results.append([out.detach().numpy()] + [g.numpy() for g in grads])
    return results


def check(fn, calls, backend: str, bad=None):
    """Run ``fn`` compiled and eagerly on each ``(floats, ints)`` of ``calls`` (every float array
    requires grad) and compare outputs and gradients bit for bit; no call breaks the graph, the
    calls after the second run flat. ``bad``: indices (with the floats of the first call) that
    must raise eager's error on a replay."""
    run = torch.compile(fn, backend=backend)
    for floats, ints in calls:
        got, want = run_both(run, fn, floats, ints)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    assert run._compiled.failures() == []
    graph = graph_of(run)
    assert graph.stats.get("flat_calls", 0) == len(calls) - 2
    if bad is not None:
        xs = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in calls[0][0]]
        idx = [torch.tensor(index_array(i)) for i in bad]
        with pytest.raises(Exception) as eager:
            fn(*xs, *idx)
        with pytest.raises(eager.type, match=re.escape(str(eager.value))):
            run(*xs, *idx)
        assert run._compiled.failures() == [] and graph_of(run) is graph  # raised by the replay


def floats(rng, *shapes):
    return [rng.uniform(-2, 2, size=s) for s in shapes]


def weighted(out, w):
    """A scalar of ``out`` whose gradient differs per element."""
    return (out * w).sum()


@pytest.mark.parametrize("backend", BACKENDS)
def test_take_along_dim(backend):
    def f(x, w, i):
        return weighted(torch.take_along_dim(x, i, 1), w)

    rng = np.random.default_rng(0)
    idx = [[[0, 3, 3]] * 3, [[1, 2, 0], [3, 3, 1], [0, 0, 2]], [[-1, 2, -4], [3, -2, 1], [0, 0, 2]],
           [[2, 2, 2], [-3, 1, 0], [3, 3, 3]]]
    calls = [(floats(rng, (3, 4), (3, 3)), [i]) for i in idx]
    check(f, calls, backend, bad=[[[0, 4, 0]] * 3])


@pytest.mark.parametrize("backend", BACKENDS)
def test_take_along_dim_broadcast_and_flat(backend):
    def f(x, w, v, i, j):
        return weighted(x.take_along_dim(i, -1), w) + weighted(torch.take_along_dim(x, j), v)

    rng = np.random.default_rng(1)
    idx = [([[[0, 3], [-1, 0]]], [11, 0, 0, 5]), ([[[2, 2], [1, -4]]], [3, -12, 7, 7]),
           ([[[3, 1], [0, 0]]], [-1, 1, 2, 10]), ([[[-2, 1], [2, 3]]], [0, 0, 0, 0])]
    calls = [(floats(rng, (3, 1, 4), (3, 2, 2), (4,)), list(i)) for i in idx]
    check(f, calls, backend, bad=[[[[0, 1], [1, 0]]], [0, 12, 0, 0]])


def test_take_along_dim_broadcasts_a_one_against_a_zero():
    """Outside ``dim`` the sizes broadcast as elementwise operators' do: 1 against 0 gives 0."""
    x = torch.zeros(0, 4)
    i = torch.zeros(1, 2, dtype=torch.int64)
    assert tuple(torch.take_along_dim(x, i, 1).shape) == (0, 2)
    assert tuple(torch.compile(lambda a, b: torch.take_along_dim(a, b, 1))(x, i).shape) == (0, 2)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("alpha", [1, -1.5])
def test_index_add(backend, alpha):
    def f(x, s, w, i):
        return weighted(x.index_add(0, i, s, alpha=alpha), w)

    rng = np.random.default_rng(2)
    idx = [[2, 0, 2, 2], [0, 1, 1, 0], [1, 2, 0, 1], [2, 2, 2, 2]]
    calls = [(floats(rng, (3, 4), (4, 4), (3, 4)), [i]) for i in idx]
    check(f, calls, backend, bad=[[0, 3, 1, 1]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_index_add_last_dim_negative_index_refused(backend):
    def f(x, s, w, i):
        return weighted(torch.index_add(x, -1, i, s), w)

    rng = np.random.default_rng(3)
    idx = [[1, 1], [0, 3], [2, 0], [3, 3]]
    calls = [(floats(rng, (2, 3, 4), (2, 3, 2), (2, 3, 4)), [i]) for i in idx]
    check(f, calls, backend, bad=[[0, -1]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_gather_scatter_scatter_add(backend):
    def f(x, s, w, i):
        return weighted(torch.gather(x, 1, i), s) + weighted(torch.scatter_add(x, 1, i, s), w) + \
            weighted(torch.scatter(x, 1, i, 2.5), w)

    rng = np.random.default_rng(4)
    idx = [[[0, 1], [2, 3], [1, 1]], [[3, 3], [0, 0], [2, 1]], [[1, 2], [3, 0], [0, 3]], [[0, 0], [1, 1], [2, 2]]]
    calls = [(floats(rng, (3, 4), (3, 2), (3, 4)), [i]) for i in idx]
    check(f, calls, backend, bad=[[[0, 1], [2, -1], [1, 1]]])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(backend, reduce, include_self):
    def f(x, s, w, i):
        return weighted(torch.scatter_reduce(x, 0, i, s, reduce, include_self=include_self), w)

    rng = np.random.default_rng(5)
    idx = [[[0, 1, 0, 2], [2, 1, 0, 2]], [[1, 1, 2, 0], [0, 2, 2, 1]], [[2, 0, 1, 1], [2, 0, 0, 0]],
           [[0, 0, 0, 0], [1, 1, 1, 1]]]
    calls = [(floats(rng, (3, 4), (2, 4), (3, 4)), [i]) for i in idx]
    check(f, calls, backend, bad=[[[0, 1, 0, 2], [2, 1, -1, 2]]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_index_copy(backend):
    def f(x, s, t, w, v, i, j):
        return weighted(torch.index_copy(x, 0, i, s), w) + weighted(x.index_copy(1, j, t), v)

    rng = np.random.default_rng(6)
    idx = [([2, 0], [3, 1]), ([1, 2], [0, 2]), ([0, 1], [2, 3]), ([2, 1], [1, 0])]
    calls = [(floats(rng, (3, 4), (2, 4), (3, 2), (3, 4), (3, 4)), list(i)) for i in idx]
    check(f, calls, backend, bad=[[2, 3], [3, 1]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_index_fill(backend):
    def f(x, value, w, v, i, j):
        return weighted(torch.index_fill(x, 1, i, 2.5), w) + weighted(x.index_fill(0, j, value), v)

    rng = np.random.default_rng(7)
    idx = [([1, 3], [2]), ([0, -1], [0]), ([2, 2], [-3]), ([3, 0], [1])]
    calls = [(floats(rng, (3, 4), (), (3, 4), (3, 4)), list(i)) for i in idx]
    check(f, calls, backend, bad=[[1, 4], [0]])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(backend, reduce, include_self):
    def f(x, s, w, i):
        return weighted(x.index_reduce(1, i, s, reduce, include_self=include_self), w)

    rng = np.random.default_rng(8)
    idx = [[3, 0, 3], [1, 1, 2], [0, 2, 0], [3, 3, 3]]
    calls = [(floats(rng, (3, 4), (3, 3), (3, 4)), [i]) for i in idx]
    check(f, calls, backend, bad=[[3, 0, 4]])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("accumulate", [False, True])
def test_put(backend, accumulate):
    def f(x, s, w, i):
        return weighted(torch.put(x, i, s, accumulate=accumulate), w)

    rng = np.random.default_rng(9)
    idx = [[0, 5, -1], [11, 2, 3], [-12, 7, 4], [6, 6, 6] if accumulate else [6, 1, 2]]
    calls = [(floats(rng, (3, 4), (3,), (3, 4)), [i]) for i in idx]
    check(f, calls, backend, bad=[[0, 12, 1]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_masked_scatter(backend):
    def f(x, s, w, v, m, b):
        return weighted(torch.masked_scatter(x, m, s), w) + weighted(x.masked_scatter(b, s[:12]), v)

    rng = np.random.default_rng(12)
    masks = [np.arange(12).reshape(3, 4) % 3 == 0, rng.uniform(size=(3, 4)) < 0.5, np.ones((3, 4), dtype=bool),
             np.zeros((3, 4), dtype=bool)]
    rows = [np.array([True, False, True, True]), np.array([False, False, True, False]),
            np.array([True, True, True, True]), np.array([False, True, False, True])]
    calls = [(floats(rng, (3, 4), (13,), (3, 4), (3, 4)), [m, b]) for m, b in zip(masks, rows)]
    check(f, calls, backend)
    # more set positions than the source has elements, on a replay
    check(lambda x, s, w, m: weighted(torch.masked_scatter(x, m, s), w),
          [(floats(rng, (3, 4), (5,), (3, 4)), [rng.permutation(12).reshape(3, 4) < 4]) for _ in range(3)], backend,
          bad=[np.arange(12).reshape(3, 4) % 2 == 0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_select_slice_diagonal_scatter(backend):
    def f(x, a, b, c, y, d, w):
        out = torch.select_scatter(x, a, 1, -1) + torch.slice_scatter(x, b, 1, 0, 4, 2)
        out = out + torch.slice_scatter(x, c, start=1) + torch.diagonal_scatter(x, d[0], 1)
        return weighted(out, w) + y.diagonal_scatter(d, -1, 2, 0).sum()

    rng = np.random.default_rng(10)
    calls = [(floats(rng, (3, 4), (3,), (3, 2), (2, 4), (3, 2, 4), (2, 3), (3, 4)), []) for _ in range(4)]
    check(f, calls, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_shape_tables_from_sizes(backend):
    """combinations' positions, vander's ones column, block_diag's zero blocks and as_strided's
    positions come from sizes alone: constants of the graph, not values computed outside it."""
    def f(x, y, z, m, w):
        out = weighted(torch.combinations(x), w[:6, :2]) + weighted(torch.combinations(y, 3, with_replacement=True),
                                                                     w[:10, :3])
        out = out + weighted(torch.vander(x), w[:4, :4]) + weighted(torch.vander(x, 3, increasing=True), w[:4, :3])
        out = out + weighted(torch.block_diag(m, y, z), w[:4, :7])
        return out + weighted(torch.as_strided(m.contiguous(), (2, 2), (1, 2), 1), w[:2, :2])

    rng = np.random.default_rng(11)
    calls = [(floats(rng, (4,), (3,), (), (2, 3), (10, 7)), []) for _ in range(4)]
    check(f, calls, backend)
