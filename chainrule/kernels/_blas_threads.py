"""How many threads NumPy's BLAS runs on: read and set from any Python thread.

threadpoolctl finds the BLAS libraries loaded in the process. Its setter calls OpenBLAS's
``openblas_set_num_threads``, which the OpenBLAS that NumPy bundles ignores when called from
any thread but the main one (0.3.31: a worker thread's call leaves the count unchanged). A
training loop run from a worker thread then kept BLAS at its full thread count inside
chainrule's parallel regions, where it should be held to one, and OpenBLAS's multi-threaded
products round differently from its single-threaded ones: the same seeded run gave other
weights than from the main thread. ``openblas_set_num_threads_local`` (OpenBLAS 0.3.27 and
later) takes effect from every thread, so it is used wherever the library has it; other BLAS
libraries go through threadpoolctl.
"""

from __future__ import annotations

import ctypes

# (threadpoolctl controller, ctypes setter that works from any thread or None) per BLAS library,
# found on first use; kept as pairs so that a controller is never set through another's setter
_found: list | None = None


def _pairs() -> list:
    global _found
    if _found is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - a declared dependency
            libs = []
        else:
            libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        _found = [(c, _any_thread_setter(c)) for c in libs]
    return _found


def controllers() -> list:
    """threadpoolctl's controllers of the BLAS libraries in the process (empty without threadpoolctl)."""
    return [c for c, _ in _pairs()]


def get_threads() -> list:
    """The thread count of each BLAS library, in the order of ``controllers()``."""
    return [c.get_num_threads() for c, _ in _pairs()]


def set_threads(counts) -> None:
    """Set each BLAS library's thread count (an int for all, or one per controller)."""
    pairs = _pairs()
    if isinstance(counts, int):
        counts = [counts] * len(pairs)
    for (c, setter), n in zip(pairs, counts):
        if setter is not None:
            setter(int(n))
        else:
            c.set_num_threads(int(n))


def _any_thread_setter(controller):
    if controller.internal_api != "openblas":
        return None
    try:
        lib = ctypes.CDLL(controller.filepath)
    except OSError:  # pragma: no cover - threadpoolctl found it loaded, so it loads
        return None
    for name in ("openblas_set_num_threads_local", "scipy_openblas_set_num_threads_local64_",
                 "openblas_set_num_threads_local64_"):
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = ctypes.c_int
            fn.argtypes = [ctypes.c_int]
            return fn
    return None
