"""Batch normalisation in the (N, C, L) layout, the ``norm`` family of the compiled backend
(numba): ``forward`` and ``backward`` with the reference's signatures (``kernels/numpy/norm.py``,
which it must agree with); each declines without numba.

The algorithm is the reference's (read its docstring): the data are centred on ``shift``, the
mean of up to ``SHIFT_SAMPLES`` samples, and the statistics follow from the sums of ``x - shift``
and its square; the first-order backward folds into per-channel coefficients. What changes is
the number of passes over memory. Here each channel is done in turn, all its passes back to
back: its data (N x L values, 256 KiB in the bench ResNet's widest layer) are read from memory
once and then from the cache. NumPy needs four reads and three writes of the whole array for
forward and seven passes for backward. Channels are split over the threads (inputs of
``tuning.NORM_PARALLEL_MIN_BYTES`` and more), and the compiled
loops run without the GIL.

Sums are accumulated in float64 whatever the dtype (the loops are vectorised by letting LLVM
reassociate them), so float32 statistics are at least as accurate as the reference's. The loops
are in ``norm_loops`` (importing it imports numba: done on first use).
"""

from __future__ import annotations

import functools

import numpy as np

from .._jit import numba_module, takes
from .._parallel import parallel_for, threads_for
from ..numpy.norm import SHIFT_SAMPLES
from . import tuning


def _threads(xp, x3) -> int:
    return threads_for(xp, x3.nbytes) if x3.nbytes >= tuning.NORM_PARALLEL_MIN_BYTES else 1


def available(xp, *arrays) -> bool:
    """Whether the compiled kernels take these arrays (``_jit.takes``, numba importable)."""
    return takes(xp, *arrays) and _kernels(arrays[0].dtype.type) is not None


def _affine(c: int, dt, w, b):
    """The weight and bias as (C,) arrays of ``dt``: ones and zeros when absent."""
    w = np.ones(c, dtype=dt) if w is None else np.ascontiguousarray(w, dtype=dt).reshape(c)
    b = np.zeros(c, dtype=dt) if b is None else np.ascontiguousarray(b, dtype=dt).reshape(c)
    return w, b


def forward(xp, x3, w, b, eps: float):
    """Batch norm's training forward on contiguous ``x3`` (N, C, L): (y3, shift, delta, var,
    rstd), the last four (C,) arrays of x's dtype with the reference's ``channel_stats``' meaning
    and ``rstd = 1 / sqrt(var + eps)``. ``w``, ``b``: (C,) or None. ``NotImplemented`` without numba."""
    k = _kernels(x3.dtype.type)
    if k is None:
        return NotImplemented
    n, c, _ = x3.shape
    w, b = _affine(c, x3.dtype, w, b)
    y3 = np.empty_like(x3)
    stats = np.empty((4, c), dtype=x3.dtype)  # shift, delta, var, rstd
    step = max(1, n // SHIFT_SAMPLES)
    threads = _threads(xp, x3)
    parallel_for(lambda lo, hi: k.forward(x3, w, b, float(eps), step, y3, stats, lo, hi), c, threads)
    return (y3,) + tuple(stats)


def backward(xp, g3, x3, shift, delta, rstd, w, need_input: bool):
    """The reference ``backward`` compiled: (gx, dw, db), ``gx`` None unless
    ``need_input``. ``g3`` and ``x3`` contiguous (N, C, L); the statistics (C,).
    ``NotImplemented`` without numba."""
    k = _kernels(x3.dtype.type)
    if k is None:
        return NotImplemented
    n, c, _ = x3.shape
    dt = x3.dtype
    w, _ = _affine(c, dt, w, None)
    shift, delta, rstd = (np.ascontiguousarray(a, dtype=dt).reshape(c) for a in (shift, delta, rstd))
    gx3 = np.empty_like(x3) if need_input else np.empty((1, 1, 1), dtype=dt)
    sums = np.empty((2, c), dtype=dt)  # dw, db
    threads = _threads(xp, x3)
    parallel_for(lambda lo, hi: k.backward(g3, x3, shift, delta, rstd, w, need_input, gx3, sums, lo, hi),
                 c, threads)
    return (gx3 if need_input else None), sums[0], sums[1]


@functools.cache
def _kernels(dtype):
    """The compiled loops (``norm_loops``; numba specialises them per dtype on first call
    and keeps them on disk), or None without numba. Imported on first use (numba costs about
    0.3 s to import)."""
    if numba_module() is None:
        return None
    from . import norm_loops  # on use: importing the loops imports numba (heavy, optional)
    return norm_loops
