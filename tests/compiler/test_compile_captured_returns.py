"""Operators whose results are computed inside operator nodes, so that a graph capture replays them.

Each operator here returns a value computed from its inputs' data: max pooling's indices, a bool
test of the values (``signbit``, ``isposinf`` ...), a bucket index (``bucketize``, ``searchsorted``,
``histc``), the parts of ``frexp``. Computed in raw NumPy outside a node, such a value is one the
recorder cannot replay, and the call breaks the graph (it runs eagerly). Each test compiles a small
function, calls it at least three times with new values (the first call records the graph, the
second records its backward where an input requires grad, the third runs flat) and checks that no
call broke the graph, that the last call ran flat, and that the outputs (integer ones included)
and the gradients equal eager bit for bit.
"""

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn as nn
import chainrule.nn.functional as F

BACKENDS = ["inductor", "eager"]


def _tensors(values, grad: bool) -> list:
    """Tensors of ``values`` (arrays); floating ones require grad when ``grad``."""
    out = []
    for v in values:
        a = np.asarray(v)
        out.append(torch.tensor(a, requires_grad=grad and a.dtype.kind == "f"))
    return out


def _flat(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check(fn, calls, backend: str = "eager", grad: bool = True, flat: bool = True):
    """Run ``fn`` compiled and eagerly on each argument list of ``calls`` and compare outputs and
    gradients (of the sum of squares of the float outputs) bit for bit; no call may break the
    graph, and with ``flat`` the last call runs flat. Returns the compiled function."""
    run = torch.compile(fn, backend=backend)
    for values in calls:
        results = []
        for f in (run, fn):
            args = _tensors(values, grad)
            outs = _flat(f(*args))
            got = [o.detach().numpy() for o in outs]
            wrt = [a for a in args if a.requires_grad]
            diff = [o for o in outs if o.requires_grad]
            if wrt and diff:
                loss = sum((o * o).sum() for o in diff)
                got += [None if g is None else g.numpy() for g in torch.autograd.grad(loss, wrt, allow_unused=True)]
            results.append(got)
        assert len(results[0]) == len(results[1])
        for a, b in zip(*results):
            if a is None or b is None:  # an input no differentiable output depends on
                assert a is None and b is None
                continue
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
    assert run._compiled.failures() == []
    if flat:
        (graph,) = run._compiled.graphs()
        assert graph.stats.get("flat_calls", 0) >= 1
    return run


def _draws(shape, n: int = 3, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(shape)] for _ in range(n)]


