"""ASGD: stochastic gradient descent with a decaying step and a running (Polyak) average of the iterates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor
from ._arith import _as, add_, added
from .optimizer import (
    Optimizer,
    _check_lr,
    _check_nonnegative,
    _new_scalar_state,
    _use_grad_for_step,
    _written,
    _zeros_like,
)


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky; the step schedule of Bottou), as PyTorch computes it.

    At step :math:`t`, with gradient :math:`g` (negated when ``maximize``) and the ``eta``,
    ``mu`` of the previous step (``eta_0 = lr``, ``mu_0 = 1``)::

        g <- g + weight_decay * theta
        theta <- theta * (1 - lambd * eta) - eta * g
        ax <- ax + mu * (theta - ax)          (ax <- theta while mu == 1)
        eta <- lr / (1 + lambd * lr * t)^alpha
        mu <- 1 / max(1, t - t0)

    ``ax`` is the averaged parameter (averaging starts after ``t0`` steps). State per parameter:
    ``step``, ``eta`` and ``mu`` (float32 scalar tensors, as in PyTorch) and ``ax``. ``foreach``
    and ``capturable`` change nothing.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        lr = _check_lr(lr, differentiable)
        _check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["eta"] = _new_scalar_state(float(group["lr"]))
        state["mu"] = _new_scalar_state(1.0)
        state["ax"] = _zeros_like(p)

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr, lambd, alpha = float(group["lr"]), float(group["lambd"]), float(group["alpha"])
            t0, weight_decay = float(group["t0"]), float(group["weight_decay"])
            for p, g, state, step in self._params_with_grad(group):
                theta = p._data
                xp = backend.array_module(theta)
                if weight_decay != 0:
                    g = added(g, theta, weight_decay)
                eta, mu = state["eta"]._data, state["mu"]._data
                eta_value = float(eta)  # the float32 value PyTorch reads back with .item()
                theta *= _as(theta, 1.0 - lambd * eta_value)
                add_(theta, g, -eta_value)
                ax = state["ax"]._data
                if float(mu) != 1.0:
                    diff = xp.subtract(theta, ax)
                    diff *= mu.astype(diff.dtype)
                    ax += diff
                else:
                    ax[...] = theta
                # PyTorch makes each new value a float32 tensor before copying it into the state
                eta[...] = np.float32(lr / ((1.0 + lambd * lr * step) ** alpha))
                mu[...] = np.float32(1.0 / max(1.0, step - t0))
                _written(p)
