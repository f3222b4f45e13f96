"""LBFGS vs PyTorch: the same iterates, losses, evaluation counts and state, with and without line search."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule import optim

from ._problem import data, initial_arrays, loss_fn, make_params, to_numpy

CONFIGS = [
    {},
    {"lr": 0.5, "max_iter": 5},
    {"history_size": 3, "max_iter": 10},
    {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 7, "max_eval": 9},
    {"lr": 0.8, "tolerance_grad": 1e-3, "tolerance_change": 1e-4},
    {"line_search_fn": "strong_wolfe", "tolerance_change": 1e-3},
]


def _run(framework: str, kwargs: dict, steps: int, dtype=np.float64, params=None, opt=None):
    mod, module = (torch, torch.optim) if framework == "torch" else (chainrule, optim)
    arrays = initial_arrays()
    if params is None:
        params = make_params(framework, arrays, dtype)
    x, y = (mod.tensor(a.astype(dtype)) for a in data())
    # "unused" never receives a gradient: LBFGS treats it as a zero gradient
    if opt is None:
        opt = module.LBFGS(list(params.values()), **kwargs)
    calls = []

    def closure():
        opt.zero_grad()
        loss = loss_fn(mod, params, x, y)
        loss.backward()
        calls.append(float(loss.detach()))
        return loss

    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    return params, opt, losses, calls


@pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
def test_lbfgs_matches_torch_float64(kwargs):
    # The iterates agree to 1e-16 over the first iterations; the curvature pairs then amplify the
    # last-bit differences of the two autograds' gradients (measured: 3e-13 after 20 iterations,
    # 6e-10 after 60), hence tolerances of 1e-9 rather than the first-order optimisers' 1e-12.
    tp, topt, t_losses, t_calls = _run("torch", kwargs, 2)
    cp, copt, c_losses, c_calls = _run("chainrule", kwargs, 2)
    assert len(c_calls) == len(t_calls)  # the same number of closure evaluations
    np.testing.assert_allclose(c_losses, t_losses, rtol=1e-9)
    np.testing.assert_allclose(c_calls, t_calls, rtol=1e-9)
    for key in tp:
        np.testing.assert_allclose(to_numpy(cp[key]), to_numpy(tp[key]), rtol=1e-9, atol=1e-11, err_msg=key)
    t_state, c_state = topt.state_dict()["state"][0], copt.state_dict()["state"][0]
    assert set(c_state) == set(t_state)
    for key, value in t_state.items():
        mine = c_state[key]
        if isinstance(value, list):
            assert len(mine) == len(value), key
            pairs = [(a, b) for a, b in zip(mine, value) if b is not None]
        else:
            pairs = [(mine, value)]
        for a, b in pairs:
            b = b.numpy() if isinstance(b, torch.Tensor) else b
            a = a.numpy() if isinstance(a, chainrule.Tensor) else a
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9, err_msg=key)
    assert c_state["func_evals"] == t_state["func_evals"] and c_state["n_iter"] == t_state["n_iter"]


@pytest.mark.parametrize("kwargs", [CONFIGS[0], CONFIGS[3], CONFIGS[4]], ids=str)
def test_lbfgs_float32_within_torchs_own_float32_error(kwargs):
    """float32 stays float32, and ours is as close to torch's float32 run as torch's is to its float64 run.

    Bit-equality is out of reach: torch's float32 ``dot`` (MKL) sums in an order NumPy's does not,
    and L-BFGS's curvature pairs amplify those last bits over 20 iterations.
    """
    t64, _, _, _ = _run("torch", kwargs, 1)
    t32, _, _, t_calls = _run("torch", kwargs, 1, dtype=np.float32)
    c32, copt, _, c_calls = _run("chainrule", kwargs, 1, dtype=np.float32)
    for key in t32:
        assert c32[key].dtype == chainrule.float32
        gap = np.abs(to_numpy(t32[key]).astype(np.float64) - to_numpy(t64[key])).max()
        ours = np.abs(to_numpy(c32[key]) - to_numpy(t32[key])).max()
        assert ours <= 2 * gap + 1e-7, (key, ours, gap)
    assert copt.state_dict()["state"][0]["d"].dtype == chainrule.float32


def test_lbfgs_state_dict_round_trip_resumes_identically():
    kwargs = {"line_search_fn": "strong_wolfe", "history_size": 4, "max_iter": 4}
    straight, _, _, _ = _run("chainrule", kwargs, 4)
    params, opt, _, _ = _run("chainrule", kwargs, 2)
    saved = opt.state_dict()
    fresh = {k: chainrule.tensor(to_numpy(v), requires_grad=True) for k, v in params.items()}
    opt2 = optim.LBFGS(list(fresh.values()), **kwargs)
    opt2.load_state_dict(saved)
    resumed, _, _, _ = _run("chainrule", kwargs, 2, params=fresh, opt=opt2)
    for key in straight:
        np.testing.assert_array_equal(to_numpy(resumed[key]), to_numpy(straight[key]))


def test_lbfgs_loads_a_torch_state_dict():
    """A state dict written by torch's LBFGS (0-dim tensors for t, ro, H_diag) resumes as torch does."""
    kwargs = {"history_size": 5, "max_iter": 4}
    tp, topt, _, _ = _run("torch", kwargs, 2)
    t_sd = topt.state_dict()

    def convert(v):
        if isinstance(v, torch.Tensor):
            return chainrule.tensor(v.numpy())
        if isinstance(v, list):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        return v

    cp = {k: chainrule.tensor(to_numpy(v), requires_grad=True) for k, v in tp.items()}
    copt = optim.LBFGS(list(cp.values()), **kwargs)
    copt.load_state_dict(convert(t_sd))
    _run("torch", kwargs, 2, params=tp, opt=topt)
    _run("chainrule", kwargs, 2, params=cp, opt=copt)
    for key in tp:
        np.testing.assert_allclose(to_numpy(cp[key]), to_numpy(tp[key]), rtol=1e-10, atol=1e-12)


