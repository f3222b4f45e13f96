"""A small MLP-like problem whose gradients both frameworks compute with their own autograd."""

from __future__ import annotations

import numpy as np
import torch

import chainrule

SHAPES = {"w1": (5, 3), "b1": (5,), "w2": (2, 5), "b2": (2,), "unused": (3,)}


def initial_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(0.0, 0.7, size=s) for k, s in SHAPES.items()}


def data(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(7, 3)), rng.normal(size=(7, 2))


def loss_fn(mod, p: dict, x, y):
    """Squared error of a tanh MLP plus a quartic term, written once for both frameworks.

    ``unused`` takes no part, so its gradient stays None and optimisers must skip it.
    """
    h = mod.tanh(x @ p["w1"].T + p["b1"])
    out = h @ p["w2"].T + p["b2"]
    return ((out - y) ** 2).sum() / 7 + 0.05 * (p["w1"] ** 4).sum()


def make_params(framework: str, arrays: dict[str, np.ndarray], dtype=np.float64) -> dict:
    if framework == "torch":
        return {k: torch.tensor(a.astype(dtype), requires_grad=True) for k, a in arrays.items()}
    return {k: chainrule.tensor(a.astype(dtype), requires_grad=True) for k, a in arrays.items()}


def groups(params: dict, second_group: dict | None = None) -> list:
    """Two param groups: the first layer (optimizer defaults) and the rest (optionally overridden)."""
    first = {"params": [params["w1"], params["b1"]]}
    rest = {"params": [params["w2"], params["b2"], params["unused"]], **(second_group or {})}
    return [first, rest]


def run(framework: str, build, steps: int, arrays: dict, dtype=np.float64, opt=None, params=None):
    """Take ``steps`` steps; returns (params, optimizer, list of parameter snapshots)."""
    mod = torch if framework == "torch" else chainrule
    x, y = data()
    xt = (torch.tensor if framework == "torch" else chainrule.tensor)(x.astype(dtype))
    yt = (torch.tensor if framework == "torch" else chainrule.tensor)(y.astype(dtype))
    if params is None:
        params = make_params(framework, arrays, dtype)
    if opt is None:
        opt = build(params)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(mod, params, xt, yt).backward()
        opt.step()
        history.append({k: to_numpy(v) for k, v in params.items()})
    return params, opt, history


def to_numpy(t) -> np.ndarray:
    return t.detach().numpy().copy()
