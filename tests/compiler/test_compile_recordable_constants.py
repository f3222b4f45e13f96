"""Operators whose backward builds constants from sizes alone, replayed as a flat schedule.

These backwards use tensors that depend only on shapes, dtypes and hyper-parameters: the ones
vector and identity matrix of an einsum gradient, the identity of ``diag_embed`` and of the
eigenvalue-gap quotient (``svd``, ``eigh``), the halved lower triangle of ``cholesky``, the
identity and zero blocks of ``lu`` and the zeros of an unused SVD factor, the counts
and zeros of ``scatter_reduce``, the zeros ``index_put`` writes, the zeros of an unused ``split``
or ``unbind`` piece and the window index of ``Tensor.unfold``. The backward recorder keeps such a
tensor as a constant of the schedule only when its array is marked as built from sizes
(``kernels.tables.size_only``); an unmarked one keeps the graph replaying on nodes.

Each test compiles a small function and calls it three times with new values (the first call
records the graph, the second records its backward, the third runs flat); outputs and gradients
must equal eager bit for bit, and the third call must run flat.
"""

import numpy as np
import pytest

import chainrule as torch

BACKENDS = ["inductor", "eager"]


def flat_calls(run) -> int:
    (graph,) = run._compiled.graphs()
    return graph.stats.get("flat_calls", 0)


def check(fn, make, backend: str) -> None:
    """Run ``fn`` compiled and eagerly on the arrays ``make(rng)`` of three calls (new values each
    time; float arrays require grad) and compare outputs and gradients bit for bit; the third call
    must be the first to run flat."""
    run = torch.compile(fn, backend=backend)
    for k in range(3):
        arrays = make(np.random.default_rng(k))
        results = []
        for f in (run, fn):
            args = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
            out = f(*args)
            grads = torch.autograd.grad(out, [a for a in args if a.requires_grad])
            results.append([out.detach().numpy()] + [g.numpy() for g in grads])
        for got, want in zip(*results):
            np.testing.assert_array_equal(got, want)
        assert flat_calls(run) == (1 if k == 2 else 0), f"call {k + 1}"


def floats(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def spd(n: int):
    """A symmetric positive definite matrix (float64), new values per call."""
    def make(rng):
        a = rng.standard_normal((n, n))
        return [a @ a.T + n * np.eye(n)]
    return make


# ---- einsum: a ones vector for labels summed inside one operand, an identity for repeated labels ----
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("equation,shape", [("ii->i", (3, 3)), ("ii", (3, 3)), ("ij->i", (3, 2)),
                                            ("...ij->...", (2, 3, 2))], ids=["diagonal", "trace", "row_sum", "ellipsis"])
def test_einsum_ones_and_identity(equation, shape, backend):
    def f(a):
        return (torch.einsum(equation, a) * 1.5).sum()

    check(f, floats(shape), backend)


# ---- linear algebra: identities of diag_embed and the gap quotient, zeros of an unused factor -------
@pytest.mark.parametrize("use", ["all", "vectors"])
def test_svd(use):
    def f(a):
        u, s, vh = torch.linalg.svd(a, full_matrices=False)
        vectors = (u * u * 2.0).sum() + (vh * vh).sum() + (u[:, :1] * vh[:1, :].sum()).sum()
        return vectors + (s * 3.0).sum() if use == "all" else vectors

    check(f, floats((4, 3)), "eager")  # inductor's fused products round differently from eager here


@pytest.mark.parametrize("backend", BACKENDS)
def test_eigh(backend):
    def f(a):
        w, v = torch.linalg.eigh(a)
        return (w * 2.0).sum() + (v * v * v).sum()

    check(f, spd(3), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cholesky(backend):
    def f(a):
        return (torch.linalg.cholesky(a) * 1.5).sum()

    check(f, spd(3), backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape,use", [((5, 3), "both"), ((5, 3), "U"), ((2, 4), "both"), ((2, 4), "L")],
                         ids=["tall", "tall_U_only", "wide", "wide_L_only"])
def test_lu(shape, use, backend):
    def f(a):
        _, low, up = torch.linalg.lu(a)
        parts = ([low * 2.0] if use != "U" else []) + ([up * up] if use != "L" else [])
        return sum(p.sum() for p in parts)

    check(f, floats(shape), backend)


# ---- indexing: scatter_reduce's counts and zeros, index_put's zeros ---------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduce", ["mean", "prod"])
@pytest.mark.parametrize("include_self", [True, False], ids=["include_self", "exclude_self"])
def test_scatter_reduce(reduce, include_self, backend):
    def f(x, src, index):
        return (torch.scatter_reduce(x, 0, index, src, reduce, include_self=include_self) * 1.5).sum()

    def make(rng):
        index = rng.integers(0, 3, (2, 4))
        return [rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), index]

    check(f, make, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_index_put(backend):
    def f(x, v, i, j):
        return (torch.index_put(x, (i, j), v) * 1.5).sum()

    def make(rng):
        return [rng.standard_normal((3, 4)), rng.standard_normal(2), rng.permutation(3)[:2], rng.permutation(4)[:2]]

    check(f, make, backend)


# ---- views: zeros of unused pieces, the index of overlapping windows --------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_split_with_an_unused_piece(backend):
    def f(a):
        return (a.split(2, 1)[1] * 3.0).sum()

    check(f, floats((2, 5)), backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_unbind_with_an_unused_piece(backend):
    def f(a):
        pieces = a.unbind(1)
        return (pieces[2] * 2.0 + pieces[0]).sum()

    check(f, floats((2, 3)), backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dim", [0, 1])
def test_tensor_unfold(dim, backend):
    def f(a):
        return (a.unfold(dim, 2, 1) * 1.5).sum()

    check(f, floats((4, 3)), backend)
