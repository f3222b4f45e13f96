"""Adadelta: step sizes from running averages of squared gradients and of squared updates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from ._arith import _as, add_, added, square_avg_
from .optimizer import Optimizer, _check_lr, _check_nonnegative, _use_grad_for_step, _written, _zeros_like


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler), as PyTorch computes it.

    With gradient :math:`g` (negated when ``maximize``)::

        g <- g + weight_decay * theta
        v <- rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u <- rho * u + (1 - rho) * delta^2
        theta <- theta - lr * delta

    State per parameter: ``step``, ``square_avg`` (v) and ``acc_delta`` (u). ``foreach`` and
    ``capturable`` change nothing.
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        lr = _check_lr(lr, differentiable)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonnegative("epsilon", eps)
        _check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["square_avg"] = _zeros_like(p)
        state["acc_delta"] = _zeros_like(p)

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p, g, state, _ in self._params_with_grad(group):
                theta = p._data
                xp = backend.array_module(theta)
                if weight_decay != 0:
                    g = added(g, theta, weight_decay)
                v, u = state["square_avg"]._data, state["acc_delta"]._data
                tmp = xp.empty_like(theta)
                square_avg_(v, g, rho, tmp)
                std = v + _as(v, eps)
                xp.sqrt(std, out=std)
                delta = u + _as(u, eps)
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                square_avg_(u, delta, rho, tmp)
                add_(theta, delta, -lr)
                _written(p)
