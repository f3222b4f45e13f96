"""chainrule.compile: replay equals eager, re-recording on every change that matters, graph breaks."""

import warnings

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.compiler import CompileError, config


def chain(x, w):
    """The benchmark's element-wise chain, short: fused into one kernel by the default backend."""
    y = x
    for _ in range(5):
        y = torch.tanh(y * w + w) * 0.5
    return y.sum()


def calls(fn):
    c = fn._compiled if hasattr(fn, "_compiled") else fn._compiled_call
    return dict(c.calls)


@pytest.mark.parametrize("backend", ["inductor", "eager"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_function_replay_equals_eager(backend, dtype):
    cf = torch.compile(chain, backend=backend)
    torch.manual_seed(0)
    w = torch.randn(16, dtype=dtype, requires_grad=True)
    for _ in range(3):
        x = torch.randn(16, dtype=dtype)
        loss = chain(x, w)
        (g_eager,) = torch.autograd.grad(loss, w)
        closs = cf(x, w)
        (g_comp,) = torch.autograd.grad(closs, w)
        # fused tanh may differ from NumPy's by an ulp (kernels/numpy/fused.py): a few ulps after 5 links
        tol = 1e-6 if dtype == torch.float32 else 1e-14
        np.testing.assert_allclose(closs.item(), loss.item(), rtol=tol)
        np.testing.assert_allclose(g_comp.numpy(), g_eager.numpy(), rtol=tol * 10, atol=tol)
        if backend == "eager":  # no fusion: the same operators in the same order, bit for bit
            assert closs.item() == loss.item() and (g_comp.numpy() == g_eager.numpy()).all()
    assert calls(cf) == {"replayed": 2, "recorded": 1, "eager": 0}


def test_double_backward_through_fused_kernel():
    cf = torch.compile(chain)
    w = torch.randn(16, dtype=torch.float64, requires_grad=True)
    x = torch.randn(16, dtype=torch.float64)
    cf(x, w)  # record
    for fn in (chain, cf):
        (g,) = torch.autograd.grad(fn(x, w), w, create_graph=True)
        (gg,) = torch.autograd.grad(g.sum(), w)
        if fn is chain:
            ref = (g.detach().numpy(), gg.numpy())
    np.testing.assert_allclose(g.detach().numpy(), ref[0], rtol=1e-12)
    np.testing.assert_allclose(gg.numpy(), ref[1], rtol=1e-10, atol=1e-12)


def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Dropout(0.2), nn.ReLU(),
                         nn.Linear(120, 10))


def test_training_20_steps_equals_eager():
    torch.manual_seed(0)
    eager = lenet()
    torch.manual_seed(0)
    model = lenet()
    compiled = torch.compile(model)
    opts = [torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in (eager, compiled)]
    torch.manual_seed(1)
    data = [(torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))) for _ in range(20)]
    for step, (x, y) in enumerate(data):
        losses = []
        for m, opt in zip((eager, compiled), opts):
            torch.manual_seed(step)  # the same dropout masks on both sides
            opt.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[0] == losses[1]
    for a, b in zip(eager.parameters(), model.parameters()):
        assert (a.detach().numpy() == b.detach().numpy()).all()
    assert calls(compiled) == {"replayed": 19, "recorded": 1, "eager": 0}


def test_optimized_module_is_the_module():
    model = lenet()
    compiled = torch.compile(model)
    assert isinstance(compiled, nn.Module) and compiled._orig_mod is model
    assert [id(p) for p in compiled.parameters()] == [id(p) for p in model.parameters()]
    assert list(compiled.state_dict())[0] == "_orig_mod.0.weight"  # PyTorch's key prefix
    model.note = "lenet"
    assert compiled.note == "lenet"  # attribute reads fall through to the original
    compiled.eval()
    assert not model.training
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        out = compiled(x)
        again = compiled(x)
        ref = model(x)
    assert out.grad_fn is None and (out.numpy() == ref.numpy()).all() and (again.numpy() == ref.numpy()).all()


