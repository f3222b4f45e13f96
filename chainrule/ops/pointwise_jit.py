"""Compiled ReLU forward and backward (numba), used by ``activation`` when ``_jit.takes`` the
arrays and they are contiguous.

NumPy's ``maximum(x, 0)`` runs its scalar-broadcast loop without SIMD, and the backward's
``g * (y > 0)`` makes a mask first: measured on a 4 MiB float32 array (the bench ResNet's
widest activation), 385 and 358 us against 91 and 159 us for these loops (``bench/README.md``).
Semantics are PyTorch's: ``relu`` keeps NaN (``maximum``'s rule), and the gradient is ``g``
where ``y > 0`` and 0 elsewhere (``threshold_backward``: NaN outputs pass ``g`` through).
"""

from __future__ import annotations

import functools

import numpy as np

from .._jit import numba_module, takes
from .._parallel import parallel_for, threads_for

# below this many bytes per array a call stays on one thread: the loops are bound by memory and a
# hand-off costs more than the second core gives (float32, bench machine, forward/backward in us:
# 4 MiB serial 95/103 against 178/154 on two threads; 8 MiB 227/227 against 208/171; 16 MiB
# 762/794 against 555/550)
PARALLEL_MIN_BYTES = 1 << 23


def available(xp, *arrays) -> bool:
    """Whether the compiled loops take these arrays: ``_jit.takes`` them, all C-contiguous and
    of one shape, and numba is importable."""
    return (takes(xp, *arrays) and all(a.flags.c_contiguous and a.shape == arrays[0].shape for a in arrays)
            and _kernels(arrays[0].dtype.type) is not None)


def _threads(xp, a) -> int:
    return threads_for(xp, a.nbytes) if a.nbytes >= PARALLEL_MIN_BYTES else 1


def relu(xp, x):
    """``maximum(x, 0)`` of a contiguous array."""
    k = _kernels(x.dtype.type)
    y = np.empty_like(x)
    xf, yf = x.reshape(-1), y.reshape(-1)
    parallel_for(lambda lo, hi: k.relu(xf, yf, lo, hi), xf.size, _threads(xp, x))
    return y


def relu_backward(xp, g, y):
    """``g`` where ``y > 0`` and 0 where ``y <= 0``: ReLU's gradient from its output."""
    k = _kernels(g.dtype.type)
    gx = np.empty_like(g)
    gf, yf, of = g.reshape(-1), y.reshape(-1), gx.reshape(-1)
    parallel_for(lambda lo, hi: k.relu_backward(gf, yf, of, lo, hi), gf.size, _threads(xp, g))
    return gx


@functools.cache
def _kernels(dtype):
    """The compiled loops (``kernels/numba/pointwise``; numba specialises them per dtype on first
    call and keeps them on disk), or None without numba. Imported here, on first use: importing
    numba costs about 0.3 s, which a process that runs no kernel should not pay."""
    if numba_module() is None:
        return None
    from ..kernels.numba import pointwise
    return pointwise