# ---- max pooling with indices -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_pool2d_returns_indices(backend):
    def f(x):
        return F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)

    check(f, _draws((2, 3, 7, 8)), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_pool2d_unbatched_ceil_returns_indices(backend):
    def f(x):
        return F.max_pool2d(x, 2, stride=2, ceil_mode=True, return_indices=True)

    check(f, _draws((3, 5, 5)), backend)


def test_max_pool1d_and_3d_return_indices():
    check(lambda x: F.max_pool1d(x, 2, return_indices=True), _draws((2, 3, 9)))
    check(lambda x: F.max_pool3d(x, 2, stride=(2, 1, 2), return_indices=True), _draws((1, 2, 6, 4, 5)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_adaptive_max_pool_returns_indices(backend):
    check(lambda x: F.adaptive_max_pool1d(x, 4, return_indices=True), _draws((2, 3, 10)), backend)
    check(lambda x: F.adaptive_max_pool2d(x, (3, 4), return_indices=True), _draws((2, 3, 7, 9)), backend)
    check(lambda x: F.adaptive_max_pool2d(x, 2, return_indices=True), _draws((2, 3, 6, 4)), backend)


def test_max_pool_module_returns_indices():
    pool, adaptive = nn.MaxPool2d(2, return_indices=True), nn.AdaptiveMaxPool2d((2, 3), return_indices=True)
    check(lambda x: pool(x), _draws((2, 2, 4, 5)))
    check(lambda x: adaptive(x), _draws((2, 2, 5, 7)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(2, 3, 6, 8), (3, 6, 8)])
def test_max_pool_indices_feed_max_unpool(backend, shape):
    """SegNet's pattern: the indices of an encoder's pool place a decoder's values."""

    def f(x):
        y, idx = F.max_pool2d(x, 2, return_indices=True)
        return F.max_unpool2d(y * 2.0, idx, 2), idx

    run = check(f, _draws(shape, n=4), backend)
    # the unpooling's values land where each new call's maxima are (not where the first call's were)
    x = torch.tensor(np.random.default_rng(5).standard_normal(shape))
    z, idx = run(x)
    flat = x.detach().numpy().reshape(-1, shape[-2] * shape[-1])
    placed = z.numpy().reshape(flat.shape) != 0
    assert placed.sum() == idx.numel()
    np.testing.assert_array_equal(np.nonzero(placed)[1], np.sort(idx.numpy().reshape(flat.shape[0], -1), 1).ravel())


def test_max_unpool_checks_each_calls_indices():
    def f(x, idx):
        return F.max_unpool2d(x, idx, 2)

    run = torch.compile(f)
    x = torch.ones(1, 1, 2, 2)
    for _ in range(3):
        run(x, torch.tensor([[[[0, 3], [8, 15]]]]))
    with pytest.raises(RuntimeError, match="found an invalid max index: 16"):
        run(x, torch.tensor([[[[0, 3], [8, 16]]]]))


# ---- tests of values, steps and neighbours (no gradient) ----------------------------------------------


def _specials(n: int = 3, seed: int = 1) -> list:
    """Values with zeros of both signs, infinities and NaN in new places on each call."""
    rng = np.random.default_rng(seed)
    pool = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, -2.0, 3.0])
    return [[rng.choice(pool, size=(3, 4))] for _ in range(n)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", ["signbit", "isneginf", "isposinf", "isreal"])
def test_value_tests(backend, op):
    fn = getattr(torch, op)
    check(lambda x: fn(x * 2.0), _specials(), backend)


@pytest.mark.parametrize("op", ["signbit", "isneginf", "isposinf", "isreal"])
def test_value_tests_of_integer_and_bool_tensors(op):
    fn = getattr(torch, op)
    ints = [[np.array([3, -1, 0, 7]) * k] for k in (1, -2, 3)]
    check(lambda x: fn(x), ints)
    check(lambda x: fn(x > 0), ints)


@pytest.mark.parametrize("backend", BACKENDS)
def test_heaviside_and_nextafter(backend):
    rng = np.random.default_rng(2)
    calls = [[rng.choice([0.0, -1.0, 2.0, -0.0], size=(3, 4)), rng.standard_normal((1, 4))] for _ in range(3)]
    check(lambda x, v: (torch.heaviside(x, v), v * 2.0), calls, backend)
    check(lambda x, v: torch.nextafter(x + 1.0, v), calls, backend)
    check(lambda x, v: x.heaviside(v) * v, calls, backend)


# ---- frexp --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_frexp_returns_both_parts(backend):
    rng = np.random.default_rng(3)
    calls = [[rng.standard_normal((3, 4)) * 10.0 ** rng.integers(-5, 5, (3, 4))] for _ in range(4)]
    def inference(x):
        with torch.no_grad():
            return torch.frexp(x)

    check(inference, calls, backend, grad=False)
    # Frexp is not in static_ops.STATIC_BACKWARD: in grad mode it replays on nodes
    check(lambda x: tuple(torch.frexp(x * 3.0)), calls, backend, flat=False)


def test_frexp_second_derivative():
    x = torch.tensor([0.3, -5.0, 12.0], requires_grad=True)
    m, _ = torch.frexp(x * x)
    (g,) = torch.autograd.grad(m.sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    e = np.frexp(x.detach().numpy() ** 2)[1]
    np.testing.assert_array_equal(g.detach().numpy(), 2 * x.detach().numpy() * 2.0 ** -e)
    np.testing.assert_array_equal(gg.numpy(), 2 * 2.0 ** -e)


# ---- searching and counting ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_searchsorted_and_bucketize(backend):
    rng = np.random.default_rng(4)
    calls = [[rng.standard_normal((2, 5)), np.sort(rng.standard_normal((2, 4)), axis=-1)] for _ in range(3)]
    check(lambda x, s: torch.searchsorted(s, x), calls, backend)
    check(lambda x, s: torch.searchsorted(s, x, right=True, out_int32=True), calls, backend)
    check(lambda x, s: torch.searchsorted(s[0], x, side="right"), calls, backend)
    check(lambda x, s: torch.bucketize(x, s[1]), calls, backend)
    check(lambda x, s: torch.bucketize(x * 2.0, s[0], right=True), calls, backend)


def test_searchsorted_with_a_sorter_and_a_number():
    rng = np.random.default_rng(5)
    calls = [[rng.standard_normal(6), rng.standard_normal((2, 3))] for _ in range(3)]
    check(lambda s, x: torch.searchsorted(s, x, sorter=torch.argsort(s)), calls)
    check(lambda s, x: torch.searchsorted(torch.sort(s).values, 0.25), calls)


@pytest.mark.parametrize("backend", BACKENDS)
def test_isin(backend):
    rng = np.random.default_rng(6)
    calls = [[rng.integers(0, 6, (3, 4)), rng.integers(0, 6, 3)] for _ in range(3)]
    check(lambda e, t: torch.isin(e, t), calls, backend)
    check(lambda e, t: torch.isin(e, t, invert=True), calls, backend)
    check(lambda e, t: torch.isin(e, [1, 3]), calls, backend)
    check(lambda e, t: torch.isin(2, t), calls, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_histc(backend):
    rng = np.random.default_rng(7)
    calls = [[rng.standard_normal(20) * (k + 1)] for k in range(3)]
    check(lambda x: torch.histc(x, bins=5), calls, backend)  # over each call's own range
    check(lambda x: torch.histc(x * 2.0, bins=4, min=-1.0, max=1.0), calls, backend)
    check(lambda x: x.histc(7), calls, backend)


def test_histc_checks_each_calls_range():
    run = torch.compile(lambda x: torch.histc(x, bins=3))
    for k in range(3):
        run(torch.tensor([0.0, 1.0, 2.0 + k]))
    with pytest.raises(RuntimeError, match="is not finite"):
        run(torch.tensor([0.0, np.inf, 2.0]))


# ---- constants of sizes -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_mvlgamma(backend):
    calls = [[np.random.default_rng(k).uniform(2.0, 6.0, (2, 3))] for k in range(3)]
    check(lambda x: torch.mvlgamma(x, 3), calls, backend)
    check(lambda x: torch.special.multigammaln(x * 1.5, 2), calls, backend)
