"""In-place update primitives that round as PyTorch's CPU kernels do (``add_(alpha=)``, ``addcmul_``, ``lerp_``...).

An optimiser's float32 trajectory is a long chain of roundings; near a minimum some optimisers
(RMSprop, Adam) take steps of a fixed size whose direction flips with the sign of tiny numbers,
so one differently rounded operation per step grows into a visible drift after a few thousand
steps. PyTorch's CPU kernels (measured for 2.13 on x86-64 with FMA):

* ``x.add_(y, alpha=a)``        -> ``fma(a, y, x)``              (one rounding)
* ``x.addcmul_(u, v, value=a)`` -> ``fma(a * u, v, x)``          (``a * u`` rounded first)
* ``x.addcdiv_(u, v, value=a)`` -> ``x + (a * u) / v``          (three roundings, no fusion)
* ``x.lerp_(y, w)``             -> ``fma(w, y - x, x)`` if ``|w| < 0.5`` else ``fma(w - 1, y - x, y)``
* ``x.mul_(a)``, ``x / a``      -> plain, with ``a`` rounded to the tensor's dtype first

The helpers below compute exactly these, through the ``optim`` kernel family (``kernels.call``):
the reference (``kernels/numpy/optim.py``) evaluates a fused multiply-add of float32 (and
float16) arrays in float64, where the product of two float32 numbers is exact, and rounds once;
the compiled backend does the same element by element in one pass, with the same bits. float64
arrays use a plain multiply and add (one extra rounding at 1e-16, far below anything the float64
tests resolve), except :func:`fma_exact`, which adds the product's rounding error back (Dekker's
two-product) for the one place where it matters in float64 too: centered RMSprop's ``s - a^2``,
a difference of two nearly equal numbers once the gradient settles. ``sgd_`` and ``adam_`` are
whole steps of SGD and Adam (see the kernels' docstrings).

Scalars follow PyTorch's rule for Python numbers: they take the array's dtype before use.
``tmp`` arguments are scratch arrays of the updated array's shape that the reference may use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend, kernels


def _as(x, value: float):
    """A Python number as a scalar of ``x``'s dtype (PyTorch rounds scalars to the tensor's dtype)."""
    return x.dtype.type(value)


def _operand(xp, x):
    """An operand of ``fma`` as an array: a scalar becomes a 0-d array of its own dtype, so that
    ``kernels.select`` sees the dtype it computes in."""
    return x if isinstance(x, np.ndarray) or np.ndim(x) > 0 else xp.asarray(x)


def fma(a: Any, b: Any, c: Any, out) -> Any:
    """``out = a * b + c`` with a single rounding when ``out`` is narrower than float64."""
    xp = backend.array_module(out)
    return kernels.call("optim", "fma", xp, _operand(xp, a), _operand(xp, b), _operand(xp, c), out)


def fma_exact(a: Any, b: Any, c: Any, out) -> Any:
    """``out = a * b + c``, the product's rounding error added back in float64 too (Dekker).

    Correctly rounded whenever ``a * b + c`` cancels (then ``p + c`` is exact), within one unit
    in the last place otherwise.
    """
    if out.dtype.kind == "f" and out.dtype.itemsize < 8:  # their float64 product is exact: a plain fma
        return fma(a, b, c, out)
    xp = backend.array_module(out)
    return kernels.call("optim", "fma_exact", xp, _operand(xp, a), _operand(xp, b), _operand(xp, c), out)


def add_(x, y, alpha: float = 1.0) -> None:
    """PyTorch's ``x.add_(y, alpha=alpha)``: ``x += alpha * y``, fused."""
    kernels.call("optim", "add_", backend.array_module(x), x, y, alpha=alpha)


def added(x, y, alpha: float):
    """PyTorch's out-of-place ``x.add(y, alpha=alpha)`` (a new array)."""
    return kernels.call("optim", "added", backend.array_module(x), x, y, alpha=alpha)


def addcmul_(x, u, v, value: float = 1.0, tmp=None) -> None:
    """PyTorch's ``x.addcmul_(u, v, value=value)``: ``x = fma(value * u, v, x)``."""
    kernels.call("optim", "addcmul_", backend.array_module(x), x, u, v, value=value, tmp=tmp)


def addcdiv_(x, u, v, value: float = 1.0, tmp=None) -> None:
    """PyTorch's ``x.addcdiv_(u, v, value=value)``: ``x += (value * u) / v``, rounding each step."""
    kernels.call("optim", "addcdiv_", backend.array_module(x), x, u, v, value=value, tmp=tmp)


def lerp_(start, end, weight: float, tmp=None) -> None:
    """PyTorch's ``start.lerp_(end, weight)``: ``start + weight * (end - start)``, fused, two-branch.

    For ``|weight| >= 0.5`` it is ``end + (weight - 1) * (end - start)`` (with ``weight - 1``
    computed in the array's dtype), which is exact at ``weight == 1``.
    """
    kernels.call("optim", "lerp_", backend.array_module(start), start, end, weight=weight, tmp=tmp)


def square_avg_(avg, g, decay: float, tmp=None) -> None:
    """``avg.mul_(decay).addcmul_(g, g, value=1 - decay)``: the running mean of ``g^2``."""
    kernels.call("optim", "square_avg_", backend.array_module(avg), avg, g, decay=decay, tmp=tmp)


def sgd_(theta, g, buf, lr: float, momentum: float, dampening: float, weight_decay: float, nesterov: bool):
    """One step of SGD on ``theta`` in place (``kernels/numpy/optim.sgd_``); returns the momentum
    buffer: ``buf`` updated in place, a new one when ``buf`` is None and ``momentum != 0``, None
    when ``momentum == 0``."""
    return kernels.call("optim", "sgd_", backend.array_module(theta), theta, g, buf=buf, lr=lr, momentum=momentum,
                        dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)


def adam_(theta, g, m, v, v_max, *, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
          decoupled: bool, step_size: float, bias_correction2_sqrt: float) -> None:
    """One step of Adam (AdamW when ``decoupled``) on ``theta``, ``m``, ``v`` and, with amsgrad,
    ``v_max`` in place (``kernels/numpy/optim.adam_``)."""
    kernels.call("optim", "adam_", backend.array_module(theta), theta, g, m, v, v_max=v_max, lr=lr, beta1=beta1,
                 beta2=beta2, eps=eps, weight_decay=weight_decay, decoupled=decoupled, step_size=step_size,
                 bias_correction2_sqrt=bias_correction2_sqrt)


def weight_decay_(theta, g, lr: float, weight_decay: float, decoupled: bool):
    """The weight-decay step of Adam, AdamW, NAdam and RAdam; returns the gradient to use.

    Decoupled (AdamW's): ``theta *= 1 - lr wd`` in place, the gradient unchanged; otherwise the
    L2 term joins the gradient, ``g + wd theta`` (a new array). No-op for ``weight_decay == 0``.
    """
    if weight_decay == 0:
        return g
    if decoupled:
        theta *= _as(theta, 1.0 - lr * weight_decay)
        return g
    return added(g, theta, weight_decay)
