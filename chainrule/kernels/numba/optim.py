"""The optimisers' updates, compiled (numba): the ``optim`` family of the numba backend.

The reference (``kernels/numpy/optim.py``) rounds as PyTorch's CPU kernels do: a float32 fused
multiply-add goes through float64 and is rounded once, which NumPy can only do by widening the
arrays (in cache-sized blocks), several passes and a conversion each: several times the cost of
the plain ``x -= a * y`` (``docs/perf-log.md``). These loops compute each element in one pass,
with the same operations in the same order, so the results are the reference's bit for bit;
``sgd_`` and ``adam_`` run a whole step of SGD or Adam in that one pass, without the reference's
temporaries.

Each function declines (returns ``NotImplemented``, and ``kernels.call`` runs the reference)
unless numba is importable and every array is a C-contiguous float32 NumPy array of the updated
array's shape (float64 keeps NumPy's code: no float64 widening to save there), and unless an
array written partly overlaps another operand (the same array as an input and an output is
fine). Scalar operands of ``fma`` are 0-d arrays or NumPy scalars of the arrays' dtype. The loops
are in ``optim_loops`` (importing it imports numba); large arrays are split over the thread pool
above ``tuning.OPTIM_PARALLEL_MIN_BYTES``.
"""

from __future__ import annotations

import functools

import numpy as np

from .._jit import numba_module, takes
from .._parallel import parallel_for, threads_for
from . import tuning

_f32 = np.float32
_F32 = np.dtype(np.float32)  # NumPy's one native float32 descriptor (a byte-swapped one is another)


def available(xp, written, *operands) -> bool:
    """Whether the compiled loops take these arrays: ``written`` (the arrays updated, a tuple)
    and ``operands`` float32, C-contiguous, of one shape, no written array partly overlapping
    another array (being the same array is fine), and numba importable. (One pass over the
    arrays: on a small parameter this check is a good part of a step's cost.)"""
    arrays = (*written, *operands)
    if not takes(xp, arrays[0]):  # switched on, NumPy, float32 or float64, not empty
        return False
    shape = arrays[0].shape
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.dtype is not _F32 or a.shape != shape or not a.flags.c_contiguous:
            return False
    for i, w in enumerate(written):
        for a in arrays[i + 1:]:
            if a is not w and _overlap(w, a):
                return False
    return _loops() is not None


def _overlap(w, a) -> bool:
    """Whether ``w`` and ``a`` (C-contiguous, of one shape and dtype) overlap without being the
    same memory. Arrays that own their memory are separate allocations."""
    if w.base is None and a.base is None:
        return False
    return np.may_share_memory(w, a) and not _same(w, a)


def _same(a, b) -> bool:
    """Whether two arrays of one shape and dtype, both C-contiguous, are the same memory."""
    return a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


def _scalar(x):
    """``x`` as a float32 number if it is a NumPy scalar or 0-d array of float32, else None."""
    if isinstance(x, np.ndarray):
        return _f32(x[()]) if x.ndim == 0 and x.dtype == np.float32 else None
    return x if isinstance(x, np.float32) else None


def _run(body, out) -> None:
    """``body(lo, hi)`` over the flat elements of ``out``, split over threads for large arrays."""
    if out.nbytes < tuning.OPTIM_PARALLEL_MIN_BYTES:
        body(0, out.size)  # the common case, without the region's bookkeeping
    else:
        parallel_for(body, out.size, threads_for(np, out.nbytes))


def _flat(*arrays):
    return tuple(a.reshape(-1) for a in arrays)


