"""RAdam: Adam whose adaptive step is switched on gradually, as the variance estimate becomes reliable."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from ._arith import _as, lerp_, square_avg_, weight_decay_
from .optimizer import (
    Optimizer,
    _check_betas,
    _check_lr,
    _check_nonnegative,
    _use_grad_for_step,
    _written,
    _zeros_like,
)


class RAdam(Optimizer):
    r"""RAdam (Liu et al.), as PyTorch computes it.

    At step :math:`t`, with gradient :math:`g` (negated when ``maximize``)::

        theta <- theta * (1 - lr * weight_decay)   (decoupled_weight_decay; else g <- g + wd * theta)
        m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        theta <- theta - lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t   (rho_t > 5)
        theta <- theta - lr * m / (1 - beta1^t)                                               (otherwise)

    State per parameter: ``step``, ``exp_avg`` (m) and ``exp_avg_sq`` (v). ``foreach`` and
    ``capturable`` change nothing.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        lr = _check_lr(lr, differentiable)
        _check_nonnegative("epsilon", eps)
        _check_betas(betas)
        _check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            decoupled = bool(group["decoupled_weight_decay"])
            for p, g, state, step in self._params_with_grad(group):
                theta = p._data
                xp = backend.array_module(theta)
                g = weight_decay_(theta, g, lr, weight_decay, decoupled)
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                tmp = xp.empty_like(theta)
                lerp_(m, g, 1.0 - beta1, tmp)
                square_avg_(v, g, beta2, tmp)

                bias_correction1 = 1.0 - beta1**step
                bias_correction2 = 1.0 - beta2**step
                update = m / _as(m, bias_correction1)
                update *= _as(update, lr)
                rho_inf = 2.0 / (1.0 - beta2) - 1.0
                rho_t = rho_inf - 2.0 * step * (beta2**step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)) ** 0.5
                    xp.sqrt(v, out=tmp)
                    tmp += _as(tmp, eps)
                    xp.reciprocal(tmp, out=tmp)  # PyTorch's ``number / tensor`` is ``tensor.reciprocal() * number``
                    tmp *= _as(tmp, bias_correction2**0.5)  # the adaptive learning rate
                    update *= tmp
                    update *= _as(update, rect)
                theta -= update
                _written(p)
