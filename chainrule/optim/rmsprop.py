"""RMSprop: gradient steps scaled by a running root-mean-square of past gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from ._arith import _as, add_, addcdiv_, added, fma_exact, lerp_, square_avg_
from .optimizer import Optimizer, _check_lr, _check_nonnegative, _use_grad_for_step, _written, _zeros_like


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), as PyTorch computes it.

    With gradient :math:`g` (negated when ``maximize``)::

        g <- g + weight_decay * theta
        s <- alpha * s + (1 - alpha) * g^2
        a <- alpha * a + (1 - alpha) * g          (centered only)
        d <- sqrt(s - a^2) + eps   if centered else   sqrt(s) + eps
        b <- momentum * b + g / d;  theta <- theta - lr * b     (momentum > 0)
        theta <- theta - lr * g / d                               (otherwise)

    State per parameter: ``step``, ``square_avg`` (s), ``momentum_buffer`` (b, when momentum > 0)
    and ``grad_avg`` (a, when centered). ``foreach`` and ``capturable`` change nothing.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        lr = _check_lr(lr, differentiable)
        _check_nonnegative("epsilon", eps)
        _check_nonnegative("momentum", momentum)
        _check_nonnegative("weight_decay", weight_decay)
        _check_nonnegative("alpha", alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["square_avg"] = _zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(p)

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
            weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
            centered = bool(group["centered"])
            for p, g, state, _ in self._params_with_grad(group):
                theta = p._data
                xp = backend.array_module(theta)
                if weight_decay != 0:
                    g = added(g, theta, weight_decay)

                s = state["square_avg"]._data
                tmp = xp.empty_like(g)  # scratch space of this update
                square_avg_(s, g, alpha, tmp)
                if centered:
                    a = state["grad_avg"]._data
                    lerp_(a, g, 1.0 - alpha, tmp)
                    avg = fma_exact(-a, a, s, xp.empty_like(s))  # s - a^2 cancels: one rounding
                    xp.sqrt(avg, out=avg)
                else:
                    avg = xp.sqrt(s)
                avg += _as(avg, eps)
                if momentum > 0:
                    b = state["momentum_buffer"]._data
                    b *= _as(b, momentum)
                    addcdiv_(b, g, avg, 1.0, tmp)
                    add_(theta, b, -lr)
                else:
                    addcdiv_(theta, g, avg, -lr, tmp)
                _written(p)
