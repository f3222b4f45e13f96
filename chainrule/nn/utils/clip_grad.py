"""Gradient clipping by global norm and by value (PyTorch's ``torch.nn.utils.clip_grad``).

All functions work on ``p.grad`` in place, outside the graph, and skip parameters whose
``grad`` is None. ``foreach`` is accepted for compatibility; chainrule has one implementation.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable

from ... import _factory, backend
from ...autograd.grad_mode import no_grad
from ...ops.compare import isfinite
from ...ops.elementwise import clamp
from ...ops.join import stack
from ...ops.reduction import norm
from ...tensor import Tensor

TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(tensors: TensorOrTensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(tensors: TensorOrTensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one vector:
    ||(||t_1||, ..., ||t_k||)|| (``inf``: the largest absolute entry)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _factory.tensor(0.0)
    with no_grad():
        norms = [norm(t, norm_type) for t in tensors]
        dt = norms[0].dtype
        for n in norms[1:]:
            dt = backend.promote_types(dt, n.dtype)
        total = norm(stack([n.to(dt) for n in norms]), norm_type)
    if error_if_nonfinite and not bool(isfinite(total).item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6))."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    with no_grad():
        coef = clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))


def clip_grad_norm_(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their joint ``norm_type``-norm is at most ``max_norm``.

    g <- g * min(1, max_norm / (||g||_total + 1e-6)); returns the total norm before clipping.
    A non-finite norm raises with ``error_if_nonfinite``, else it propagates into the gradients.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        was_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if was_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated spelling of ``clip_grad_norm_``."""
    warnings.warn("`chainrule.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`chainrule.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)


__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]
