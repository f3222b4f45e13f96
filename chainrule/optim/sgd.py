"""Stochastic gradient descent, with momentum, Nesterov momentum and (coupled) weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..tensor import Tensor
from ._arith import sgd_
from .optimizer import Optimizer, _check_lr, _grad_array, _use_grad_for_step, _written


class SGD(Optimizer):
    r"""Gradient descent with optional momentum (PyTorch's formulation).

    For each parameter :math:`\theta` with gradient :math:`g` (negated when ``maximize``)::

        g <- g + weight_decay * theta
        b <- g                                  (first step)
        b <- momentum * b + (1 - dampening) * g (later steps)
        g <- g + momentum * b   if nesterov else   g <- b        (only when momentum != 0)
        theta <- theta - lr * g

    The buffer ``b`` is kept in ``state[p]["momentum_buffer"]`` (only when ``momentum != 0``).
    Nesterov momentum needs ``momentum > 0`` and ``dampening == 0``. ``foreach`` and ``fused``
    are accepted for compatibility and change nothing.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        lr = _check_lr(lr, differentiable)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach, "differentiable": differentiable,
                    "fused": fused}
        super().__init__(params, defaults)

    @_use_grad_for_step
    def step(self, closure: Callable[[], Any] | None = None):
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov, maximize = bool(group["nesterov"]), bool(group["maximize"])
            for p in group["params"]:
                if p._grad is None:
                    continue
                g = _grad_array(p, maximize)
                buf = self.state[p].get("momentum_buffer") if momentum != 0 else None
                b = sgd_(p._data, g, None if buf is None else buf._data, lr, momentum, dampening, weight_decay,
                         nesterov)  # one fused pass where the compiled kernels take the arrays
                if momentum != 0 and buf is None:  # the first step made the buffer
                    self.state[p]["momentum_buffer"] = Tensor._make(b)
                _written(p)
