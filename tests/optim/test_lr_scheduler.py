"""Learning-rate schedules vs PyTorch: the same lr (and momentum) sequences, state dicts, warnings."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import optim
from chainrule.optim import lr_scheduler


class Scale:
    """A callable object: its attributes are saved by LambdaLR.state_dict (functions are not)."""

    def __init__(self, rate: float):
        self.rate = rate

    def __call__(self, epoch: int) -> float:
        return self.rate**epoch


# (id, optimizer name, optimizer kwargs, scheduler factory taking (lr_scheduler module, optimizer), steps)
SCHEDULES = [
    ("StepLR", "SGD", {}, lambda M, o: M.StepLR(o, step_size=3, gamma=0.5), 15),
    ("MultiStepLR", "SGD", {}, lambda M, o: M.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3), 12),
    ("ExponentialLR", "SGD", {}, lambda M, o: M.ExponentialLR(o, gamma=0.9), 15),
    ("CosineAnnealingLR", "SGD", {}, lambda M, o: M.CosineAnnealingLR(o, T_max=7, eta_min=0.001), 30),
    ("CosineAnnealingLR-0", "SGD", {}, lambda M, o: M.CosineAnnealingLR(o, T_max=10), 12),
    ("LinearLR", "SGD", {}, lambda M, o: M.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=6), 10),
    ("LinearLR-default", "SGD", {}, lambda M, o: M.LinearLR(o), 8),
    ("ConstantLR", "SGD", {}, lambda M, o: M.ConstantLR(o, factor=0.5, total_iters=4), 8),
    ("PolynomialLR", "SGD", {}, lambda M, o: M.PolynomialLR(o, total_iters=8, power=2.0), 11),
    ("LambdaLR", "SGD", {}, lambda M, o: M.LambdaLR(o, lambda e: 0.95**e), 10),
    ("LambdaLR-list", "SGD", {}, lambda M, o: M.LambdaLR(o, [lambda e: 1 / (e + 1), Scale(0.8)]), 10),
    ("MultiplicativeLR", "SGD", {}, lambda M, o: M.MultiplicativeLR(o, lambda e: 0.9), 10),
    ("CosineAnnealingWarmRestarts", "SGD", {}, lambda M, o: M.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=0.01), 25),
    ("OneCycleLR-cos", "SGD", {"momentum": 0.9}, lambda M, o: M.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=25), 24),
    ("OneCycleLR-linear", "SGD", {"momentum": 0.9},
     lambda M, o: M.OneCycleLR(o, max_lr=0.3, epochs=4, steps_per_epoch=5, anneal_strategy="linear"), 19),
    ("OneCycleLR-3phase", "SGD", {"momentum": 0.9},
     lambda M, o: M.OneCycleLR(o, max_lr=0.8, total_steps=30, three_phase=True, pct_start=0.25), 29),
    ("OneCycleLR-adam", "Adam", {}, lambda M, o: M.OneCycleLR(o, max_lr=0.01, total_steps=20, div_factor=10.0), 19),
    ("OneCycleLR-nomomentum", "SGD", {},
     lambda M, o: M.OneCycleLR(o, max_lr=0.1, total_steps=12, cycle_momentum=False), 11),
    ("SequentialLR", "SGD", {}, lambda M, o: M.SequentialLR(
        o, [M.LinearLR(o, start_factor=0.1, total_iters=5), M.CosineAnnealingLR(o, T_max=10)], milestones=[5]), 20),
    ("SequentialLR-3", "SGD", {}, lambda M, o: M.SequentialLR(
        o, [M.ConstantLR(o, factor=0.2, total_iters=3), M.ExponentialLR(o, gamma=0.8), M.StepLR(o, 2, 0.5)],
        milestones=[3, 8]), 16),
    ("ChainedScheduler", "SGD", {}, lambda M, o: M.ChainedScheduler(
        [M.ConstantLR(o, factor=0.5, total_iters=3), M.ExponentialLR(o, gamma=0.9)]), 10),
]


def make_opt(module, tensor_fn, name: str, kwargs: dict):
    a, b = tensor_fn([1.0, 2.0], requires_grad=True), tensor_fn([3.0], requires_grad=True)
    return getattr(module, name)([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, **kwargs)


def trace(opt, sched, steps: int) -> list:
    """lr (and momentum / beta1) of every group after construction and after each step."""

    def snapshot():
        groups = opt.param_groups
        return ([g["lr"] for g in groups], [g.get("momentum", g.get("betas", (None,))[0]) for g in groups],
                list(sched.get_last_lr()))

    out = [snapshot()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(snapshot())
    return out


def assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for i, (o, t) in enumerate(zip(ours, theirs)):
        for o_vals, t_vals in zip(o, t):
            np.testing.assert_allclose(np.array(o_vals, dtype=float), np.array(t_vals, dtype=float),
                                       rtol=1e-12, atol=1e-15, err_msg=f"after {i} steps")


@pytest.mark.parametrize("case", SCHEDULES, ids=[c[0] for c in SCHEDULES])
def test_lr_sequence_matches_torch(case):
    _, name, kwargs, factory, steps = case
    topt = make_opt(torch.optim, torch.tensor, name, kwargs)
    copt = make_opt(optim, chainrule.tensor, name, kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the right call order must not warn
        theirs = trace(topt, factory(torch.optim.lr_scheduler, topt), steps)
        ours = trace(copt, factory(lr_scheduler, copt), steps)
    assert_same(ours, theirs)


@pytest.mark.parametrize("case", SCHEDULES, ids=[c[0] for c in SCHEDULES])
def test_state_dicts_resume_identically(case):
    _, name, kwargs, factory, steps = case
    copt = make_opt(optim, chainrule.tensor, name, kwargs)
    sched = factory(lr_scheduler, copt)
    straight = trace(copt, sched, steps)

    copt = make_opt(optim, chainrule.tensor, name, kwargs)
    sched = factory(lr_scheduler, copt)
    half = steps // 2
    first = trace(copt, sched, half)
    opt_state = copt.state_dict()
    opt_state = {"state": {}, "param_groups": copy.deepcopy(opt_state["param_groups"])}
    sched_state = copy.deepcopy(sched.state_dict())
    trace(copt, sched, 2)  # the saved copies must not follow

    opt2 = make_opt(optim, chainrule.tensor, name, kwargs)
    sched2 = factory(lr_scheduler, opt2)  # scheduler first, then the optimiser's groups (PyTorch's order)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    rest = trace(opt2, sched2, steps - half)
    assert_same(first + rest[1:], straight)


@pytest.mark.parametrize(("mode", "threshold_mode", "kw"), [
    ("min", "rel", {}),
    ("min", "abs", {"threshold": 0.05, "patience": 1, "cooldown": 2}),
    ("max", "rel", {"patience": 2, "factor": 0.5, "min_lr": 0.02}),
    ("max", "abs", {"patience": 0, "factor": 0.3, "min_lr": [0.001, 0.01], "eps": 1e-3}),
])
def test_reduce_lr_on_plateau_matches_torch(mode, threshold_mode, kw):
    rng = np.random.default_rng(3)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 6), 0.5 + 0.01 * rng.normal(size=30)]).tolist()
    if mode == "max":
        metrics = [-m for m in metrics]
    seqs, states = [], []
    for M, tfn, state_holder in ((torch.optim, torch.tensor, []), (optim, chainrule.tensor, [])):
        opt = make_opt(M, tfn, "SGD", {})
        sched = M.lr_scheduler.ReduceLROnPlateau(opt, mode=mode, threshold_mode=threshold_mode, **kw)
        seq = []
        for i, m in enumerate(metrics):
            opt.step()
            sched.step(tfn(m) if i % 2 else m)  # numbers and 0-d tensors
            seq.append(([g["lr"] for g in opt.param_groups], list(sched.get_last_lr()), sched.num_bad_epochs,
                        sched.cooldown_counter, float(sched.best)))
            if i == 15:
                state_holder.append(copy.deepcopy(sched.state_dict()))
        seqs.append(seq)
        assert len(state_holder) == 1
        states.append(state_holder[0])
    assert states[1] == states[0]  # the state at step 15, key for key
    ours, theirs = seqs[1], seqs[0]
    for o, t in zip(ours, theirs):
        assert o[2:] == t[2:]
        np.testing.assert_allclose(o[0] + o[1], t[0] + t[1], rtol=1e-12)
    assert min(o[0][0] for o in ours) < 0.1  # the schedule did reduce


def test_reduce_lr_on_plateau_state_round_trip():
    def build():
        opt = make_opt(optim, chainrule.tensor, "SGD", {})
        return opt, lr_scheduler.ReduceLROnPlateau(opt, patience=1, mode="max")

    metrics = [1, 2, 2, 2, 3, 3, 3, 3, 1, 1]
    opt, sched = build()
    for m in metrics[:5]:
        sched.step(m)
    saved_opt, saved = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    for m in metrics[5:]:
        sched.step(m)
    opt2, sched2 = build()
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    for m in metrics[5:]:
        sched2.step(m)
    assert sched2.get_last_lr() == sched.get_last_lr() and sched2.num_bad_epochs == sched.num_bad_epochs


@pytest.mark.parametrize("factory", [
    lambda M, o: M.StepLR(o, step_size=3, gamma=0.5),
    lambda M, o: M.MultiStepLR(o, milestones=[2, 4], gamma=0.3),
    lambda M, o: M.ExponentialLR(o, gamma=0.9),
    lambda M, o: M.CosineAnnealingLR(o, T_max=7),
    lambda M, o: M.LinearLR(o, start_factor=0.5, total_iters=4),
    lambda M, o: M.CosineAnnealingWarmRestarts(o, 2, T_mult=3),
])
def test_step_with_epoch_uses_closed_form(factory):
    out = []
    for M, tfn in ((torch.optim, torch.tensor), (optim, chainrule.tensor)):
        opt = make_opt(M, tfn, "SGD", {})
        sched = factory(M.lr_scheduler, opt)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (5, 1, 9, 3, 12):
                opt.step()
                sched.step(epoch)
                seq.append(list(sched.get_last_lr()))
        out.append(seq)
    np.testing.assert_allclose(out[1], out[0], rtol=1e-12)


def test_warns_when_scheduler_steps_before_optimizer():
    opt = make_opt(optim, chainrule.tensor, "SGD", {})
    sched = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_scheduler_errors():
    opt = make_opt(optim, chainrule.tensor, "SGD", {})
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), 2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, 2, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.ExponentialLR(opt, 0.9)], milestones=[3])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.ReduceLROnPlateau(opt), lr_scheduler.StepLR(opt, 2)], [2])
    with pytest.raises(ValueError, match="either total_steps OR"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="must support momentum"):
        lr_scheduler.OneCycleLR(optim.Adagrad([chainrule.zeros(1, requires_grad=True)]), max_lr=0.1, total_steps=5)
    sgd = optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(sgd, max_lr=0.1, total_steps=2)
    sgd.step()
    sched.step()
    sgd.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        sched.step()
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode sideways is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="sideways")


def test_lambda_state_dict_keeps_callable_objects_only():
    opt = make_opt(optim, chainrule.tensor, "SGD", {})
    scale = Scale(0.5)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, scale])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"rate": 0.5}] and "optimizer" not in state
    scale.rate = 0.1
    sched.load_state_dict(state)
    assert scale.rate == 0.5


def test_checkpoint_through_chainrule_save(tmp_path):
    """Optimiser + scheduler state saved to a file and loaded into fresh objects resumes identically."""

    def build():
        p = chainrule.tensor([1.0, -2.0, 0.5], requires_grad=True)
        opt = optim.AdamW([p], lr=0.05, amsgrad=True)
        sched = lr_scheduler.MultiStepLR(opt, milestones=[3, 5, 5], gamma=0.5)
        return p, opt, sched

    def train(p, opt, sched, steps):
        for _ in range(steps):
            opt.zero_grad()
            ((p - 3.0) ** 2).sum().backward()
            opt.step()
            sched.step()

    p, opt, sched = build()
    train(p, opt, sched, 10)
    expected = p.detach().numpy().copy()

    p, opt, sched = build()
    train(p, opt, sched, 4)
    path = tmp_path / "ckpt.safetensors"
    chainrule.save({"p": p.detach(), "opt": opt.state_dict(), "sched": sched.state_dict()}, path)
    ck = chainrule.load(path)
    p2, opt2, sched2 = build()
    with chainrule.no_grad():
        p2.copy_(ck["p"])
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    train(p2, opt2, sched2, 6)
    np.testing.assert_array_equal(p2.detach().numpy(), expected)