def test_lbfgs_stops_at_a_stationary_point():
    p = chainrule.zeros(3, requires_grad=True)
    opt = optim.LBFGS([p])
    calls = []

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        calls.append(1)
        return loss

    assert float(opt.step(closure)) == 0.0
    assert len(calls) == 1 and opt.state[p]["func_evals"] == 1 and "d" not in opt.state[p]


def test_lbfgs_errors_match_torch():
    for module, param in ((optim, chainrule.zeros(2, requires_grad=True)), (torch.optim, torch.zeros(2, requires_grad=True))):
        with pytest.raises(ValueError, match="Invalid learning rate: -1"):
            module.LBFGS([param], lr=-1)
        q = param.detach().clone().requires_grad_(True)
        with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
            module.LBFGS([{"params": [param]}, {"params": [q]}])
        opt = module.LBFGS([param], line_search_fn="armijo")

        def closure(opt=opt, param=param):
            opt.zero_grad()
            loss = (param - 1).pow(2).sum()
            loss.backward()
            return loss

        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(closure)
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([chainrule.zeros(1, requires_grad=True)]).step()


def test_lbfgs_defaults_and_repr():
    p = chainrule.zeros(1, requires_grad=True)
    group = optim.LBFGS([p], max_iter=8).param_groups[0]
    t_group = torch.optim.LBFGS([torch.zeros(1, requires_grad=True)], max_iter=8).param_groups[0]
    assert {k: v for k, v in group.items() if k != "params"} == {k: v for k, v in t_group.items() if k != "params"}
    assert repr(optim.LBFGS([p])).startswith("LBFGS (")


def _rosenbrock(mod, x):
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def _run_rosenbrock(framework: str, kwargs: dict, steps: int):
    mod, module = (torch, torch.optim) if framework == "torch" else (chainrule, optim)
    x = mod.tensor(np.array([-1.5, 2.0, -0.5, 1.2, 0.3]), requires_grad=True)
    opt = module.LBFGS([x], **kwargs)
    calls = []

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(mod, x)
        loss.backward()
        calls.append(float(loss.detach()))
        return loss

    for _ in range(steps):
        opt.step(closure)
    return to_numpy(x), calls, opt.state[x]


@pytest.mark.parametrize("kwargs", [
    {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "lr": 50.0, "history_size": 3},  # far too long first steps: zoom
    {"line_search_fn": "strong_wolfe", "max_iter": 50, "tolerance_grad": 1e-4, "tolerance_change": 1e-6},
    {"lr": 0.02, "max_iter": 30},
], ids=str)
def test_lbfgs_rosenbrock_matches_torch(kwargs):
    """A curved valley makes the line search bracket, interpolate and zoom, and the tolerances stop early."""
    t_x, t_calls, t_state = _run_rosenbrock("torch", kwargs, 3)
    c_x, c_calls, c_state = _run_rosenbrock("chainrule", kwargs, 3)
    assert len(c_calls) == len(t_calls) and c_state["n_iter"] == t_state["n_iter"]  # the same branches
    # losses at trial points 1e8 high, where cubic interpolation amplifies last bits: 1e-6
    np.testing.assert_allclose(c_calls, t_calls, rtol=1e-6)
    # rtol: PyTorch's float64 reductions (MKL) round differently with its AVX2 code (AMD EPYC) than
    # with its AVX-512 code, and the strong-Wolfe search carries the last bits on: 1.4e-8 there
    np.testing.assert_allclose(c_x, t_x, rtol=5e-8, atol=1e-10)
