"""What the compiled kernels (``kernels/numba/``) share:
the switch that turns them off, numba itself, and the test of which arrays they take.

The kernels (``kernels/numba/``) are compiled with numba on first use, per dtype, and release the
GIL while they run. Compiled code is kept on disk (``cache_dir()``), so a machine compiles each
kernel once, not every process; numba is imported only when a kernel is about to run. They are
an optional fast path: every operator keeps its NumPy code, which runs without numba, with
``CHAINRULE_JIT=0`` (or ``false``/``no``/``off``) in the environment or ``ENABLED = False``
here, inside ``disabled()``, for arrays that are not NumPy's, for dtypes other than float32 and
float64, and for empty arrays. Results agree with the NumPy code to rounding; the tests check
both paths against PyTorch.

Cost (``bench/README.md``, ``docs/perf-log.md``): importing numba adds about 55 MiB to the
resident set, its runtime and LLVM about 65 MiB more, and the kernels of a float32 training step
(convolutions, batch norm, ReLU, max pooling) about 45 MiB. Compiling them takes seconds, once
per machine, dtype and max-pool geometry; later processes load them from the cache.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading

import numpy as np


def enabled_by(value: str | None) -> bool:
    """How the environment variable ``CHAINRULE_JIT`` reads: off for 0/false/no/off."""
    return (value or "1").strip().lower() not in ("0", "false", "no", "off")


ENABLED = enabled_by(os.environ.get("CHAINRULE_JIT"))


class _Local(threading.local):
    off = 0  # depth of ``disabled()`` blocks in this thread (a class default: no getattr fallback)


_local = _Local()


@contextlib.contextmanager
def disabled():
    """Inside this block (in this thread) the operators stay on their NumPy code: for one small
    pass, such as the shape-tracing forward of ``tools.summary``, where loading the compiled
    kernels (importing numba, about 0.35 s even from a warm cache) costs more than it saves."""
    _local.off += 1
    try:
        yield
    finally:
        _local.off -= 1


def cache_dir() -> str:
    """Where the compiled kernels are kept between processes: ``$CHAINRULE_CACHE_DIR/numba``
    when that variable is set, else ``$XDG_CACHE_HOME/chainrule/numba`` (``~/.cache/chainrule/numba``
    without it). Deleting the directory is always safe: the kernels compile again on next use."""
    root = os.environ.get("CHAINRULE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "chainrule")
    return os.path.join(root, "numba")


@functools.cache
def numba_module():
    """The numba module, or None when it is not installed."""
    try:
        import numba
    except ImportError:
        return None
    return numba


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def takes(xp, *arrays, absent_ok: bool = False) -> bool:
    """Whether the compiled kernels may run on these arrays: switched on, NumPy arrays of one
    dtype, float32 or float64, none of them empty. A ``None`` (an absent operand) is refused, or,
    with ``absent_ok`` (``kernels.select``), plays no part. (Each family also needs its own
    kernels to build: see its ``available``.) A loop rather than ``all()`` over a generator: this
    runs before every kernel call."""
    if not ENABLED or _local.off > 0 or getattr(xp, "__name__", "") != "numpy":
        return False
    dt = None
    for a in arrays:
        if a is None:
            if absent_ok:
                continue
            return False
        if not isinstance(a, np.ndarray) or a.size == 0:
            return False
        if dt is None:
            dt = a.dtype
            if dt not in _FLOATS:
                return False
        elif a.dtype != dt:
            return False
    return dt is not None
