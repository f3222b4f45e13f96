"""The optimisers' in-place updates, rounded as PyTorch's CPU kernels round: the ``optim`` family's
reference.

PyTorch's CPU kernels (2.13 on x86-64 with FMA) compute

* ``x.add_(y, alpha=a)``        as ``fma(a, y, x)``              (one rounding)
* ``x.addcmul_(u, v, value=a)`` as ``fma(a * u, v, x)``          (``a * u`` rounded first)
* ``x.addcdiv_(u, v, value=a)`` as ``x + (a * u) / v``          (three roundings, no fusion)
* ``x.lerp_(y, w)``             as ``fma(w, y - x, x)`` if ``|w| < 0.5`` else ``fma(w - 1, y - x, y)``
* ``x.mul_(a)``, ``x / a``      plainly, with ``a`` rounded to the tensor's dtype first

and these kernels compute exactly that. A fused multiply-add of float32 (or float16) arrays is
evaluated in float64, where the product of two float32 numbers is exact, and rounded once;
float64 arrays use a plain multiply and add (one extra rounding at 1e-16), except in
``fma_exact``, which adds the product's rounding error back (Dekker's two-product).

Scalars are Python numbers and take the array's dtype before use (PyTorch's rule), so that
``value == 1.0`` tests see the number the caller gave. Array operands of one update have the
shape of the array updated. ``sgd_`` and ``adam_`` are whole steps of SGD and Adam written with
the primitives, in the order of ``torch.optim``'s single-tensor code; the compiled backend runs
each in one pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_BLOCK = 1 << 15  # elements per float64 block: 256 KiB, so the widened temporaries stay in cache


def _narrow(x) -> bool:
    """True for float arrays narrower than float64 (their fused products are exact in float64)."""
    return x.dtype.kind == "f" and x.dtype.itemsize < 8


def _as(x, value: float):
    """A Python number as a scalar of ``x``'s dtype (PyTorch rounds scalars to the tensor's dtype)."""
    return x.dtype.type(value)


def _flat(x, size: int):
    """A flat view of an array operand of ``size`` elements, or the scalar itself; None if no view exists."""
    if np.ndim(x) == 0:
        return x
    if x.size != size or not x.flags.c_contiguous:
        return None
    return x.reshape(-1)


def fma(xp, a: Any, b: Any, c: Any, out) -> Any:
    """``out = a * b + c`` with a single rounding when ``out`` is narrower than float64.

    ``a``, ``b`` and ``c`` are arrays or scalars (0-d arrays included); ``out`` may be one of them.
    Large NumPy operands go through the float64 in 256 KiB blocks, so the widened copies stay in
    the cache."""
    if _narrow(out):
        flat = [_flat(x, out.size) for x in (a, b, c, out)] if xp is np and out.size > _BLOCK else None
        if flat is None or any(f is None for f in flat):
            wide = xp.multiply(a, b, dtype=np.float64)
            wide += c
            out[...] = wide
            return out
        fa, fb, fc, fo = flat
        buf = np.empty(_BLOCK, dtype=np.float64)
        for start in range(0, out.size, _BLOCK):
            stop = min(start + _BLOCK, out.size)
            wide = buf[:stop - start]
            np.multiply(fa if np.ndim(fa) == 0 else fa[start:stop], fb if np.ndim(fb) == 0 else fb[start:stop],
                        out=wide, dtype=np.float64)  # dtype: multiply in float64, not float32 then widen
            wide += fc if np.ndim(fc) == 0 else fc[start:stop]
            fo[start:stop] = wide
    else:
        prod = xp.multiply(a, b)
        xp.add(prod, c, out=out)
    return out


def _split(x):
    """Veltkamp's split of float64 ``x`` into a high and a low half (``x == hi + lo`` exactly)."""
    t = x * 134217729.0  # 2**27 + 1
    hi = t - (t - x)
    return hi, x - hi


def fma_exact(xp, a: Any, b: Any, c: Any, out) -> Any:
    """``out = a * b + c``, the product's rounding error added back in float64 too (Dekker).

    Correctly rounded whenever ``a * b + c`` cancels (then ``p + c`` is exact), within one unit
    in the last place otherwise.
    """
    if _narrow(out):
        return fma(xp, a, b, c, out)
    a, b = xp.asarray(a, dtype=out.dtype), xp.asarray(b, dtype=out.dtype)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    xp.add(p, c, out=out)
    out += err
    return out


def add_(xp, x, y, *, alpha: float = 1.0):
    """PyTorch's ``x.add_(y, alpha=alpha)``: ``x += alpha * y``, fused."""
    if alpha == 1.0:
        x += y
        return x
    return fma(xp, _as(x, alpha), y, x, x)


def added(xp, x, y, *, alpha: float):
    """PyTorch's out-of-place ``x.add(y, alpha=alpha)`` (a new array)."""
    return fma(xp, _as(x, alpha), y, x, xp.empty_like(x))


