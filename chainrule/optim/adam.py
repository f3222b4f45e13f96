"""Adam and AdamW: adaptive moment estimation, with coupled (L2) or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..tensor import Tensor
from ._arith import adam_
from .optimizer import Optimizer, _check_lr, _check_nonnegative, _use_grad_for_step, _written, _zeros_like


class Adam(Optimizer):
    r"""Adam (Kingma & Ba), as PyTorch computes it.

    At step :math:`t`, with gradient :math:`g` (negated when ``maximize``)::

        g <- g + weight_decay * theta            (Adam: L2 penalty folded into the gradient)
        theta <- theta * (1 - lr * weight_decay)  (decoupled_weight_decay, i.e. AdamW, instead)
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v)                   (amsgrad; then v_max replaces v below)
        theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    State per parameter: ``step`` (float32 scalar tensor), ``exp_avg`` (m), ``exp_avg_sq`` (v) and
    ``max_exp_avg_sq`` with amsgrad. ``foreach``, ``fused`` and ``capturable`` are accepted for
    compatibility and change nothing.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        lr = _check_lr(lr, differentiable)
        _check_nonnegative("epsilon", eps)
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        _check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(p)

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps, weight_decay = float(group["eps"]), float(group["weight_decay"])
            amsgrad, decoupled = bool(group["amsgrad"]), bool(group["decoupled_weight_decay"])
            for p, g, state, step in self._params_with_grad(group):
                v_max = state["max_exp_avg_sq"]._data if amsgrad else None
                adam_(p._data, g, state["exp_avg"]._data, state["exp_avg_sq"]._data, v_max, lr=lr, beta1=beta1,
                      beta2=beta2, eps=eps, weight_decay=weight_decay, decoupled=decoupled,
                      step_size=lr / (1.0 - beta1**step), bias_correction2_sqrt=(1.0 - beta2**step) ** 0.5)
                _written(p)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter)::

        theta <- theta * (1 - lr * weight_decay), then the Adam update without any L2 term.

    Same arguments as :class:`Adam`, but ``weight_decay`` defaults to ``1e-2``.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW always decouples, whatever the checkpoint says
            group["decoupled_weight_decay"] = True
