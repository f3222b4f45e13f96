"""Optimisers vs PyTorch: the same parameter trajectory, state, state dicts and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule import optim
from chainrule.nn.parameter import Parameter

from ._problem import groups, initial_arrays, run, to_numpy

# (name, constructor kwargs, overrides for the second param group)
CONFIGS = [
    ("SGD", {"lr": 0.1}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, {"lr": 0.02}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {"momentum": 0.5}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}, {"weight_decay": 0.0}),
    ("SGD", {"lr": 0.01, "momentum": 0.7, "weight_decay": 0.05, "maximize": True}, {}),
    ("SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weight_decay": 0.02}, {}),
    ("Adam", {"lr": 0.05}, {"lr": 0.01}),
    ("Adam", {"lr": 0.05, "amsgrad": True}, {}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}, {"weight_decay": 0.0}),
    ("Adam", {"lr": 0.02, "maximize": True}, {}),
    ("Adam", {"lr": 0.05, "betas": (0.3, 0.5), "eps": 1e-3}, {"betas": (0.6, 0.9)}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "amsgrad": True}, {}),
    ("AdamW", {"lr": 0.05}, {}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.2, "amsgrad": True}, {"weight_decay": 0.0}),
    ("AdamW", {"lr": 0.02, "maximize": True, "betas": (0.8, 0.99)}, {}),
    ("RMSprop", {"lr": 0.01}, {}),
    ("RMSprop", {"lr": 0.01, "centered": True}, {"lr": 0.005}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}, {}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}, {}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.3, "centered": True, "maximize": True}, {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-2}, {"alpha": 0.6}),
    ("Adagrad", {"lr": 0.1}, {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}, {"lr": 0.3}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}, {}),
    ("Adagrad", {"lr": 0.05, "eps": 1e-3, "maximize": True}, {}),
    ("Adadelta", {}, {"lr": 0.5}),
    ("Adadelta", {"lr": 2.0, "rho": 0.5, "eps": 1e-4, "weight_decay": 0.1}, {"rho": 0.95}),
    ("Adadelta", {"lr": 1.0, "maximize": True}, {}),
    ("Adamax", {"lr": 0.05}, {"lr": 0.01}),
    ("Adamax", {"lr": 0.05, "betas": (0.5, 0.8), "eps": 1e-3, "weight_decay": 0.1}, {"weight_decay": 0.0}),
    ("Adamax", {"lr": 0.02, "maximize": True}, {}),
    ("NAdam", {"lr": 0.05}, {"lr": 0.01}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.1, "weight_decay": 0.1}, {"betas": (0.7, 0.9)}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}, {}),
    ("NAdam", {"lr": 0.02, "maximize": True, "eps": 1e-3}, {}),
    ("RAdam", {"lr": 0.05}, {"lr": 0.01}),
    ("RAdam", {"lr": 0.05, "betas": (0.8, 0.7)}, {"betas": (0.9, 0.99)}),  # rectified from step 10 / 6
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "betas": (0.9, 0.5)}, {"weight_decay": 0.0}),  # never rectified
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}, {}),
    ("ASGD", {"lr": 0.05}, {"lr": 0.01}),
    ("ASGD", {"lr": 0.05, "lambd": 0.1, "alpha": 0.5, "t0": 5}, {"t0": 12}),  # averaging starts mid-run
    ("ASGD", {"lr": 0.01, "weight_decay": 0.1, "t0": 0, "maximize": True}, {}),
]


def _id(cfg) -> str:
    name, kw, g2 = cfg
    parts = [f"{k}={v}" for k, v in kw.items()] + [f"g2.{k}={v}" for k, v in g2.items()]
    return name + "(" + ",".join(parts) + ")"


def builder(framework: str, name: str, kwargs: dict, g2: dict):
    if framework == "torch":
        return lambda params: getattr(torch.optim, name)(groups(params, g2), foreach=False, **kwargs)
    return lambda params: getattr(optim, name)(groups(params, g2), foreach=False, **kwargs)


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_trajectory_matches_torch_float64(cfg):
    name, kwargs, g2 = cfg
    arrays = initial_arrays()
    _, topt, t_hist = run("torch", builder("torch", name, kwargs, g2), 20, arrays)
    params, copt, c_hist = run("chainrule", builder("chainrule", name, kwargs, g2), 20, arrays)
    for step, (ts, cs) in enumerate(zip(t_hist, c_hist)):
        for key in ts:
            np.testing.assert_allclose(cs[key], ts[key], rtol=1e-10, atol=1e-12, err_msg=f"step {step + 1} {key}")
    # a parameter without gradient is neither moved nor given state (same as torch)
    np.testing.assert_array_equal(c_hist[-1]["unused"], arrays["unused"])
    # the optimiser state (buffers, step counters) agrees too
    t_sd, c_sd = topt.state_dict(), copt.state_dict()
    assert sorted(t_sd["state"]) == sorted(c_sd["state"])
    for idx, t_state in t_sd["state"].items():
        assert set(t_state) == set(c_sd["state"][idx])
        for key, value in t_state.items():
            np.testing.assert_allclose(c_sd["state"][idx][key].numpy(), value.numpy(), rtol=1e-10, atol=1e-14)
    for t_group, c_group in zip(t_sd["param_groups"], c_sd["param_groups"]):
        assert list(t_group) == list(c_group)  # the same keys in the same order
        for key, value in c_group.items():
            assert t_group[key] == value, key


@pytest.mark.parametrize("cfg", CONFIGS[::3], ids=_id)
def test_float32_stays_float32_and_matches(cfg):
    name, kwargs, g2 = cfg
    arrays = initial_arrays()
    _, _, t_hist = run("torch", builder("torch", name, kwargs, g2), 20, arrays, dtype=np.float32)
    params, copt, c_hist = run("chainrule", builder("chainrule", name, kwargs, g2), 20, arrays, dtype=np.float32)
    for key in t_hist[-1]:
        assert c_hist[-1][key].dtype == np.float32
        # atol: PyTorch's float32 sqrt is one ulp low for 0.7% (AVX-512 MKL) to 16% (AVX2 MKL, AMD
        # EPYC) of inputs; after 20 Adadelta steps that is 2.4e-6 on an element of 7.8e-3 there
        np.testing.assert_allclose(c_hist[-1][key], t_hist[-1][key], rtol=2e-5, atol=4e-6)
    for state in copt.state.values():
        for key, value in state.items():
            assert value.dtype == chainrule.float32, key


def _copy_state_dict(sd):
    """A deep copy of an optimiser state dict (state tensors are returned by reference)."""
    if isinstance(sd, chainrule.Tensor):
        return sd.clone()
    if isinstance(sd, dict):
        return {k: _copy_state_dict(v) for k, v in sd.items()}
    if isinstance(sd, (list, tuple)):
        return type(sd)(_copy_state_dict(v) for v in sd)
    return sd


@pytest.mark.parametrize("cfg", CONFIGS[1::2], ids=_id)
def test_state_dict_round_trip_resumes_identically(cfg):
    name, kwargs, g2 = cfg
    arrays = initial_arrays()
    build = builder("chainrule", name, kwargs, g2)
    _, _, straight = run("chainrule", build, 16, arrays)

    params, opt, _ = run("chainrule", build, 7, arrays)
    saved = _copy_state_dict(opt.state_dict())
    mid = {k: to_numpy(v) for k, v in params.items()}
    run("chainrule", build, 3, arrays, opt=opt, params=params)  # keeps going: must not alter `saved`

    fresh = {k: chainrule.tensor(v, requires_grad=True) for k, v in mid.items()}
    opt2 = build(fresh)
    opt2.load_state_dict(saved)
    _, _, resumed = run("chainrule", build, 9, arrays, opt=opt2, params=fresh)
    # NAdam's float32 ``mu_product`` takes the parameters' dtype on loading, as in PyTorch, so the
    # resumed run multiplies it on in float64: equal to the last few digits only
    rtol = 1e-10 if name == "NAdam" else 0.0
    for key in straight[-1]:
        np.testing.assert_allclose(resumed[-1][key], straight[-1][key], rtol=rtol, atol=0)


def test_load_state_dict_copies_and_casts():
    p = chainrule.tensor([1.0, 2.0], dtype=chainrule.float32, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    sd = {"state": {0: {"step": chainrule.tensor(3.0), "exp_avg": chainrule.tensor([0.5, 0.5], dtype=chainrule.float64),
                        "exp_avg_sq": chainrule.tensor([1.0, 1.0])}},
          "param_groups": [{**opt.state_dict()["param_groups"][0], "lr": 0.25}]}
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.25 and opt.param_groups[0]["params"][0] is p
    state = opt.state[p]
    assert state["exp_avg"].dtype == chainrule.float32  # cast to the parameter's dtype
    assert state["step"].dtype == chainrule.float32
    p.grad = chainrule.ones(2)
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), [0.5, 0.5])  # the input is untouched
    assert sd["param_groups"][0]["params"] == [0]


def test_load_state_dict_mismatch_errors():
    a, b = chainrule.zeros(2, requires_grad=True), chainrule.zeros(3, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


@pytest.mark.parametrize(("name", "kwargs", "message"), [
    ("SGD", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("SGD", {"lr": 0.1, "momentum": -1}, "Invalid momentum value: -1"),
    ("SGD", {"lr": 0.1, "weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("SGD", {"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "Nesterov momentum requires"),
    ("Adam", {"lr": -1e-3}, "Invalid learning rate: -0.001"),
    ("Adam", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("Adam", {"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0: 1.0"),
    ("AdamW", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("AdamW", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("RMSprop", {"alpha": -0.5}, "Invalid alpha value: -0.5"),
    ("RMSprop", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value: -1"),
    ("Adagrad", {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value: -1"),
    ("Adadelta", {"lr": -1}, "Invalid learning rate: -1"),
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
    ("Adadelta", {"eps": -1e-6}, "Invalid epsilon value: -1e-06"),
    ("Adadelta", {"weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
    ("Adamax", {"lr": -1}, "Invalid learning rate: -1"),
    ("Adamax", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ("Adamax", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("NAdam", {"lr": -1}, "Invalid learning rate: -1"),
    ("NAdam", {"betas": (-0.1, 0.9)}, "Invalid beta parameter at index 0: -0.1"),
    ("NAdam", {"momentum_decay": -1}, "Invalid momentum_decay value: -1"),
    ("NAdam", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("RAdam", {"lr": -1}, "Invalid learning rate: -1"),
    ("RAdam", {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1: 1.5"),
    ("RAdam", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("ASGD", {"lr": -1}, "Invalid learning rate: -1"),
    ("ASGD", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("LBFGS", {"lr": -1}, "Invalid learning rate: -1"),
])
def test_invalid_hyper_parameters_match_torch(name, kwargs, message):
    for module, param in ((optim, chainrule.zeros(2, requires_grad=True)), (torch.optim, torch.zeros(2, requires_grad=True))):
        with pytest.raises(ValueError) as info:
            getattr(module, name)([param], **kwargs)
        assert str(info.value) == message or str(info.value).startswith(message)


OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "LBFGS"]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_signature_and_defaults_match_torch(name):
    """Same parameter names, order, kinds and defaults; the defaults land in the param groups."""
    import inspect

    ours, theirs = getattr(optim, name), getattr(torch.optim, name)
    def shape(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]

    assert shape(ours) == shape(theirs)
    kwargs = {"lr": 0.1} if name == "SGD" else {}
    opt = ours([chainrule.zeros(2, requires_grad=True)], **kwargs)
    t_opt = theirs([torch.zeros(2, requires_grad=True)], **kwargs)
    assert list(opt.defaults.items()) == list(t_opt.defaults.items())  # same keys, order and values
    group, t_group = opt.param_groups[0], t_opt.param_groups[0]
    assert list(group) == list(t_group)
    assert all(group[key] == t_group[key] for key in group if key != "params")


@pytest.mark.parametrize("name", OPTIMIZERS[:-1])
def test_implementation_switches_are_accepted(name):
    import inspect

    p = chainrule.zeros(2, requires_grad=True)
    accepted = inspect.signature(getattr(torch.optim, name).__init__).parameters
    kwargs = {k: False for k in ("foreach", "capturable", "fused") if k in accepted}
    getattr(optim, name)([p], lr=0.1, **kwargs, differentiable=False)
    with pytest.raises(RuntimeError, match="differentiable"):
        getattr(optim, name)([p], lr=0.1, differentiable=True)


def test_param_group_errors():
    a, b = chainrule.zeros(2, requires_grad=True), chainrule.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {a, b}}], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([a, a], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": a})


def test_add_param_group_fills_defaults_and_named_params():
    a, b = chainrule.zeros(2, requires_grad=True), chainrule.zeros(2, requires_grad=True)
    opt = optim.SGD([("a", a)], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [("b", b)], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[0]["param_names"] == ["a"] and opt.param_groups[1]["params"] == [b]
    assert opt.state_dict()["param_groups"][1]["params"] == [1]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [chainrule.zeros(1, requires_grad=True)]})


def test_zero_grad():
    p = chainrule.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_closure_step_returns_loss_and_matches_torch():
    arrays = initial_arrays()
    from ._problem import data, loss_fn, make_params

    out = {}
    for fw, mod, M in (("torch", torch, torch.optim), ("chainrule", chainrule, optim)):
        params = make_params(fw, arrays)
        x, y = (mod.tensor(a) for a in data())
        opt = M.SGD(list(params.values()), lr=0.05, momentum=0.9)
        losses = []

        def closure(opt=opt, params=params, x=x, y=y, mod=mod):
            opt.zero_grad()
            loss = loss_fn(mod, params, x, y)
            loss.backward()
            return loss

        for _ in range(5):
            losses.append(float(opt.step(closure).detach()))
        out[fw] = (losses, to_numpy(params["w1"]))
    np.testing.assert_allclose(out["chainrule"][0], out["torch"][0], rtol=1e-12)
    np.testing.assert_allclose(out["chainrule"][1], out["torch"][1], rtol=1e-12)


def test_step_hooks_and_version_counter():
    p = Parameter(chainrule.tensor([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o is opt)))
    y = p * p  # saves p for backward
    y.sum().backward(retain_graph=True)
    opt.step()
    assert calls == [("pre", True), ("post", True)]
    h1.remove()
    opt.step()
    assert calls[-1] == ("post", True) and len(calls) == 3
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):  # p changed after being saved
        y.sum().backward()


def test_parameter_subclass_and_skips_none_grad():
    w = Parameter(chainrule.tensor([[1.0, 2.0]]))
    frozen = Parameter(chainrule.tensor([3.0]))
    opt = optim.Adam([w, frozen], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert isinstance(w, Parameter) and frozen.tolist() == [3.0]
    assert frozen not in opt.state and len(opt.state[w]) == 3


def test_repr_lists_groups():
    p = chainrule.zeros(1, requires_grad=True)
    text = repr(optim.SGD([p], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


def test_differentiable_is_refused():
    with pytest.raises(RuntimeError, match="differentiable"):
        optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=0.1, differentiable=True)
