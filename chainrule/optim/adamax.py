"""Adamax: Adam with the infinity norm of past gradients in place of their root mean square."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from ._arith import _as, addcdiv_, added, lerp_
from .optimizer import Optimizer, _check_betas, _check_lr, _check_nonnegative, _use_grad_for_step, _written, _zeros_like


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, section 7), as PyTorch computes it.

    At step :math:`t`, with gradient :math:`g` (negated when ``maximize``)::

        g <- g + weight_decay * theta
        m <- beta1 * m + (1 - beta1) * g
        u <- max(beta2 * u, |g| + eps)
        theta <- theta - lr / (1 - beta1^t) * m / u

    State per parameter: ``step``, ``exp_avg`` (m) and ``exp_inf`` (u). ``foreach`` and
    ``capturable`` change nothing.
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        lr = _check_lr(lr, differentiable)
        _check_nonnegative("epsilon", eps)
        _check_betas(betas)
        _check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["exp_avg"] = _zeros_like(p)
        state["exp_inf"] = _zeros_like(p)

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            for p, g, state, step in self._params_with_grad(group):
                theta = p._data
                xp = backend.array_module(theta)
                if weight_decay != 0:
                    g = added(g, theta, weight_decay)
                m, u = state["exp_avg"]._data, state["exp_inf"]._data
                tmp = xp.empty_like(theta)
                lerp_(m, g, 1.0 - beta1, tmp)
                u *= _as(u, beta2)
                xp.abs(g, out=tmp)
                tmp += _as(tmp, eps)
                xp.maximum(u, tmp, out=u)
                clr = lr / (1.0 - beta1**step)
                addcdiv_(theta, m, u, -clr, tmp)
                _written(p)
