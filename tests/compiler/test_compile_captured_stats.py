"""Statistics, NaN-aware reductions and order statistics captured by ``chainrule.compile``.

These operators find masks and positions from the values (NaN positions, zeros, the running
maximum, the most frequent value, the ranks of a quantile). They are made by operators on
Tensors (``isnan``, comparisons, ``maximum``) or found inside one node's ``forward``
(``OrderPick`` with a ``find`` function, ``QuantileRanks``), so a compiled replay finds them again
on each call's values instead of refusing the graph. Each test compiles a small function and calls
it three times (the first call records the graph, the second records its backward, the third runs
flat where the backward allows) with values that move the masks between calls: outputs (indices
too) and gradients must equal eager bit for bit, and no call may break the graph.
"""

import numpy as np
import pytest

import chainrule as torch

BACKENDS = ["inductor", "eager"]
NAN, INF = float("nan"), float("inf")


def check(fn, calls, backend: str, flat: bool = True, grad: tuple | None = None) -> None:
    """Run ``fn`` compiled and eagerly on each argument list of ``calls`` (float64 arrays; those
    flagged in ``grad``, all by default, require grad). ``fn`` returns a tuple whose first entry
    is the scalar differentiated; every entry and every gradient must be equal bit for bit. No
    call may break the graph; with ``flat`` the last call is the first to run flat."""
    run = torch.compile(fn, backend=backend)
    for k, values in enumerate(calls):
        results = []
        for f in (run, fn):
            flags = grad or (True,) * len(values)
            args = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=r) for v, r in zip(values, flags)]
            outs = f(*args)
            wrt = [a for a in args if a.requires_grad]
            grads = torch.autograd.grad(outs[0], wrt)
            results.append([o.detach().numpy() for o in outs] + [g.numpy() for g in grads])
        for got, want in zip(*results):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
        assert run._compiled.failures() == [], f"call {k + 1}"
        (graph,) = run._compiled.graphs()
        want_flat = 1 if flat and k == len(calls) - 1 else 0
        assert graph.stats.get("flat_calls", 0) == want_flat, f"call {k + 1}: {graph.stats}"


W = [0.5, -1.5, 2.0, 3.0, -0.25, 1.25]