def fma(xp, a, b, c, out):
    """``out = a * b + c``, rounded once. ``c`` and ``out`` are arrays; ``a`` and ``b`` arrays or
    float32 scalars (not both scalars)."""
    if not isinstance(out, np.ndarray) or not isinstance(c, np.ndarray):
        return NotImplemented
    sa, sb = _scalar(a), _scalar(b)
    if sa is None and sb is not None:  # the product commutes: the scalar goes first
        a, b, sa = b, a, sb
    arrays = (b,) if sa is not None else (a, b)
    if not all(isinstance(x, np.ndarray) for x in arrays):
        return NotImplemented
    if not available(xp, (out,), *arrays, c):
        return NotImplemented
    k = _loops()
    in_place = c is out or np.may_share_memory(c, out)  # overlapping means identical (``available``)
    if sa is not None:
        fb, fc, fo = _flat(b, c, out)
        if in_place:
            _run(lambda lo, hi: k.fma_scalar_(sa, fb, fc, lo, hi), out)
        else:
            _run(lambda lo, hi: k.fma_scalar(sa, fb, fc, fo, lo, hi), out)
    else:
        fa, fb, fc, fo = _flat(a, b, c, out)
        if in_place:
            _run(lambda lo, hi: k.fma_arrays_(fa, fb, fc, lo, hi), out)
        else:
            _run(lambda lo, hi: k.fma_arrays(fa, fb, fc, fo, lo, hi), out)
    return out


def add_(xp, x, y, *, alpha: float = 1.0):
    """``x.add_(y, alpha=alpha)``: ``x = fma(alpha, y, x)`` (a plain sum for ``alpha == 1``)."""
    if alpha == 1.0 or not available(xp, (x,), y):
        return NotImplemented  # a plain sum is NumPy's one pass already
    k = _loops()
    fx, fy = _flat(x, y)
    a = _f32(alpha)
    _run(lambda lo, hi: k.fma_scalar_(a, fy, fx, lo, hi), x)
    return x


def added(xp, x, y, *, alpha: float):
    """``x.add(y, alpha=alpha)``: a new array ``fma(alpha, y, x)``."""
    if not available(xp, (), x, y):
        return NotImplemented
    k = _loops()
    out = np.empty_like(x)
    fx, fy, fo = _flat(x, y, out)
    a = _f32(alpha)
    _run(lambda lo, hi: k.fma_scalar(a, fy, fx, fo, lo, hi), out)
    return out


def addcmul_(xp, x, u, v, *, value: float = 1.0, tmp=None):
    """``x.addcmul_(u, v, value=value)``: ``x = fma(value * u, v, x)``; ``tmp`` is not needed."""
    return _scaled_ternary_("addcmul_", xp, x, u, v, value)


def addcdiv_(xp, x, u, v, *, value: float = 1.0, tmp=None):
    """``x.addcdiv_(u, v, value=value)``: ``x += (value * u) / v``; ``tmp`` is not needed."""
    return _scaled_ternary_("addcdiv_", xp, x, u, v, value)


def _scaled_ternary_(loop: str, xp, x, u, v, value: float):
    """Run the loop ``loop(x, u, v, value, scaled, lo, hi)`` over ``x`` in place (``value * u`` is
    taken only when ``value != 1``, as PyTorch's kernels skip that product)."""
    if not available(xp, (x,), u, v):
        return NotImplemented
    kernel = getattr(_loops(), loop)
    fx, fu, fv = _flat(x, u, v)
    a, scaled = _f32(value), value != 1.0
    _run(lambda lo, hi: kernel(fx, fu, fv, a, scaled, lo, hi), x)
    return x


def lerp_(xp, start, end, *, weight: float, tmp=None):
    """``start.lerp_(end, weight)``, both branches of the reference; ``tmp`` is not needed."""
    if not available(xp, (start,), end):
        return NotImplemented
    k = _loops()
    fs, fe = _flat(start, end)
    w = _f32(weight)
    from_end = not abs(w) < 0.5
    if from_end:
        w = w - _f32(1)
    _run(lambda lo, hi: k.lerp_(fs, fe, w, from_end, lo, hi), start)
    return start