def addcmul_(xp, x, u, v, *, value: float = 1.0, tmp=None):
    """PyTorch's ``x.addcmul_(u, v, value=value)``: ``x = fma(value * u, v, x)``. ``tmp``: scratch
    of ``x``'s shape, or None."""
    if value != 1.0:  # value * u is exact for value == 1
        u = xp.multiply(u, _as(x, value), out=tmp)
    return fma(xp, u, v, x, x)


def addcdiv_(xp, x, u, v, *, value: float = 1.0, tmp=None):
    """PyTorch's ``x.addcdiv_(u, v, value=value)``: ``x += (value * u) / v``, rounding each step."""
    if value == 1.0:
        tmp = xp.divide(u, v, out=tmp)
    else:
        tmp = xp.multiply(u, _as(x, value), out=tmp)
        tmp /= v
    x += tmp
    return x


def lerp_(xp, start, end, *, weight: float, tmp=None):
    """PyTorch's ``start.lerp_(end, weight)``: ``start + weight * (end - start)``, fused, two-branch.

    For ``|weight| >= 0.5`` it is ``end + (weight - 1) * (end - start)`` (with ``weight - 1``
    computed in the array's dtype), which is exact at ``weight == 1``.
    """
    tmp = xp.subtract(end, start, out=tmp)
    w = _as(start, weight)
    if abs(w) < 0.5:
        return fma(xp, w, tmp, start, start)
    return fma(xp, w - start.dtype.type(1), tmp, end, start)


def square_avg_(xp, avg, g, *, decay: float, tmp=None):
    """``avg.mul_(decay).addcmul_(g, g, value=1 - decay)``: the running mean of ``g^2``."""
    avg *= _as(avg, decay)
    return addcmul_(xp, avg, g, g, value=1.0 - decay, tmp=tmp)


def sgd_(xp, theta, g, *, buf=None, lr: float, momentum: float = 0.0, dampening: float = 0.0,
         weight_decay: float = 0.0, nesterov: bool = False):
    """One step of ``torch.optim.SGD`` on ``theta`` in place; returns the momentum buffer.

    ::

        g <- g.add(theta, alpha=weight_decay)                 (weight_decay != 0)
        b <- g.clone()                                        (momentum != 0, buf None: the first step)
        b <- b.mul_(momentum).add_(g, alpha=1 - dampening)    (momentum != 0, later steps)
        g <- g.add(b, alpha=momentum) if nesterov else b      (momentum != 0)
        theta.add_(g, alpha=-lr)

    ``buf`` is the momentum buffer, updated in place (None on the first step: a new one is
    returned); the result is None when ``momentum == 0``. ``g`` is not written.
    """
    if weight_decay != 0:
        g = added(xp, g, theta, alpha=weight_decay)
    if momentum != 0:
        if buf is None:
            buf = g.copy()
        else:
            buf *= _as(buf, momentum)
            add_(xp, buf, g, alpha=1.0 - dampening)
        g = added(xp, g, buf, alpha=momentum) if nesterov else buf
    add_(xp, theta, g, alpha=-lr)
    return buf if momentum != 0 else None


def adam_(xp, theta, g, m, v, *, v_max=None, lr: float, beta1: float, beta2: float, eps: float,
          weight_decay: float = 0.0, decoupled: bool = False, step_size: float,
          bias_correction2_sqrt: float):
    """One step of ``torch.optim.Adam`` (``AdamW`` when ``decoupled``) on ``theta`` in place.

    ::

        theta.mul_(1 - lr * weight_decay)  if decoupled   else   g <- g.add(theta, alpha=weight_decay)
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        v_max <- maximum(v_max, v), then used as v       (amsgrad: ``v_max`` given)
        d <- sqrt(v) / bias_correction2_sqrt + eps
        theta.addcdiv_(m, d, value=-step_size)

    ``m``, ``v`` and ``v_max`` are updated in place; ``g`` is not written. ``step_size`` is
    ``lr / (1 - beta1^t)`` and ``bias_correction2_sqrt`` is ``sqrt(1 - beta2^t)``.
    """
    if weight_decay != 0:
        if decoupled:
            theta *= _as(theta, 1.0 - lr * weight_decay)
        else:
            g = added(xp, g, theta, alpha=weight_decay)
    tmp = xp.empty_like(theta)  # the one scratch buffer of this update
    lerp_(xp, m, g, weight=1.0 - beta1, tmp=tmp)
    square_avg_(xp, v, g, decay=beta2, tmp=tmp)
    if v_max is not None:
        xp.maximum(v_max, v, out=v_max)
        v = v_max
    denom = xp.sqrt(v)
    denom /= _as(denom, bias_correction2_sqrt)
    denom += _as(denom, eps)
    return addcdiv_(xp, theta, m, denom, value=-step_size, tmp=tmp)