# ---- NaN-aware reductions ----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_nansum_with_nan_moving(backend):
    def f(x, w):
        return ((torch.nansum(x * w) + torch.nansum(x.reshape(2, 3), 1) * 0.5).sum(),)

    no_nan = ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], W)
    check(f, [no_nan, ([NAN, 2.0, 3.0, 4.0, NAN, 6.0], W), ([1.0, NAN, 3.0, NAN, NAN, NAN], W)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nanmean_with_nan_moving_and_an_all_nan_row(backend):
    def f(x):
        rows = torch.nanmean(x.reshape(2, 3), 1, keepdim=True)
        return (torch.nanmean(x) + torch.nansum(rows * rows), rows)

    check(f, [([1.0, 2.0, 3.0, 4.0, 5.0, 6.0],), ([NAN, 2.0, 3.0, 4.0, NAN, 6.0],),
              ([1.0, NAN, 3.0, NAN, NAN, NAN],)], backend)


# ---- element-wise ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_logaddexp_with_large_and_infinite_operands(backend):
    def f(a, b):
        return ((torch.logaddexp(a, b) * b).sum(),)

    small = ([0.5, -1.0, 2.0], [1.0, 0.25, -3.0])
    check(f, [small, small, ([800.0, -INF, 2.0], [1.0, -INF, 900.0])], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cumprod_with_zeros_moving(backend):
    def f(x):
        return ((torch.cumprod(x.reshape(2, 3), 1) * 1.5).sum(),)

    # every call holds a zero (the route of the gradient is a guard); the product's backward
    # branches on the zeros in NumPy, so the graph replays on nodes
    check(f, [([1.0, 0.0, 2.0, 3.0, 4.0, 0.0],), ([0.0, 2.0, 2.0, 3.0, 0.0, 5.0],),
              ([1.5, 2.0, 0.0, 0.0, 4.0, 5.0],)], backend, flat=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_addmm_with_beta_zero_and_nan_in_input(backend):
    def f(c, a):
        m = a.reshape(2, 3)
        return ((torch.addmm(c.reshape(2, 2), m, m.t(), beta=0) * 2.0).sum(),)

    a = [1.0, 2.0, -1.0, 0.5, 3.0, 2.0]
    check(f, [([1.0, 2.0, 3.0, 4.0], a), ([1.0, 2.0, 3.0, 4.0], a), ([NAN, 2.0, INF, 4.0], a)], backend)


# ---- norms --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_norm_with_zeros_moving(backend):
    def f(x):
        m = x.reshape(2, 3)
        return ((torch.norm(m, 0, 1) + torch.linalg.vector_norm(m, 0) + m.sum(1)).sum(),)

    check(f, [([1.0, 2.0, 3.0, 4.0, 5.0, 6.0],), ([0.0, 2.0, 0.0, 4.0, 0.0, 6.0],),
              ([1.0, 0.0, 0.0, 0.0, 5.0, NAN],)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_norm_condition_number_of_a_singular_matrix(backend):
    def f(a):
        return (torch.linalg.cond(a.reshape(2, 2), 1),)

    regular = ([2.0, 1.0, 0.5, 3.0],)
    check(f, [regular, ([1.0, -1.0, 0.25, 4.0],), ([1.0, 2.0, 2.0, 4.0],)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pinv_of_a_matrix_that_loses_rank(backend):
    def f(a, atol):
        m = a.reshape(3, 2)
        return ((torch.linalg.pinv(m) * 2.0).sum() + torch.linalg.pinv(m, atol=atol).sum(),)

    full = [1.0, 2.0, 3.0, -1.0, 0.5, 4.0]
    check(f, [(full, 0.1), (full, 0.1), ([1.0, 2.0, 2.0, 4.0, 3.0, 6.0], 4.5)], backend, grad=(True, False))


# ---- order statistics ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_running_extremes_with_ties_and_nan(backend, name):
    op = getattr(torch, name)

    def f(x, w):
        values, indices = op(x.reshape(2, 3), 1)
        return ((values * w.reshape(2, 3)).sum(), indices)

    check(f, [([1.0, 3.0, 2.0, 5.0, 4.0, 6.0], W), ([2.0, 2.0, 2.0, 1.0, 7.0, 1.0], W),
              ([3.0, NAN, 1.0, 6.0, 0.5, 6.0], W)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_mode_as_the_values_change(backend):
    def f(x, w):
        values, indices = torch.mode(x.reshape(2, 4), 1)
        keep = torch.mode(x.reshape(2, 4), 0, keepdim=True)
        return ((values * w[:2]).sum() + (keep.values * w[2:6]).sum(), indices, keep.indices)

    w = [0.5, -1.5, 2.0, 3.0, -0.25, 1.25]
    check(f, [([1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0], w), ([3.0, 2.0, 2.0, 3.0, 1.0, 1.0, 1.0, 4.0], w),
              ([4.0, 1.0, 4.0, 1.0, 2.0, 2.0, 3.0, 3.0], w)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_nanmedian_with_nan_moving(backend):
    def f(x, w):
        m = x.reshape(2, 3)
        values, indices = torch.nanmedian(m, 1)
        return ((values * w[:2]).sum() + torch.nanmedian(x) * 3.0, indices)

    check(f, [([1.0, 3.0, 2.0, 6.0, 5.0, 4.0], W), ([NAN, 3.0, 2.0, 6.0, NAN, 4.0], W),
              ([1.0, NAN, 7.0, NAN, NAN, NAN], W)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_with_nan_moving(backend, interpolation):
    def f(x, w):
        m = x.reshape(2, 4)
        q = torch.quantile(m, 0.4, dim=1, interpolation=interpolation)
        nq = torch.nanquantile(m, 0.75, dim=0, keepdim=True, interpolation=interpolation)
        return ((q * w[:2]).sum() + (nq * w[2:6]).sum() + torch.nanquantile(x, 0.3),)

    check(f, [([1.0, 3.0, 2.0, 6.0, 5.0, 4.0, 0.5, 8.0], W), ([1.0, NAN, 2.0, 6.0, 5.0, 4.0, NAN, 8.0], W),
              ([NAN, 3.0, 2.0, INF, NAN, 4.0, 0.5, 8.0], W)], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_quantile_with_q_an_argument(backend):
    def f(x, q):
        return ((torch.quantile(x.reshape(2, 3), q, dim=1) * 2.0).sum(),)

    x = [1.0, 3.0, 2.0, 6.0, 5.0, 4.0]
    check(f, [(x, [0.1, 0.5]), (x, [0.9, 0.25]), ([6.0, 1.0, 1.5, NAN, 5.0, 4.0], [1.0, 0.0])], backend,
          grad=(True, False))


@pytest.mark.parametrize("backend", BACKENDS)
def test_quantile_checks_q_on_every_call(backend):
    def f(x, q):
        return torch.quantile(x, q)

    run = torch.compile(f, backend=backend)
    x = torch.tensor([1.0, 2.0, 3.0])
    for q in ([0.5], [0.25]):
        np.testing.assert_array_equal(run(x, torch.tensor(q)).numpy(), f(x, torch.tensor(q)).numpy())
    with pytest.raises(RuntimeError, match=r"q values must be in the range \[0, 1\]"):
        run(x, torch.tensor([1.5]))
    assert run._compiled.failures() == []


# ---- covariance ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_corrcoef(backend):
    def f(x):
        return ((torch.corrcoef(x.reshape(2, 3)) * 1.5).sum(),)

    check(f, [([1.0, 2.0, 4.0, 3.0, 1.0, 2.0],), ([0.5, 2.0, -1.0, 3.0, 3.5, 2.0],),
              ([1.0, 1.0, 1.0, 3.0, -1.0, 2.0],)], backend)


def test_lstsq_records_anew_when_the_rank_changes():
    """Whether ``lstsq`` returns residuals depends on the rank of ``A``: a value read into Python,
    so a replay whose rank differs records a graph of its own instead of returning the residuals
    of the recorded rank."""

    def f(a, b):
        r = torch.linalg.lstsq(a, b, driver="gelsd")
        return r.solution, r.residuals, r.rank, r.singular_values

    run = torch.compile(f)
    rng = np.random.default_rng(0)
    for k in range(5):
        a = rng.standard_normal((5, 3))
        if k >= 3:
            a[:, 2] = a[:, 1]  # rank 2: no residuals
        b = rng.standard_normal((5, 2))
        got, want = run(torch.tensor(a), torch.tensor(b)), f(torch.tensor(a), torch.tensor(b))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert run._compiled.failures() == []
    assert len(run._compiled.graphs()) == 2
