"""What the compiled kernels (``ops/conv_jit``, ``norm_jit``, ``pointwise_jit``, ``pool_jit``) share:
the switch that turns them off, numba itself, and the test of which arrays they take.

The kernels are compiled with numba on first use, per dtype, and release the GIL while they
run. They are an optional fast path: every operator keeps its NumPy code, which runs without
numba, with ``CHAINRULE_JIT=0`` (or ``false``/``no``/``off``) in the environment or
``ENABLED = False`` here, for arrays that are not NumPy's, for dtypes other than float32 and
float64, and for empty arrays. Results agree with the NumPy code to rounding; the tests check
both paths against PyTorch.

Cost, once per process (``bench/README.md``): importing numba adds about 55 MiB to the resident
set, its first compilation of anything about 65 MiB more (its runtime and LLVM), and the
kernels of a float32 training step (convolutions, batch norm, ReLU, max pooling) about 45 MiB;
compiling takes about 3.5 s for the convolutions, about 1 s for batch norm and ReLU and 0.65 s
per max-pool geometry.
"""

from __future__ import annotations

import functools
import os

import numpy as np


def enabled_by(value: str | None) -> bool:
    """How the environment variable ``CHAINRULE_JIT`` reads: off for 0/false/no/off."""
    return (value or "1").strip().lower() not in ("0", "false", "no", "off")


ENABLED = enabled_by(os.environ.get("CHAINRULE_JIT"))


@functools.cache
def numba_module():
    """The numba module, or None when it is not installed."""
    try:
        import numba
    except ImportError:
        return None
    return numba


def takes(xp, *arrays) -> bool:
    """Whether the compiled kernels may run on these arrays: switched on, NumPy arrays of one
    dtype, float32 or float64, none of them empty. (Each family also needs its own kernels to
    build: see its ``available``.)"""
    if not ENABLED or getattr(xp, "__name__", "") != "numpy":
        return False
    dt = arrays[0].dtype
    return dt in (np.float32, np.float64) and all(
        isinstance(a, np.ndarray) and a.dtype == dt and a.size > 0 for a in arrays)
