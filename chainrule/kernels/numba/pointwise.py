"""ReLU forward and backward, compiled (numba): the ``pointwise`` family of the numba backend.

NumPy's ``maximum(x, 0)`` runs its scalar-broadcast loop without SIMD, and a backward through a
mask makes the mask first: measured on a 4 MiB float32 array (the bench ResNet's widest
activation), 385 and 358 us against 91 and 159 us for these loops (``bench/README.md``).
Semantics are PyTorch's: ``relu`` keeps NaN (``maximum``'s rule), and the gradient is ``g``
where ``y > 0`` and 0 elsewhere (``threshold_backward``: NaN outputs pass ``g`` through).

Each function declines (returns ``NotImplemented``, and ``kernels.call`` runs the next backend)
unless the arrays are C-contiguous, of one shape and dtype (float32 or float64) and numba is
importable. The loops themselves are in ``pointwise_loops`` (importing it imports numba).
"""

from __future__ import annotations

import functools

import numpy as np

from .._jit import numba_module, takes
from .._out import fits
from .._parallel import parallel_for, threads_for
from . import tuning


def available(xp, *arrays) -> bool:
    """Whether the compiled loops take these arrays: ``_jit.takes`` them, all C-contiguous and
    of one shape, and numba is importable."""
    return (takes(xp, *arrays) and all(a.flags.c_contiguous and a.shape == arrays[0].shape for a in arrays)
            and _loops() is not None)


def relu(xp, x, out=None):
    """``maximum(x, 0)`` of a contiguous array (into ``out`` where it fits: ``_out.py``)."""
    if not available(xp, x):
        return NotImplemented
    k = _loops()
    y = out if fits(out, x.shape, x.dtype, x) else np.empty_like(x)
    xf, yf = x.reshape(-1), y.reshape(-1)
    parallel_for(lambda lo, hi: k.relu(xf, yf, lo, hi), xf.size, _threads(xp, x))
    return y


def relu_backward(xp, g, y, out=None):
    """``g`` where ``y > 0`` and 0 where ``y <= 0``: ReLU's gradient from its output. A gradient
    that is one value broadcast everywhere (the gradient of a sum) is read as that value; any
    other non-contiguous one is copied first. Both instead of declining: the reference's ``where``
    takes 1.0 ms on 64x6x24x24 float32 values, the compiled loop 0.3 ms."""
    if isinstance(g, np.ndarray) and g.shape == y.shape and g.dtype == y.dtype and not g.flags.c_contiguous:
        if g.size and not any(g.strides) and available(xp, y):
            k = _loops()
            gx = out if fits(out, y.shape, y.dtype, y) else np.empty_like(y)
            v, yf, of = g.reshape(-1)[0], y.reshape(-1), gx.reshape(-1)
            parallel_for(lambda lo, hi: k.relu_backward_fill(v, yf, of, lo, hi), yf.size, _threads(xp, y))
            return gx
        g = np.ascontiguousarray(g)
    if not available(xp, g, y):
        return NotImplemented
    k = _loops()
    gx = out if fits(out, g.shape, g.dtype, g) else np.empty_like(g)
    gf, yf, of = g.reshape(-1), y.reshape(-1), gx.reshape(-1)
    parallel_for(lambda lo, hi: k.relu_backward(gf, yf, of, lo, hi), gf.size, _threads(xp, g))
    return gx


def _threads(xp, a) -> int:
    return threads_for(xp, a.nbytes) if a.nbytes >= tuning.RELU_PARALLEL_MIN_BYTES else 1


@functools.cache
def _loops():
    """The compiled loops (numba specialises them per dtype on first call and keeps them on
    disk), or None without numba. Imported here, on first use: importing numba costs about
    0.3 s, which a process that runs no kernel should not pay."""
    if numba_module() is None:
        return None
    from . import pointwise_loops  # on use: importing the loops imports numba (heavy, optional)
    return pointwise_loops
