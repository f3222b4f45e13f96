"""Adagrad: per-coordinate step sizes shrinking with the sum of squared past gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, _bump_step, _check_lr, _grad_array, _new_step_counter, _use_grad_for_step, _written


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
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        state["step"] = _new_step_counter()
        xp = backend.array_module(p._data)
        state["sum"] = Tensor._make(xp.full_like(p._data, group["initial_accumulator_value"]))
        return state

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
            weight_decay, maximize = float(group["weight_decay"]), bool(group["maximize"])
            for p in group["params"]:
                if p._grad is None:
                    continue
                theta = p._data
                xp = backend.array_module(theta)
                g = _grad_array(p, maximize)
                state = self.state[p]
                if len(state) == 0:  # a group added after construction
                    state = self._init_state(p, group)
                step = _bump_step(state["step"])
                if weight_decay != 0:
                    g = g + weight_decay * theta
                clr = lr / (1.0 + (step - 1.0) * lr_decay)
                total = state["sum"]._data
                tmp = xp.multiply(g, g)
                total += tmp
                xp.sqrt(total, out=tmp)
                tmp += eps
                xp.divide(g, tmp, out=tmp)
                tmp *= clr
                theta -= tmp
                _written(p)
