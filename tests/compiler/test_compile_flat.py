"""chainrule.compile's flat schedule (compiler/flat.py): forward and backward on raw arrays.

Each test compares with eager bit for bit (the flat schedule runs the same operators in the same
order) and checks that the flat schedule actually ran (``graph.stats["flat_calls"]``), or that a
graph it must refuse stays on nodes with its reason.
"""

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.compiler import flat


def compiled_of(fn):
    return fn._compiled if hasattr(fn, "_compiled") else fn._compiled_call


def only_graph(fn):
    (g,) = compiled_of(fn).graphs()
    return g


def lenet():
    return nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 5 * 5, 16), nn.Tanh(), nn.Linear(16, 10))


def mlp():
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 3))


def planned_mlp():
    """``mlp()``, compiled, called twice with a backward: the recording call, then the replay whose
    backward records the schedule; the next call of ``run`` on ``x`` runs flat."""
    model = mlp()
    run = torch.compile(model)
    x = torch.randn(8, 12)
    for _ in range(2):
        run(x).sum().backward()
    return model, run, x


def train(make, shape, compiled: bool, steps: int = 5):
    torch.manual_seed(0)
    model = make()
    run = torch.compile(model) if compiled else model
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(steps):
        x = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
        y = torch.from_numpy(rng.integers(0, 3, shape[0]))
        opt.zero_grad()
        loss = F.cross_entropy(run(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses, run


@pytest.mark.parametrize("make,shape", [(mlp, (8, 12)), (lenet, (4, 1, 28, 28))], ids=["mlp", "lenet"])
def test_training_runs_flat_and_equals_eager(make, shape):
    eager, eager_losses, _ = train(make, shape, False)
    model, losses, run = train(make, shape, True)
    assert losses == eager_losses
    for p, q in zip(model.parameters(), eager.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    graph = only_graph(run)
    assert isinstance(graph.flat, flat.Plan)
    assert graph.stats["flat_calls"] == 3  # call 1 records, call 2 records the backward, then flat
    out = run(torch.randn(*shape))
    assert out.grad_fn.name() == "CompiledFunctionBackward"  # PyTorch's name for a compiled region


def test_inference_runs_flat_after_the_first_replay():
    model = lenet().eval()
    run = torch.compile(model)
    with torch.no_grad():
        for seed in range(3):
            x = torch.from_numpy(np.random.default_rng(seed).standard_normal((2, 1, 28, 28)).astype(np.float32))
            out = run(x)
            assert not out.requires_grad and out.grad_fn is None
            assert np.array_equal(out.numpy(), model(x).numpy())
    assert only_graph(run).stats["flat_calls"] == 1  # call 1 records, call 2 decides on nodes


def test_the_forward_keeps_only_what_the_backward_reads():
    model, run, x = planned_mlp()
    graph = only_graph(run)
    plan = graph.flat
    assert isinstance(plan, flat.Plan) and plan.backward is not None
    vals = [None] * graph.n_slots
    tensors = {}
    for s, _ in graph.input_slots:
        vals[s], tensors[s] = x._data, x
    for s, t in graph.lives + graph.consts:
        vals[s] = t._data
    flat._run_steps(plan.forward, vals, tensors)
    left = {s for s, v in enumerate(vals) if v is not None}
    assert left <= set(graph.out_slots) | set(plan.saved)
    # the first Linear's output (the ReLU's input) is read by nobody after the ReLU: not kept
    first_linear_out = graph.steps[0].outs[0]
    assert first_linear_out not in left
    # and each backward value is dropped after its last reader
    assert sum(len(f) for f in plan.backward.schedule.frees) > 0


def test_hooks_of_parameters_run_once_per_backward():
    model = mlp()
    run = torch.compile(model)
    seen = []
    model[0].weight.register_hook(lambda g: seen.append(g.shape))
    x = torch.randn(8, 12)
    for _ in range(4):
        seen.clear()
        run(x).sum().backward()
        assert seen == [(16, 12)]
    assert only_graph(run).stats["flat_calls"] == 2


def test_gradients_accumulate_like_eager():
    model, run, x = planned_mlp()
    model.zero_grad()
    for _ in range(3):  # flat calls, accumulated into .grad
        run(x).sum().backward()
    got = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    for _ in range(3):
        model(x).sum().backward()
    for g, p in zip(got, model.parameters()):
        assert np.array_equal(g, p.grad.numpy())


def test_a_second_backward_without_retain_graph_raises():
    model = mlp()
    run = torch.compile(model)
    x = torch.randn(8, 12)
    for _ in range(3):
        loss = run(x).sum()
        loss.backward(retain_graph=True)
        loss.backward()  # retained once: fine
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()
    region = loss.grad_fn.next_functions[0][0]
    assert region.name() == "CompiledFunctionBackward" and region.saved_values is None  # released as it went
    assert region.inputs == []  # an output kept for later keeps no batch alive


def test_a_saved_parameter_modified_in_place_raises_as_eager():
    model, run, x = planned_mlp()
    out = run(x)
    with torch.no_grad():
        model[2].weight.mul_(2.0)  # read by the backward (the gradient of the layer's input)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    eager_out = model(x)
    with torch.no_grad():
        model[2].weight.mul_(0.5)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        eager_out.sum().backward()
    out = run(x)
    with torch.no_grad():
        model[4].bias.add_(1.0)  # no backward reads a bias: eager does not complain either
    out.sum().backward()


def test_double_backward_through_a_flat_call_recomputes_on_nodes():
    w = torch.randn(6, dtype=torch.float64, requires_grad=True)

    def f(x):
        return (torch.tanh(x * w) * x).sum()

    run = torch.compile(f, backend="eager")
    x = torch.randn(6, dtype=torch.float64, requires_grad=True)
    for _ in range(2):
        run(x).backward()  # records, then records the backward
    assert isinstance(only_graph(run).flat, flat.Plan)
    for fn in (f, run):
        gx, gw = torch.autograd.grad(fn(x), (x, w), create_graph=True)
        ggx, ggw = torch.autograd.grad((gx * gw).sum(), (x, w))
        if fn is f:
            want = [t.detach().numpy() for t in (gx, gw, ggx, ggw)]
    got = [t.detach().numpy() for t in (gx, gw, ggx, ggw)]
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


def test_an_unused_output_gets_a_zero_gradient():
    def two(x, w):
        y = x * w
        return torch.tanh(y), torch.sigmoid(y)

    run = torch.compile(two, backend="eager")
    w = torch.randn(5, requires_grad=True)
    for _ in range(3):
        x = torch.randn(5)
        (g,) = torch.autograd.grad(run(x, w)[0].sum(), w)
        (want,) = torch.autograd.grad(two(x, w)[0].sum(), w)
        assert np.array_equal(g.numpy(), want.numpy())
    assert only_graph(run).stats["flat_calls"] == 1


def test_gradient_flows_on_to_an_eager_layer_before_the_call():
    first, rest = nn.Linear(12, 12), mlp()
    run = torch.compile(rest)
    x = torch.randn(8, 12)
    for _ in range(3):
        first.zero_grad()
        run(first(x)).sum().backward()
    got = first.weight.grad.numpy().copy()
    first.zero_grad()
    rest(first(x)).sum().backward()
    assert np.array_equal(got, first.weight.grad.numpy())
    assert only_graph(run).stats["flat_calls"] == 1


def test_a_branch_on_a_value_takes_the_right_path_when_flat():
    def f(x, w):
        y = x * w
        return torch.tanh(y) if y.sum() > 0 else torch.sigmoid(y)

    run = torch.compile(f, backend="eager")
    w = torch.ones(4, requires_grad=True)
    for sign in (1, 1, 1, -1, -1, -1, 1):
        x = torch.full((4,), float(sign))
        (g,) = torch.autograd.grad(run(x, w).sum(), w)
        (want,) = torch.autograd.grad(f(x, w).sum(), w)
        assert np.array_equal(g.numpy(), want.numpy())
    assert all(isinstance(g.flat, flat.Plan) for g in compiled_of(run).graphs())


def test_fused_kernels_run_flat_as_on_nodes():
    def chain(x, w):
        y = x
        for _ in range(5):
            y = torch.tanh(y * w + w) * 0.5
        return y.sum()

    run, nodes = torch.compile(chain), torch.compile(chain)
    w = torch.randn(16, requires_grad=True)
    x = torch.randn(16)
    run(x, w)  # both record (eagerly, unfused: the compiled kernels may round otherwise)
    nodes(x, w)
    only_graph(nodes).flat = False
    for _ in range(3):  # both fused: the same kernels, on raw arrays or on nodes
        (g,) = torch.autograd.grad(run(x, w), w)
        (want,) = torch.autograd.grad(nodes(x, w), w)
        assert np.array_equal(g.numpy(), want.numpy())
    assert only_graph(run).stats["flat_calls"] == 2


def test_an_operator_whose_backward_depends_on_values_stays_on_nodes():
    def f(x, p):
        return (x * p).prod()  # Prod's backward branches on whether a factor is zero

    run = torch.compile(f, backend="eager")
    p = torch.full((3,), 2.0, requires_grad=True)
    for x in ([1.0, 2.0, 3.0], [0.0, 2.0, 3.0], [1.0, 2.0, 3.0]):
        xt = torch.tensor(x)
        (g,) = torch.autograd.grad(run(xt, p), p)
        (want,) = torch.autograd.grad(f(xt, p), p)
        assert np.array_equal(g.numpy(), want.numpy())
    graph = only_graph(run)
    assert graph.flat is False and "Prod" in graph.stats["flat"]


def test_a_returned_view_is_a_view_as_in_eager():
    def f(x):
        return (x * 2.0).reshape(-1)  # a view of the product

    run = torch.compile(f, backend="eager")
    x = torch.randn(2, 3, requires_grad=True)
    for k in range(3):
        out = f(x)
        assert out._base is not None and out._base.requires_grad
        out.mul_(3.0)  # eager records the write into its base (CopySlices)
        out = run(x)
        assert out._base is not None and out._base.requires_grad
        if k:  # flat: the base computed inside the call is no tensor of the graph; the write says so
            with pytest.raises(RuntimeError, match="view returned by a compiled function"):
                out.mul_(3.0)
        (g,) = torch.autograd.grad(run(x).sum(), x)
        (want,) = torch.autograd.grad(f(x).sum(), x)
        assert np.array_equal(g.numpy(), want.numpy())
    assert only_graph(run).stats["flat_calls"] >= 3


def test_a_write_through_a_returned_view_of_a_saved_value_makes_backward_raise():
    def f(x):
        return torch.tanh(x * 2.0).reshape(-1)  # tanh's backward reads its output, viewed here

    run = torch.compile(f, backend="eager")
    x = torch.randn(2, 3, requires_grad=True)
    for _ in range(2):
        run(x).sum().backward()
    for fn in (f, run):
        out = fn(x)
        with torch.no_grad():
            out.mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
    assert isinstance(only_graph(run).flat, flat.Plan)


def test_a_returned_view_of_an_input_shares_its_memory_and_version():
    def f(x, w):
        return x.reshape(-1), x * w

    run = torch.compile(f, backend="eager")
    w = torch.randn(2, 3, requires_grad=True)
    for _ in range(3):
        x = torch.randn(2, 3)
        view, prod = run(x, w)
        want = f(x, w)[0]
        assert view._version is x._version and view._base is x and want._base is x  # as eager
        prod.sum().backward()
        view.mul_(0.0)  # as in eager: the input changes with it
        assert float(x.abs().sum()) == 0.0
    assert only_graph(run).stats["flat_calls"] >= 1


def test_an_inference_view_runs_flat_and_writes_through():
    model = mlp().eval()
    run = torch.compile(lambda x: model(x).view(-1))
    x = torch.randn(8, 12)
    with torch.no_grad():
        for _ in range(3):
            out = run(x)
            assert np.array_equal(out.numpy(), model(x).view(-1).numpy())
            out.zero_()  # a write into the view under no_grad: allowed, as in eager
    assert only_graph(run).stats["flat_calls"] == 1


def test_the_drawing_of_a_flat_call_lists_its_operators():
    model, run, x = planned_mlp()
    dot = torch.autograd.graph.to_dot(run(x))
    assert "compiled graph: 5 steps" in dot and "CompiledFunctionBackward" in dot and "ReluBackward0" in dot


def test_dropout_runs_flat_and_a_recomputation_draws_the_same_mask():
    model = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Dropout(0.5), nn.Linear(32, 2)).double()
    run = torch.compile(model)
    x = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    for seed in range(3):  # plain backward: records, then flat; the same masks as eager
        torch.manual_seed(seed)
        (got,) = torch.autograd.grad(run(x).sum(), x)
        torch.manual_seed(seed)
        (want,) = torch.autograd.grad(model(x).sum(), x)
        assert np.array_equal(got.numpy(), want.numpy())
    assert only_graph(run).stats["flat_calls"] == 1
    results = {}
    for name, fn in (("eager", model), ("compiled", run)):  # create_graph recomputes the forward
        torch.manual_seed(7)
        (g,) = torch.autograd.grad(fn(x).sum(), x, create_graph=True)
        torch.randn(3)  # the generator moves on before the second derivative
        (gg,) = torch.autograd.grad((g * g).sum(), x)
        results[name] = (g.detach().numpy(), gg.numpy(), torch.randn(2).numpy())
    for a, b in zip(results["eager"], results["compiled"]):  # the same mask, the generator left as it was
        assert np.array_equal(a, b)


def test_unfreezing_a_parameter_after_planning_plans_again():
    model = mlp()
    model[0].weight.requires_grad_(False)  # frozen while the plan is made: no gradient goes to it
    run = torch.compile(model)
    x = torch.randn(8, 12)
    for _ in range(3):
        run(x).sum().backward()
    assert model[0].weight.grad is None
    model[0].weight.requires_grad_(True)  # not part of the signature: the plan must notice
    for _ in range(3):
        model.zero_grad()
        run(x).sum().backward()
        got = model[0].weight.grad.numpy().copy()
        model.zero_grad()
        model(x).sum().backward()
        assert np.array_equal(got, model[0].weight.grad.numpy())
    assert isinstance(only_graph(run).flat, flat.Plan)


def test_a_call_where_nothing_requires_grad_runs_flat_in_grad_mode():
    model = mlp().requires_grad_(False)
    run = torch.compile(model)
    x = torch.randn(8, 12)
    for _ in range(3):
        out = run(x)
        assert not out.requires_grad and np.array_equal(out.numpy(), model(x).numpy())
    assert only_graph(run).stats["flat_calls"] == 1


@pytest.mark.parametrize("act", [nn.LeakyReLU(0.1), nn.Hardtanh(-0.5, 0.5), nn.ReLU6(), nn.ELU(),
                                 nn.Softplus(beta=2.0, threshold=1.0)],
                         ids=["leaky", "hardtanh", "relu6", "elu", "softplus"])
def test_masked_activations_run_flat_on_the_masks_of_each_call(act):
    """Their gradient's mask comes from each call's input (LeakyReluGrad, ClampGrad; ELU's and
    Softplus's a comparison operator in their backward): replayed on new values, it must be the
    new values' mask."""
    model = nn.Sequential(nn.Linear(6, 8), act, nn.Linear(8, 2))
    run = torch.compile(model)
    for seed in range(4):
        x = torch.from_numpy(np.random.default_rng(seed).standard_normal((5, 6)).astype(np.float32) * 3)
        (got,) = torch.autograd.grad(run(x).sum(), model[0].weight)
        (want,) = torch.autograd.grad(model(x).sum(), model[0].weight)
        assert np.array_equal(got.numpy(), want.numpy())
    assert only_graph(run).stats["flat_calls"] == 2


def test_batch_norm_in_training_runs_flat_with_its_running_statistics():
    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))

    eager, compiled = make(), make()
    run = torch.compile(compiled)
    for seed in range(4):
        x = torch.from_numpy(np.random.default_rng(seed).standard_normal((5, 2, 6, 6)).astype(np.float32))
        eager(x).sum().backward()
        run(x).sum().backward()
    for (name, a), b in zip(eager.state_dict().items(), compiled.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy()), name  # weights' grads aside: running stats, counter
    for p, q in zip(eager.parameters(), compiled.parameters()):
        assert np.array_equal(p.grad.numpy(), q.grad.numpy())
    assert only_graph(run).stats["flat_calls"] == 2


