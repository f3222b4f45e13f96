"""NAdam: Adam with Nesterov momentum and Dozat's momentum-decay schedule."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from ._arith import _as, addcdiv_, lerp_, square_avg_, weight_decay_
from .optimizer import (
    Optimizer,
    _check_betas,
    _check_lr,
    _check_nonnegative,
    _new_scalar_state,
    _use_grad_for_step,
    _written,
    _zeros_like,
)


class NAdam(Optimizer):
    r"""NAdam (Dozat), as PyTorch computes it.

    At step :math:`t`, with gradient :math:`g` (negated when ``maximize``)::

        theta <- theta * (1 - lr * weight_decay)   (decoupled_weight_decay; else g <- g + wd * theta)
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
        P_t = P_{t-1} * mu_t                        (mu_product, P_0 = 1)
        m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        theta <- theta - lr * (1 - mu_t) / (1 - P_t) * g / d
                       - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d

    State per parameter: ``step``, ``mu_product`` (a float32 scalar tensor, as in PyTorch),
    ``exp_avg`` (m) and ``exp_avg_sq`` (v). ``foreach`` and ``capturable`` change nothing.
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        lr = _check_lr(lr, differentiable)
        _check_nonnegative("epsilon", eps)
        _check_betas(betas)
        _check_nonnegative("weight_decay", weight_decay)
        _check_nonnegative("momentum_decay", momentum_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["mu_product"] = _new_scalar_state(1.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            momentum_decay, decoupled = float(group["momentum_decay"]), bool(group["decoupled_weight_decay"])
            for p, g, state, step in self._params_with_grad(group):
                theta = p._data
                xp = backend.array_module(theta)
                bias_correction2 = 1.0 - beta2**step
                g = weight_decay_(theta, g, lr, weight_decay, decoupled)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
                mu_product = state["mu_product"]._data
                mu_product *= _as(mu_product, mu)  # rounded in the state's dtype, as PyTorch does
                mu_product_now = float(mu_product)
                mu_product_next = mu_product_now * mu_next

                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                tmp = xp.empty_like(theta)
                lerp_(m, g, 1.0 - beta1, tmp)
                square_avg_(v, g, beta2, tmp)
                denom = v / _as(v, bias_correction2)
                xp.sqrt(denom, out=denom)
                denom += _as(denom, eps)
                addcdiv_(theta, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product_now), tmp)
                addcdiv_(theta, m, denom, (-lr * mu_next) / (1.0 - mu_product_next), tmp)
                _written(p)
