"""NumPy's own BLAS matrix product, callable from compiled code (``conv``, by address).

NumPy's wheels bundle OpenBLAS; its C interface ``cblas_?gemm`` takes leading dimensions and a
``beta``, so a compiled kernel can multiply a strided slab of an array in place and add into an
output, which ``numpy.matmul`` cannot. The library is the one threadpoolctl finds (so
``_parallel``'s BLAS thread limits apply to it); the symbol names and integer width follow how
it was built (``scipy_`` prefix and ``64_`` suffix for the 64-bit-integer build NumPy ships).
Anything unexpected - another BLAS vendor, a missing symbol, a product that disagrees with
NumPy's on a small check - and ``gemm_functions`` returns None: the callers then stay on their
NumPy path.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


@functools.cache
def gemm_functions():
    """``{np.float32: sgemm, np.float64: dgemm}`` as ctypes functions with the CBLAS signature
    ``(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)``, or None."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    for ctl in ThreadpoolController().lib_controllers:
        if ctl.internal_api != "openblas" or "numpy" not in ctl.filepath:
            continue
        found = _bind(ctypes.CDLL(ctl.filepath))
        if found is not None:
            return found
    return None


@functools.cache
def gemm_pointers():
    """``{np.float32: (address, wide), np.float64: (address, wide)}`` of ``gemm_functions``: the
    functions' addresses and whether their integers are 64-bit, the form compiled code takes
    (``kernels/numba/blas.gemm``; an address passed in at run time keeps the code cacheable), or
    None."""
    fns = gemm_functions()
    if fns is None:
        return None
    return {dt: (ctypes.cast(fn, ctypes.c_void_p).value, fn.argtypes[3] is ctypes.c_int64)
            for dt, fn in fns.items()}


def _bind(lib):
    for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("scipy_", ""), ("", "")):
        names = [f"{prefix}cblas_{t}gemm{suffix}" for t in "sd"]
        if not all(hasattr(lib, n) for n in names):
            continue
        wide = suffix == "64_" or "USE64BITINT" in _config(lib, prefix, suffix)
        integer = ctypes.c_int64 if wide else ctypes.c_int32
        out = {}
        for name, dtype, real in zip(names, (np.float32, np.float64), (ctypes.c_float, ctypes.c_double)):
            fn = getattr(lib, name)
            fn.restype = None
            fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, integer, integer, integer, real,
                           ctypes.c_void_p, integer, ctypes.c_void_p, integer, real, ctypes.c_void_p, integer]
            out[dtype] = fn
        return out if all(_agrees(fn, dt) for dt, fn in out.items()) else None
    return None


def _config(lib, prefix: str, suffix: str) -> str:
    fn = getattr(lib, f"{prefix}openblas_get_config{suffix}", None)
    if fn is None:
        return ""
    fn.restype = ctypes.c_char_p
    return (fn() or b"").decode(errors="replace")


def _agrees(fn, dtype) -> bool:
    """A 3x4 @ 4x5 product with a transposed, strided B and beta = 1 against NumPy's."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4)).astype(dtype)
    b = rng.standard_normal((5, 6)).astype(dtype)  # B^T is its first 4 columns
    c = rng.standard_normal((3, 5)).astype(dtype)
    want = c + a @ b[:, :4].T
    fn(ROW_MAJOR, NO_TRANS, TRANS, 3, 5, 4, 1.0, a.ctypes.data, 4, b.ctypes.data, 6, 1.0, c.ctypes.data, 5)
    return bool(np.allclose(c, want, rtol=1e-5, atol=1e-5))