def test_in_place_writes_into_values_of_the_call_run_flat():
    """A residual block as torchvision writes it: ReLU(inplace=True) and ``out += identity`` (each
    a snapshot, the operator and a write back, steps of the schedule), batch norm in training."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)
            self.conv2, self.bn2 = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += x
            return self.relu(out)

    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), Block(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))

    eager, compiled = make(), make()
    run = torch.compile(compiled)
    for seed in range(4):
        x = torch.from_numpy(np.random.default_rng(seed).standard_normal((3, 2, 6, 6)).astype(np.float32))
        for m in (eager, compiled):
            m.zero_grad()
        eager(x).sum().backward()
        run(x).sum().backward()
        for p, q in zip(eager.parameters(), compiled.parameters()):
            assert np.array_equal(p.grad.numpy(), q.grad.numpy())
        for a, b in zip(eager.state_dict().values(), compiled.state_dict().values()):
            assert np.array_equal(a.numpy(), b.numpy())
    graph = only_graph(run)
    assert {s.name for s in graph.steps if s.effect is not None} >= {"snapshot", "rebase"}
    assert graph.stats["flat_calls"] == 2


def test_an_in_place_write_into_an_argument_stays_on_nodes():
    def f(x, w):
        x.add_(1.0)  # the caller's tensor, written as on nodes
        return x * w

    run = torch.compile(f, backend="eager")
    w = torch.randn(3, requires_grad=True)
    for _ in range(3):
        x, x_eager = torch.zeros(3), torch.zeros(3)
        (g,) = torch.autograd.grad(run(x, w).sum(), w)
        (want,) = torch.autograd.grad(f(x_eager, w).sum(), w)
        assert np.array_equal(g.numpy(), want.numpy()) and x.tolist() == [1.0, 1.0, 1.0]
    graph = only_graph(run)
    assert graph.flat is False and graph.stats["flat"].startswith("an in-place write that involves an argument")


def test_a_non_leaf_input_with_a_hook_keeps_the_graph_on_nodes_and_the_hook_runs_once():
    first, rest = nn.Linear(12, 12), mlp()
    run = torch.compile(rest)
    x = torch.randn(8, 12)
    seen: list = []
    for call in range(3):
        h = first(x)
        h.register_hook(lambda g: seen.append(1))
        run(h).sum().backward()
        assert len(seen) == call + 1
    graph = only_graph(run)
    assert graph.flat is False and graph.stats["flat"] == "a non-leaf input with hooks"


def test_an_in_place_write_into_a_saved_value_raises_on_every_call_as_eager():
    def f(x, w):
        y = torch.tanh(x * w)  # tanh's backward reads y
        y.add_(1.0)
        return y

    run = torch.compile(f, backend="eager")
    w = torch.randn(3, requires_grad=True)
    for _ in range(4):  # the recording backward raises, so no flat plan is ever made
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            run(torch.randn(3), w).sum().backward()
    assert only_graph(run).flat is None


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0])
def test_norms_run_flat_with_each_calls_zeros(p):
    """The norm's gradient masks zero norms and zero entries by comparison operators: a call whose
    values have zeros where the recorded call had none gets its own masks."""
    def f(x):
        return torch.linalg.vector_norm(x, ord=p, dim=1).sum()

    run = torch.compile(f, backend="eager")
    rows = ([[1.0, 2.0], [3.0, -1.0]], [[0.0, 0.0], [3.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]], [[2.0, 1.0], [0.5, 4.0]])
    for values in rows:
        x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(run(x), x)
        (want,) = torch.autograd.grad(f(x), x)
        assert np.array_equal(g.numpy(), want.numpy(), equal_nan=True)
    assert only_graph(run).stats["flat_calls"] == 2


def test_amax_runs_flat_with_each_calls_ties():
    def f(x):
        return torch.amax(x, dim=1).sum()

    run = torch.compile(f, backend="eager")
    for values in ([[1.0, 2.0, 0.0]], [[2.0, 2.0, 1.0]], [[3.0, 3.0, 3.0]], [[0.0, 1.0, 1.0]]):
        x = torch.tensor(values, requires_grad=True)
        (g,) = torch.autograd.grad(run(x), x)
        (want,) = torch.autograd.grad(f(x), x)
        assert np.array_equal(g.numpy(), want.numpy())  # ties share the gradient, per call
    assert only_graph(run).stats["flat_calls"] == 2


def test_maximum_runs_flat_with_each_calls_ties():
    def f(a, b):
        return (torch.maximum(a, b) * 2.0 + torch.minimum(a, b)).sum()

    run = torch.compile(f, backend="eager")
    for av, bv in (([1.0, 2.0], [2.0, 1.0]), ([1.0, 1.0], [2.0, 0.0]), ([3.0, 3.0], [3.0, 3.0]), ([0.0, 5.0], [1.0, 5.0])):
        a, b = torch.tensor(av, requires_grad=True), torch.tensor(bv, requires_grad=True)
        got = torch.autograd.grad(run(a, b), (a, b))
        want = torch.autograd.grad(f(a, b), (a, b))
        for g, w in zip(got, want):  # ties split the gradient in halves, per call
            assert np.array_equal(g.numpy(), w.numpy())
    assert only_graph(run).stats["flat_calls"] == 2


def test_a_second_derivative_through_a_flat_call_updates_running_statistics_once():
    """``create_graph=True`` recomputes the forward on nodes; its batch norm writes go to copies of
    the buffers as they were before the call (they used to update the running statistics, and the
    batch counter, a second time: 5 batches counted after 4)."""
    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 1))

    eager, compiled = make(), make()
    run = torch.compile(compiled)
    for step in range(6):
        x = torch.randn(8, 4)
        grads = []
        for model, fn in ((eager, eager), (compiled, run)):
            out = fn(x).sum()
            if step < 3:  # calls 1-3 record the graph and its backward; the rest run flat
                out.backward()
            else:
                gs = torch.autograd.grad(out, list(model.parameters()), create_graph=True)
                sum(g.square().sum() for g in gs).backward()
            grads.append([p.grad.numpy().copy() for p in model.parameters()])
        for a, b in zip(*grads):
            np.testing.assert_array_equal(a, b)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_array_equal(getattr(compiled[1], name).numpy(), getattr(eager[1], name).numpy())
    assert only_graph(run).stats["flat_calls"] == 4


def test_a_value_read_into_python_after_the_last_operator_is_kept_for_its_guard():
    def f(x):
        y = x * 2.0
        if (y > 0).all():  # the guard is checked after the last step; nothing else reads its value
            return y
        return -y

    run = torch.compile(f)
    for v in (1.0, 2.0, 3.0, 4.0, -1.0):
        x = torch.full((3,), v)
        np.testing.assert_array_equal(run(x).numpy(), f(x).numpy())
    assert sum(g.stats.get("flat_calls", 0) for g in run._compiled.graphs()) >= 2
