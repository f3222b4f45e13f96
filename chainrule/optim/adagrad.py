"""Adagrad: per-coordinate step sizes shrinking with the sum of squared past gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from ._arith import _as, addcdiv_, addcmul_, added
from .optimizer import Optimizer, _check_lr, _check_nonnegative, _use_grad_for_step, _written


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.), as PyTorch computes it.

    At step :math:`t`, with gradient :math:`g` (negated when ``maximize``)::

        g <- g + weight_decay * theta
        lr_t = lr / (1 + (t - 1) * lr_decay)
        S <- S + g^2                       (S starts at initial_accumulator_value)
        theta <- theta - lr_t * g / (sqrt(S) + eps)

    State per parameter (created at construction, as in PyTorch): ``step`` and ``sum`` (S).
    ``foreach`` and ``fused`` change nothing.
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        lr = _check_lr(lr, differentiable)
        _check_nonnegative("lr_decay", lr_decay)
        _check_nonnegative("weight_decay", weight_decay)
        _check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        _check_nonnegative("epsilon", eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:  # the state exists from the start, as in PyTorch
            for p in group["params"]:
                self._new_state(p, group)

    def _init_state(self, p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.array_module(p._data)
        state["sum"] = Tensor._make(xp.full_like(p._data, group["initial_accumulator_value"]))

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p, g, state, step in self._params_with_grad(group):  # a group added later gets its state here
                theta = p._data
                xp = backend.array_module(theta)
                if weight_decay != 0:
                    g = added(g, theta, weight_decay)
                clr = lr / (1.0 + (step - 1.0) * lr_decay)
                total = state["sum"]._data
                tmp = xp.empty_like(theta)
                addcmul_(total, g, g, 1.0, tmp)
                std = xp.sqrt(total)
                std += _as(std, eps)
                addcdiv_(theta, g, std, -clr, tmp)
                _written(p)