def square_avg_(xp, avg, g, *, decay: float, tmp=None):
    """``avg.mul_(decay).addcmul_(g, g, value=1 - decay)`` in one pass; ``tmp`` is not needed."""
    if not available(xp, (avg,), g):
        return NotImplemented
    k = _loops()
    fa, fg = _flat(avg, g)
    value = 1.0 - decay
    d, a, scaled = _f32(decay), _f32(value), value != 1.0
    _run(lambda lo, hi: k.square_avg_(fa, fg, d, a, scaled, lo, hi), avg)
    return avg


def sgd_(xp, theta, g, *, buf=None, lr: float, momentum: float = 0.0, dampening: float = 0.0,
         weight_decay: float = 0.0, nesterov: bool = False):
    """One SGD step in one pass, as the reference ``sgd_`` (which says what it computes)."""
    with_buffer = momentum != 0 and buf is not None
    if not available(xp, (theta, buf) if with_buffer else (theta,), g):
        return NotImplemented
    k = _loops()
    neg_lr, add_plain = _f32(-lr), -lr == 1.0
    wd, decay = _f32(weight_decay), weight_decay != 0
    ft, fg = _flat(theta, g)
    if momentum == 0:
        _run(lambda lo, hi: k.sgd_plain_(ft, fg, neg_lr, add_plain, wd, decay, lo, hi), theta)
        return None
    first = buf is None
    if first:
        buf = np.empty_like(theta)  # the first step sets it to the gradient
    (fb,) = _flat(buf)
    m, damped, dampened_plain = _f32(momentum), _f32(1.0 - dampening), 1.0 - dampening == 1.0
    nesterov = bool(nesterov)
    if not first and dampened_plain and not add_plain:
        _run(lambda lo, hi: k.sgd_momentum_steady_(ft, fg, fb, neg_lr, wd, decay, m, nesterov, lo, hi), theta)
        return buf
    _run(lambda lo, hi: k.sgd_momentum_(ft, fg, fb, neg_lr, add_plain, wd, decay, m, damped, dampened_plain,
                                        nesterov, first, lo, hi), theta)
    return buf


def adam_(xp, theta, g, m, v, *, v_max=None, lr: float, beta1: float, beta2: float, eps: float,
          weight_decay: float = 0.0, decoupled: bool = False, step_size: float,
          bias_correction2_sqrt: float):
    """One Adam (or AdamW) step in one pass, as the reference ``adam_`` (which says what it computes)."""
    written = (theta, m, v) if v_max is None else (theta, m, v, v_max)
    if not available(xp, written, g):
        return NotImplemented
    k = _loops()
    ft, fg, fm, fv = _flat(theta, g, m, v)
    decays = weight_decay != 0
    shrink, decoupled = _f32(1.0 - lr * weight_decay), bool(decays and decoupled)
    wd, coupled = _f32(weight_decay), bool(decays and not decoupled)
    w = _f32(1.0 - beta1)
    from_end = not abs(w) < 0.5
    if from_end:
        w = w - _f32(1)
    b2, value = _f32(beta2), 1.0 - beta2
    a, scaled = _f32(value), value != 1.0
    bc2, e = _f32(bias_correction2_sqrt), _f32(eps)
    neg_step, div_plain = _f32(-step_size), -step_size == 1.0
    if v_max is None:
        _run(lambda lo, hi: k.adam_(ft, fg, fm, fv, shrink, decoupled, wd, coupled, w, from_end, b2, a, scaled,
                                    bc2, e, neg_step, div_plain, lo, hi), theta)
    else:
        (fx,) = _flat(v_max)
        _run(lambda lo, hi: k.adam_amsgrad_(ft, fg, fm, fv, fx, shrink, decoupled, wd, coupled, w, from_end, b2,
                                            a, scaled, bc2, e, neg_step, div_plain, lo, hi), theta)
    return theta


@functools.cache
def _loops():
    """The compiled loops (kept on disk by ``_compile.jit``), or None without numba. Imported
    here, on first use: importing numba costs about 0.3 s, which a process that runs no kernel
    should not pay."""
    if numba_module() is None:
        return None
    from . import optim_loops  # on use: importing the loops imports numba (heavy, optional)
    return optim_loops
