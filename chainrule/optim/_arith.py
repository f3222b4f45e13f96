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

The helpers below compute exactly these. A fused multiply-add on float32 (and float16) arrays is
evaluated in float64, where the product of two float32 numbers is exact, and rounded once;
float64 arrays use a plain multiply and add (one extra rounding at 1e-16, far below anything the
float64 tests resolve), except :func:`fma_exact`, which adds the product's rounding error back
(Dekker's two-product) for the one place where it matters in float64 too: centered RMSprop's
``s - a^2``, a difference of two nearly equal numbers once the gradient settles.

Scalars follow PyTorch's rule for Python numbers: they take the array's dtype before use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend


def _narrow(x) -> bool:
    """True for float arrays narrower than float64 (their fused products are exact in float64)."""
    return x.dtype.kind == "f" and x.dtype.itemsize < 8


def _as(x, value: float):
    """A Python number as a scalar of ``x``'s dtype (PyTorch rounds scalars to the tensor's dtype)."""
    return x.dtype.type(value)


_BLOCK = 1 << 15  # elements per float64 block: 256 KiB, so the widened temporaries stay in cache


def _flat(x, size: int):
    """A flat view of an array operand of ``size`` elements, or the scalar itself; None if no view exists."""
    if np.ndim(x) == 0:
        return x
    if x.size != size or not x.flags.c_contiguous:
        return None
    return x.reshape(-1)


def fma(a: Any, b: Any, c: Any, out) -> Any:
    """``out = a * b + c`` with a single rounding when ``out`` is narrower than float64."""
    xp = backend.array_module(out)
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


def fma_exact(a: Any, b: Any, c: Any, out) -> Any:
    """``out = a * b + c``, the product's rounding error added back in float64 too (Dekker).

    Correctly rounded whenever ``a * b + c`` cancels (then ``p + c`` is exact), within one unit
    in the last place otherwise.
    """
    if _narrow(out):
        return fma(a, b, c, out)
    xp = backend.array_module(out)
    a, b = xp.asarray(a, dtype=out.dtype), xp.asarray(b, dtype=out.dtype)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    xp.add(p, c, out=out)
    out += err
    return out


def add_(x, y, alpha: float = 1.0) -> None:
    """PyTorch's ``x.add_(y, alpha=alpha)``: ``x += alpha * y``, fused."""
    if alpha == 1.0:
        x += y
    else:
        fma(_as(x, alpha), y, x, out=x)


def added(x, y, alpha: float):
    """PyTorch's out-of-place ``x.add(y, alpha=alpha)`` (a new array)."""
    out = backend.array_module(x).empty_like(x)
    return fma(_as(x, alpha), y, x, out=out)


def addcmul_(x, u, v, value: float = 1.0, tmp=None) -> None:
    """PyTorch's ``x.addcmul_(u, v, value=value)``: ``x = fma(value * u, v, x)``."""
    if value != 1.0:  # value * u is exact for value == 1
        u = backend.array_module(x).multiply(u, _as(x, value), out=tmp)
    fma(u, v, x, out=x)


def addcdiv_(x, u, v, value: float = 1.0, tmp=None) -> None:
    """PyTorch's ``x.addcdiv_(u, v, value=value)``: ``x += (value * u) / v``, rounding each step."""
    xp = backend.array_module(x)
    if value == 1.0:
        tmp = xp.divide(u, v, out=tmp)
    else:
        tmp = xp.multiply(u, _as(x, value), out=tmp)
        tmp /= v
    x += tmp


def lerp_(start, end, weight: float, tmp=None) -> None:
    """PyTorch's ``start.lerp_(end, weight)``: ``start + weight * (end - start)``, fused, two-branch.

    For ``|weight| >= 0.5`` it is ``end + (weight - 1) * (end - start)`` (with ``weight - 1``
    computed in the array's dtype), which is exact at ``weight == 1``.
    """
    xp = backend.array_module(start)
    tmp = xp.subtract(end, start, out=tmp)
    w = _as(start, weight)
    if abs(w) < 0.5:
        fma(w, tmp, start, out=start)
    else:
        fma(w - start.dtype.type(1), tmp, end, out=start)


def square_avg_(avg, g, decay: float, tmp=None) -> None:
    """``avg.mul_(decay).addcmul_(g, g, value=1 - decay)``: the running mean of ``g^2``."""
    avg *= _as(avg, decay)
    addcmul_(avg, g, g, 1.0 - decay, tmp)


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
