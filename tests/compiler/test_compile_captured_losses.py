"""Losses, one-hot targets and embeddings whose values depend on the targets or indices, captured
by ``compile``.

Cross-entropy with label smoothing (its kept positions and its 'mean' divisor), ``kl_div`` (the
mask of zero targets) and ``embedding`` with ``padding_idx``, ``scale_grad_by_freq`` or
``max_norm`` (the gradient factors, the renormalised rows) are made by operators (or, for the
renormalisation, by a recorded write), so a compiled graph computes them from each call's targets
and indices. Each test calls a compiled function several times with new targets or indices, the
last calls as a flat schedule, and compares outputs and gradients with eager bit for bit; a graph
that froze the first call's targets gives other numbers, and one the recorder refuses breaks.
"""

import copy

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn.functional as F

BACKENDS = ["inductor", "eager"]


def only_graph(run):
    compiled = run._compiled_call if isinstance(run, torch.nn.Module) else run._compiled
    assert compiled.failures() == [], compiled.failures()
    (graph,) = compiled.graphs()
    return graph


def compare(run, fn, calls) -> None:
    """``run`` (compiled ``fn``) equals ``fn`` on each argument list of ``calls`` (float arrays
    become tensors that require grad, integer arrays index tensors, tensors pass as they are)."""
    for values in calls:
        results = []
        for f in (run, fn):
            args = [torch.tensor(v, requires_grad=True) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                    else torch.tensor(v) if isinstance(v, np.ndarray) else v for v in values]
            out = f(*args)
            wrt = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
            grads = torch.autograd.grad(out, wrt, torch.ones_like(out))
            results.append([out.detach().numpy()] + [g.numpy() for g in grads])
        for got, want in zip(*results):
            np.testing.assert_array_equal(got, want)


def targets(seed: int, shape, classes: int, ignored: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, classes, shape)
    t[rng.random(shape) < ignored] = -100
    return t


def logits(seed: int, shape) -> np.ndarray:
    return np.random.default_rng(100 + seed).standard_normal(shape)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_label_smoothing_class_weights_and_ignored_targets(backend, reduction):
    weight = torch.tensor([1.0, 0.5, 2.0, 0.25], dtype=torch.float64)

    def f(x, t):
        return F.cross_entropy(x, t, weight=weight, label_smoothing=0.2, reduction=reduction)

    run = torch.compile(f, backend=backend)
    calls = [(logits(k, (6, 4)), targets(k, (6,), 4)) for k in range(4)]
    calls.append((logits(9, (6, 4)), np.full((6,), -100)))  # every target ignored: 'mean' is nan
    compare(run, f, calls)
    assert only_graph(run).stats.get("flat_calls", 0) >= 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_spatial_cross_entropy_with_label_smoothing(backend):
    def f(x, t):
        return F.cross_entropy(x, t, label_smoothing=0.1)

    run = torch.compile(f, backend=backend)
    compare(run, f, [(logits(k, (2, 3, 4, 5)), targets(k, (2, 4, 5), 3)) for k in range(4)])
    assert only_graph(run).stats.get("flat_calls", 0) >= 1


def test_the_label_smoothing_module_in_a_compiled_training_step():
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    model = torch.nn.Linear(5, 3).double()
    twin = copy.deepcopy(model)

    def step(m, x, t):
        return loss_fn(m(x), t)

    run = torch.compile(step)
    for k in range(4):
        x = torch.tensor(logits(k, (8, 5)))
        t = torch.tensor(targets(k, (8,), 3, ignored=0.0))
        got, want = run(model, x, t), step(twin, x, t)
        got.backward()
        want.backward()
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        for p, q in zip(model.parameters(), twin.parameters()):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert only_graph(run).stats.get("flat_calls", 0) >= 1


def test_a_class_weight_that_requires_grad_is_refused_as_in_pytorch():
    x = torch.randn(3, 4)
    t = torch.tensor([0, 1, 3])
    w = torch.ones(4, requires_grad=True)
    for fn in (lambda: F.cross_entropy(x, t, weight=w), lambda: F.nll_loss(x, t, weight=w),
               lambda: F.cross_entropy(x, t, weight=w, label_smoothing=0.1)):
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
            fn()
    with torch.no_grad():
        F.cross_entropy(x, t, weight=w)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
def test_kl_div_with_zero_targets_that_move(backend, reduction):
    def f(x, y):
        return F.kl_div(x, y, reduction=reduction)

    def probs(seed: int, zeros: list) -> np.ndarray:
        p = np.random.default_rng(seed).random((3, 4))
        p.reshape(-1)[zeros] = 0.0
        return p / p.sum(1, keepdims=True)

    run = torch.compile(f, backend=backend)
    compare(run, f, [(logits(k, (3, 4)), probs(k, z)) for k, z in enumerate([[], [1], [0, 5, 11], [2, 3]])])
    assert only_graph(run).stats.get("flat_calls", 0) >= 1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("options", [{"padding_idx": 0}, {"scale_grad_by_freq": True},
                                     {"padding_idx": 2, "scale_grad_by_freq": True}])
def test_embedding_gradient_factors_follow_the_indices(backend, options):
    weight = np.random.default_rng(0).standard_normal((6, 3))

    def f(w, idx):
        return F.embedding(idx, w, **options)

    run = torch.compile(f, backend=backend)
    indices = [[[0, 1, 1], [2, 0, 5]], [[3, 3, 3], [0, 2, 2]], [[5, 4, 0], [0, 0, 1]], [[2, 2, 1], [4, 5, 2]]]
    compare(run, f, [(weight, np.array(i)) for i in indices])
    assert only_graph(run).stats.get("flat_calls", 0) >= 1


def test_embedding_max_norm_renormalises_each_calls_rows_on_replay():
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 4, max_norm=1.0, padding_idx=1).double()
    with torch.no_grad():
        emb.weight.mul_(3.0)  # every row above the norm
    twin = copy.deepcopy(emb)
    run = torch.compile(emb)
    rng = np.random.default_rng(1)
    for _ in range(4):
        idx = torch.tensor(rng.integers(0, 10, (2, 3)))
        got, want = run(idx), twin(idx)
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        got.sum().backward()
        want.sum().backward()
        np.testing.assert_array_equal(emb.weight.detach().numpy(), twin.weight.detach().numpy())  # the same rows renormalised
        np.testing.assert_array_equal(emb.weight.grad.numpy(), twin.weight.grad.numpy())
    assert only_graph(run).stats.get("flat_calls", 0) >= 1  # the write reads the indices: still flat
    with pytest.raises(IndexError, match="index 10 is out of range for an embedding table of 10 rows"):
        run(torch.tensor([[0, 10]]))


def test_one_hot_targets_replay_and_check_each_calls_classes():
    def f(x, t):
        return (x * F.one_hot(t, 4).to(x.dtype)).sum(1)

    run = torch.compile(f)
    compare(run, f, [(logits(k, (6, 4)), np.random.default_rng(k).integers(0, 4, 6)) for k in range(4)])
    assert only_graph(run).stats.get("flat_calls", 0) >= 2
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        run(torch.randn(2, 4, dtype=torch.float64), torch.tensor([1, 4]))


def test_one_hot_with_inferred_classes_records_anew_for_another_largest_class():
    run = torch.compile(lambda t: F.one_hot(t) * 2)
    for t in ([0, 2, 1], [2, 2, 0], [0, 3, 1], [1, 0, 3]):
        got, want = run(torch.tensor(t)), F.one_hot(torch.tensor(t)) * 2
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert run._compiled.failures() == [] and len(run._compiled.graphs()) == 2