def test_a_deep_copy_of_a_compiled_module_is_a_compiled_copy_that_trains_on_its_own():
    """``copy.deepcopy`` (as ``AveragedModel`` and model-EMA code do) after the graphs were recorded
    and planned: the copy has its own parameters, compiles anew and trains as an eager copy."""
    import copy

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(300, 256), nn.ReLU(), nn.Linear(256, 3))  # big enough for buffers
    compiled = torch.compile(model)
    x = torch.randn(64, 300)
    for _ in range(4):
        compiled(x).sum().backward()
    twin, eager_twin = copy.deepcopy(compiled), copy.deepcopy(model)
    assert isinstance(twin, type(compiled)) and twin._orig_mod is not model
    assert all(p is not q for p, q in zip(twin.parameters(), model.parameters()))
    before = [p.detach().numpy().copy() for p in model.parameters()]
    for net in (twin, eager_twin):
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        for _ in range(4):
            opt.zero_grad()
            net(x).square().mean().backward()
            opt.step()
    for p, q in zip(twin.parameters(), eager_twin.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    for p, b in zip(model.parameters(), before):  # the original is untouched
        np.testing.assert_array_equal(p.detach().numpy(), b)
    assert calls(twin)["replayed"] == 3


def test_new_signature_records_again():
    cf = torch.compile(lambda x: (x * 2 + 1).relu())
    cf(torch.ones(3))
    cf(torch.ones(3))
    cf(torch.ones(4))  # shape
    cf(torch.ones(4, dtype=torch.float64))  # dtype
    cf(torch.ones(4, dtype=torch.float64, requires_grad=True))  # requires_grad
    with torch.no_grad():
        cf(torch.ones(4, dtype=torch.float64, requires_grad=True))  # grad mode
    assert calls(cf) == {"replayed": 1, "recorded": 5, "eager": 0}
    model = lenet()
    cm = torch.compile(model)
    x = torch.randn(2, 1, 28, 28)
    cm(x)
    cm.eval()
    cm(x)  # training flags are part of the signature
    cm.train()
    cm(x)
    assert calls(cm) == {"replayed": 1, "recorded": 2, "eager": 0}


def branchy(x):
    if x.sum() > 0:
        return x * 2
    return x * 3


def test_data_dependent_branch_is_guarded():
    cf = torch.compile(branchy)
    for v in (1.0, -1.0, 1.0, -1.0, -2.0):
        x = torch.full((3,), v)
        assert (cf(x).numpy() == branchy(x).numpy()).all()
    assert calls(cf) == {"replayed": 3, "recorded": 2, "eager": 0}


def test_item_guard_and_cache_limit(monkeypatch):
    monkeypatch.setattr(config, "cache_size_limit", 3)
    cf = torch.compile(lambda x: x * x.max().item())
    for v in range(6):
        x = torch.arange(3.0) + v
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = cf(x)
        assert (out.numpy() == (x * (2.0 + v)).numpy()).all()
        assert bool(caught) == (v == 3)  # one warning, when the limit is reached
    assert calls(cf) == {"replayed": 0, "recorded": 3, "eager": 3}


BREAKS = {
    "in-place": (lambda x: torch.mul(x, 2.0, out=x), "in-place write"),  # out= (add_, x[0] = 2.0 are captured)
    # a new leaf that requires grad, made on each call (constants and random samples are captured)
    "factory": (lambda x: x + torch.randn(3, requires_grad=True), "computed outside the recorded operators"),
    "numpy": (lambda x: torch.from_numpy(x.numpy() * 2), "numpy()"),
    "backward": (lambda x: (x * x).sum().backward(), "backward pass"),
    "hook": (lambda x: (x * 2).register_hook(lambda g: g), "register_hook"),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_graph_breaks(name):
    fn, reason = BREAKS[name]
    x = torch.ones(3, requires_grad=name in ("backward", "hook"))
    if name == "in-place":
        x = x * 1
    with pytest.raises(CompileError, match=reason) as info:
        torch.compile(fn, fullgraph=True)(x)
    assert "test_compile.py:" in str(info.value)  # the user's line
    cf = torch.compile(fn)
    cf(x)
    cf(x)
    assert calls(cf)["eager"] == 1 and calls(cf)["replayed"] == 0
    out = torch.compiler.explain(fn, x)
    assert out.graph_break_count == 1 and reason in out.break_reasons[0][0]


def test_custom_function_breaks():
    class Double(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(CompileError, match="custom autograd.Function Double"):
        torch.compile(lambda x: Double.apply(x), fullgraph=True)(torch.ones(2, requires_grad=True))


def test_module_hooks_run_eagerly():
    model = lenet()
    seen = []
    model[0].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    cm = torch.compile(model)
    x = torch.randn(1, 1, 28, 28)
    cm(x)
    cm(x)
    assert len(seen) == 2 and calls(cm)["eager"] == 1
    with pytest.raises(CompileError, match="module hooks on 0"):
        torch.compile(model, fullgraph=True)(x)


def test_parameter_hooks_and_grad_accumulation():
    lin = nn.Linear(3, 2)
    seen = []
    lin.weight.register_hook(lambda g: seen.append(1))
    cm = torch.compile(lin)
    x = torch.randn(4, 3)
    for _ in range(3):
        cm(x).sum().backward()
    ref = nn.Linear(3, 2)
    ref.load_state_dict(lin.state_dict())
    for _ in range(3):
        ref(x).sum().backward()
    assert len(seen) == 3
    assert (lin.weight.grad.numpy() == ref.weight.grad.numpy()).all()


def test_arguments_validated():
    with pytest.raises(ValueError, match="backend 'tvm' is not supported"):
        torch.compile(chain, backend="tvm")
    with pytest.raises(ValueError, match="unknown mode"):
        torch.compile(chain, mode="fast")
    with pytest.raises(NotImplementedError, match="dynamic=True"):
        torch.compile(chain, dynamic=True)
    with pytest.raises(TypeError, match="expected a callable"):
        torch.compile(3)
    assert torch.compile(chain, disable=True) is chain
    deco = torch.compile(fullgraph=True)(chain)
    assert deco(torch.ones(16), torch.ones(16)).item() == chain(torch.ones(16), torch.ones(16)).item()


def test_reset_forgets_graphs():
    cf = torch.compile(chain)
    x = torch.ones(16)
    cf(x, x)
    torch.compiler.reset()
    cf(x, x)
    assert calls(cf)["recorded"] == 2


def test_explain_lists_fused_kernels():
    out = torch.compiler.explain(chain, torch.ones(16), torch.ones(16))
    assert out.graph_count == 1 and out.graph_break_count == 0
    assert len(out.fused_kernels) == 1 and len(out.fused_kernels[0]) == 20
    assert "Fused kernel 1: 20 operators" in str(out)
    assert out.flat_refusals == [None] and "Graph 1 replays as a flat schedule" in str(out)
    prod_out = torch.compiler.explain(lambda x, p: (x * p).prod(), torch.ones(3), torch.ones(3, requires_grad=True))
    assert "Prod" in prod_out.flat_refusals[0] and "replays on nodes: Prod" in str(prod_out)


def test_values_held_by_operators_are_replayed_or_refused():
    """Four defects found by the table run: each replayed the recorded call's values or crashed."""
    def made_then_where(x):
        cr_ones = torch.ones(4)  # a tensor made outside the operators, then an array attribute (Where)
        del cr_ones
        return torch.where(x > 0, x, 0.0) * 2

    cf = torch.compile(made_then_where, backend="eager")
    x = torch.randn(3, 4)
    cf(x)
    assert (cf(-x).numpy() == made_then_where(-x).numpy()).all()
    slogdet = torch.compile(torch.linalg.slogdet, backend="eager")  # a named tuple result
    slogdet(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
    out = slogdet(torch.tensor([[-1.0, 0.0], [0.0, 5.0]]))
    assert type(out).__name__ == "linalg_slogdet" and out.sign.item() == -1.0
    median = torch.compile(torch.median, backend="eager")  # a one-element index made from the data
    median(torch.tensor([1.0, 2.0, 3.0]))
    assert median(torch.tensor([3.0, 1.0, 2.0])).item() == 2.0
    index = torch.compile(lambda x, i: x[i], backend="eager")  # arrays inside a tuple attribute
    x = torch.arange(4.0)
    index(x, torch.tensor([True, False, False, False]))
    assert index(x, torch.tensor([False, True, True, False])).tolist() == [1.0, 2.0]
    gather = torch.compile(lambda x, i: x[i], backend="eager")
    gather(x, torch.tensor([0, 0]))
    assert gather(x, torch.tensor([3, 1])).tolist() == [3.0, 1.0]


def test_graph_drawing_boxes_fused_runs():
    cf = torch.compile(chain)
    x, w = torch.ones(16), torch.ones(16, requires_grad=True)
    cf(x, w)
    dot = torch.autograd.graph.to_dot(cf(x, w), params={"w": w})
    assert "subgraph cluster_" in dot and "fused kernel: 20 operators" in dot
    assert "TanhBackward0" in dot and "CompiledFunctionBackward" in dot
    assert "subgraph" not in torch.autograd.graph.to_dot(chain(x, w))


@pytest.mark.parametrize("name", ["avg_pool", "reflect_pad", "adaptive_avg_pool", "bilinear", "nearest"])
def test_tables_built_from_sizes_are_captured(name):
    """Padding maps, average-pool divisors, pooling and interpolation matrices depend on sizes
    alone (kernels.tables.size_only): they are constants of the graph, not graph breaks."""
    fn = {"avg_pool": lambda x: F.avg_pool2d(x, 3, 2, 1), "reflect_pad": lambda x: F.pad(x, (1, 2, 1, 0), mode="reflect"),
          "adaptive_avg_pool": lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
          "bilinear": lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
          "nearest": lambda x: F.interpolate(x, scale_factor=2)}[name]
    cf = torch.compile(fn)
    for _ in range(3):
        x = torch.randn(2, 3, 7, 6, requires_grad=True)
        want, got = fn(x), cf(x)
        (g_want,) = torch.autograd.grad(want.sum(), x)
        (g_got,) = torch.autograd.grad(got.sum(), x)
        assert (got.detach().numpy() == want.detach().numpy()).all() and (g_got.numpy() == g_want.numpy()).all()
    assert calls(cf) == {"replayed": 2, "recorded": 1, "eager": 0}


def test_the_same_tensor_twice_is_part_of_the_signature():
    """f(x, x) records one input slot for both arguments: f(a, b) must not replay it."""
    cf = torch.compile(lambda a, b: a * 2 + b)
    x = torch.ones(3)
    assert cf(x, x).tolist() == [3.0, 3.0, 3.0]
    assert cf(torch.ones(3), torch.zeros(3)).tolist() == [2.0, 2.0, 2.0]
    assert cf(x, x).tolist() == [3.0, 3.0, 3.0]
    assert calls(cf) == {"replayed": 1, "recorded": 2, "eager": 0}


@pytest.mark.parametrize("kwargs", [{}, {"weight": True, "ignore_index": 1}, {"reduction": "sum"}])
def test_a_loss_with_class_targets_replays_and_checks_the_targets(kwargs):
    """cross_entropy's picking of the target classes happens inside one operator (NllLoss), so a
    function computing the loss replays with new targets, bit for bit, and a target out of range
    still raises on a replayed call."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4))
    extra = dict(kwargs)
    if extra.pop("weight", False):
        extra["weight"] = torch.rand(4)

    def loss_of(x, y):
        return F.cross_entropy(model(x), y, **extra)

    cf = torch.compile(loss_of, fullgraph=True)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        x = torch.tensor(rng.standard_normal((8, 6)), dtype=torch.float32)
        y = torch.tensor(rng.integers(0, 4, 8))
        grads = []
        for f in (loss_of, cf):
            model.zero_grad()
            loss = f(x, y)
            loss.backward()
            grads.append([loss.detach().numpy()] + [p.grad.numpy() for p in model.parameters()])
        for got, want in zip(grads[1], grads[0]):
            np.testing.assert_array_equal(got, want)
    assert calls(cf) == {"replayed": 2, "recorded": 1, "eager": 0}
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        cf(x, torch.tensor([0, 1, 2, 3, 7, 0, 0, 0]))


def test_argmax_and_all_are_operators_a_capture_replays():
    """argmax/argmin/all/any are nodes: an accuracy computed inside the function replays with new
    data (they were values computed outside the operators, which broke the graph)."""
    def accuracy(logits, y):
        hit = logits.argmax(1) == y
        return hit.float().mean(), hit.all(), (logits.argmin(dim=1, keepdim=True) > 0).any()

    cf = torch.compile(accuracy, fullgraph=True)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        logits = torch.tensor(rng.standard_normal((16, 5)), dtype=torch.float32)
        y = torch.tensor(rng.integers(0, 5, 16))
        for got, want in zip(cf(logits, y), accuracy(logits, y)):
            assert got.dtype == want.dtype and (got.numpy() == want.numpy()).all()
    assert calls(cf) == {"replayed": 2, "recorded": 1, "eager": 0}


def test_an_embedding_lookup_replays_with_new_indices():
    """Embedding and index_select take the indices as an operator input (range checked there),
    so they replay with new indices; a bad index still raises on a replayed call."""
    torch.manual_seed(0)
    emb = nn.Embedding(7, 3)

    def f(idx, x):
        return (emb(idx) * 2).sum(1) + torch.index_select(x, 1, idx[0])

    cf = torch.compile(f, fullgraph=True)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        idx = torch.tensor(rng.integers(0, 7, (2, 3)))
        x = torch.tensor(rng.standard_normal((2, 7)), dtype=torch.float32)
        for fn in (f, cf):
            emb.zero_grad()
            out = fn(idx, x)
            out.sum().backward()
            if fn is f:
                want = (out.detach().numpy(), emb.weight.grad.numpy())
        np.testing.assert_array_equal(out.detach().numpy(), want[0])
        np.testing.assert_array_equal(emb.weight.grad.numpy(), want[1])
    assert calls(cf) == {"replayed": 2, "recorded": 1, "eager": 0}
    with pytest.raises(IndexError, match="index 9 is out of range for an embedding table of 7 rows"):
        cf(torch.tensor([[0, 1, 9], [0, 0, 0]]), x)


def test_sorting_and_max_along_a_dim_replay():
    """sort, topk, kthvalue, median(dim) and max/min(dim) find their order inside one node
    (OrderPick, ExtremumPick), so they replay on new values, indices and gradients included."""
    def f(x):
        v, i = x.sort(1, descending=True)
        t = torch.topk(x, 2, dim=0)
        m = x.max(1)
        return v * 2 + i, t.values.sum() + t.indices.sum(), m.values + m.indices, x.median(1).values, \
            torch.kthvalue(x, 2, 1).values, x.min(dim=0, keepdim=True).indices

    cf = torch.compile(f, fullgraph=True)
    for seed in range(3):
        arr = np.random.default_rng(seed).standard_normal((4, 5))
        outs = []
        for fn in (f, cf):
            x = torch.tensor(arr, requires_grad=True)
            res = fn(x)
            sum(r.sum() for r in res if r.dtype.is_floating_point).backward()
            outs.append([r.detach().numpy() for r in res] + [x.grad.numpy()])
        for got, want in zip(outs[1], outs[0]):
            np.testing.assert_array_equal(got, want)
    assert calls(cf) == {"replayed": 2, "recorded": 1, "eager": 0}


def test_cumprod_replays_the_way_of_its_gradient_that_the_values_ask_for():
    """cumprod differentiates through products of the others where the input has a zero; that
    choice, read from the values, is a guard: a replay on values with a zero took the way of the
    recorded values without one and gave a NaN gradient."""
    def fn(x):
        return torch.cumprod(x * 1.0, 0)

    run = torch.compile(fn)
    for v in ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 0.0, 3.0], [1.0, 0.0, 3.0], [1.0, 2.0, 3.0]):
        x, x_eager = torch.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        run(x).sum().backward()
        fn(x_eager).sum().backward()
        assert x.grad.tolist() == x_eager.grad.tolist()


def test_a_random_scalar_made_in_the_function_is_not_frozen_into_the_graph():
    """A 0-d float tensor made outside the operators was kept as a constant: ``x + torch.rand(())``
    replayed the recorded call's random number on every call. Only numbers of the code are
    constants now (``torch.tensor(2.0)``, ``torch.full((), 1.5)``, the ``0.5`` of ``y * 0.5``)."""
    f = torch.compile(lambda x: x + torch.rand(()))
    x = torch.zeros(1)
    assert len({f(x).item() for _ in range(4)}) == 4
    g = torch.compile(lambda x: x * torch.tensor(2.0) + torch.full((), 1.5) + torch.zeros(()))
    for _ in range(3):
        assert g(x).item() == 1.5
    assert calls(g) == {"replayed": 2, "recorded": 1, "eager": 0}


def test_integer_fmod_by_zero_raises_on_a_replayed_call():
    """The check was in the wrapper, which a replay skips: a replayed call on a zero divisor gave
    0 where eager raises (the check is now in the operator's forward)."""
    run = torch.compile(lambda a, b: torch.fmod(a, b) + 1)
    a = torch.tensor([4, 6])
    for _ in range(2):
        assert run(a, torch.tensor([2, 3])).tolist() == [1, 1]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run(a, torch.tensor([2, 0]))
    assert calls(run)["replayed"] >= 1


def test_negative_cov_weights_raise_on_a_replayed_call():
    """The check was in the wrapper, which a replay skips: a replayed call with a negative weight
    returned a covariance where eager raises (the check is now an operator's forward)."""
    run = torch.compile(lambda x, w: torch.cov(x, aweights=w))
    x = torch.randn(2, 4)
    for _ in range(2):
        assert run(x, torch.tensor([1.0, 2.0, 1.0, 1.0])).shape == (2, 2)
    with pytest.raises(RuntimeError, match="aweights cannot be negative"):
        run(x, torch.tensor([1.0, -2.0, 1.0, 1.0]))
    assert calls(run)["replayed"] >= 1


def test_a_0d_index_tensor_and_is_nonzero_are_guarded_reads():
    """``x[i]`` with a 0-d integer tensor ``i`` indexes like an int, and ``is_nonzero`` returns a
    Python bool: both read the data into Python, and a replay with another value records anew (they
    used to read the raw array unseen, so replays returned the first call's element)."""
    pick = torch.compile(lambda x, i: x[i] * 1)
    x = torch.arange(5.0)
    assert [pick(x, torch.tensor(k)).item() for k in (0, 1, 2, 1)] == [0.0, 1.0, 2.0, 1.0]
    assert len(pick._compiled.graphs()) == 3
    branch = torch.compile(lambda x, c: x * 2 if torch.is_nonzero(c) else x * 3)
    assert [branch(x, torch.tensor(v)).sum().item() for v in (1, 0, 1)] == [20.0, 30.0, 20.0]
