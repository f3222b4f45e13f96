"""Convolution, the ``conv`` family of the compiled backend (numba): ``forward``, ``input`` and
``weight`` with the reference backend's signatures (``kernels/numpy/conv.py``), for 1-D and 2-D
float32/float64 convolutions; each declines (``NotImplemented``) for 3-D and depthwise ones,
without numba or without NumPy's BLAS (``blas_symbols``), and ``kernels.select`` keeps it off
other arrays (``CHAINRULE_JIT=0``, other dtypes, non-NumPy arrays, empty batches).

Why: on two cores the reference kernels scale poorly. Each chunk of the batch is a dozen NumPy
calls, and between calls the two threads hand the GIL to each other, which on the bench's VM
costs tens of microseconds each time. Here one compiled call per thread does a whole part of
the batch - gathering each sample's windows and calling NumPy's own BLAS on them - without
holding the GIL, so the parts really run at once (figures: ``docs/perf-log.md``).

Layout, per sample and group (``Cg`` input and ``Og`` output channels per group):

* with a unit stride along the first spatial axis (``shift``), only the windows along the last
  axis are copied: ``cols`` is (Cg * kw, R * OW) with R = OH + dh (kh - 1) padded rows, and the
  kh kernel rows are kh GEMMs reading slabs of ``cols`` shifted by whole rows, the BLAS
  ``beta = 1`` adding them up in the output (3x less copying than a full im2col);
* otherwise every window is copied, ``cols`` is (Cg * kh * kw, OH * OW), one GEMM.

The weight gradient runs the same gathers with the products transposed and accumulated into a
per-part sum (added in part order); the input gradient of a strided convolution is one GEMM into
columns and a compiled ``col2im``; unit strides go through ``forward`` with the flipped kernel,
as in the reference. Results agree with the reference to rounding (same BLAS).

The loops are in ``conv_loops`` (importing it imports numba: done on first use). They compile
once per machine and dtype: they take the BLAS function's address as an argument instead of
holding a ctypes function, so numba caches them on disk (``_jit.cache_dir()``).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .._jit import numba_module, takes
from .._out import fits
from .._parallel import parallel_for, parallel_sum, single_blas, threads_for
from ..numpy.conv import depthwise, input_as_forward
from ..windows import Window
from . import tuning
from .blas_symbols import gemm_pointers


def available(xp, *arrays) -> bool:
    """Whether the compiled kernels take these arrays: NumPy, one float32/float64 dtype, a
    non-empty batch, numba importable and NumPy's BLAS found."""
    return takes(xp, *arrays) and _kernels(arrays[0].dtype.type) is not None


def handles(win: Window) -> bool:
    """1-D and 2-D geometries (3-D stays on the NumPy kernels)."""
    return win.nd in (1, 2) and all(p > 0 for p in win.out_size)


# ---- the Python side: geometry, threads, layouts ------------------------------------------------


def _plane(win: Window) -> Window:
    """The window as 2-D: a 1-D one becomes a plane of height 1."""
    if win.nd == 2:
        return win
    return Window((1,) + win.in_size, (1,) + win.out_size, (1,) + win.kernel, (1,) + win.stride,
                  (1,) + win.dilation, (0,) + win.pad)


def _planar(a, win2: Window):
    """``a`` (N, C, *spatial) as a contiguous (N, C, H, W) array over the plane ``win2``."""
    return np.ascontiguousarray(a).reshape(a.shape[:2] + tuple(win2.in_size))


def _geometry(win: Window, cg: int, groups: int) -> tuple:
    """The tuple the kernels unpack: (kh, kw, sh, sw, dh, dw, ph, pw, groups, shift)."""
    kh, kw = win.kernel
    shift = int(win.stride[0] == 1 and kh > 1 and cg * kw >= tuning.CONV_SHIFT_MIN_DEPTH)
    return (kh, kw) + tuple(win.stride) + tuple(win.dilation) + tuple(win.pad) + (groups, shift)


def _taps(geo: tuple, cg: int) -> tuple:
    """(taps, depth): GEMMs per group and their inner dimension, the rows of ``cols``."""
    kh, kw, shift = geo[0], geo[1], geo[9]
    return (kh, cg * kw) if shift else (1, cg * kh * kw)


def _tap_weights(w, geo: tuple):
    """(G, taps, Og, depth): the weight matrix of each row shift (shift), or of all taps (1 tap)."""
    kh, kw, groups, shift = geo[0], geo[1], geo[8], geo[9]
    o, cg = w.shape[:2]
    w5 = w.reshape(groups, o // groups, cg, kh, kw)
    if shift:
        w5 = w5.transpose(0, 3, 1, 2, 4)
    return np.ascontiguousarray(w5).reshape((groups,) + _taps(geo, cg)[:1] + (o // groups, -1))


def _untap_weights(gwk, o: int, cg: int, geo: tuple):
    """Inverse of ``_tap_weights``: (G, taps, Og, depth) -> (O, Cg, kh, kw)."""
    kh, kw, groups, shift = geo[0], geo[1], geo[8], geo[9]
    if shift:
        return gwk.reshape(groups, kh, o // groups, cg, kw).transpose(0, 2, 3, 1, 4).reshape(o, cg, kh, kw)
    return gwk.reshape(o, cg, kh, kw)


def _threads(xp, n: int, macs: int, nbytes: int) -> int:
    return threads_for(xp, nbytes) if macs >= tuning.CONV_PARALLEL_MIN_MACS and n > 1 else 1


def _block(win2: Window, geo: tuple, cg: int, itemsize: int) -> int:
    """Samples per GEMM block (``tuning.CONV_BLOCK_COLUMNS``, ``CONV_BLOCK_BYTES``)."""
    oh, ow = win2.out_size
    depth = _taps(geo, cg)[1]
    rows = oh + win2.dilation[0] * (win2.kernel[0] - 1) if geo[9] else oh
    by_columns = max(1, tuning.CONV_BLOCK_COLUMNS // (oh * ow))
    by_bytes = max(1, tuning.CONV_BLOCK_BYTES // (depth * rows * ow * itemsize))
    return min(by_columns, by_bytes)


def forward(xp, x, w, win: Window, groups: int, out=None):
    """``Y = conv(X, W)``: (N, C, *S), (O, C/g, *K) -> (N, O, *P), or ``NotImplemented``; into
    ``out`` where it fits (``_out.py``)."""
    if depthwise(w.shape[1], w.shape[0] // groups, groups) or not (handles(win) and available(xp, x, w)):
        return NotImplemented
    with single_blas():
        return run_forward(xp, x, w, win, groups, out)


def input(xp, gy, w, win: Window, groups: int, out=None):
    """``X = conv_input(Y, W)``: (N, O, *P), (O, C/g, *K) -> (N, C, *S), or ``NotImplemented``;
    into ``out`` where it fits."""
    if depthwise(w.shape[1], gy.shape[1] // groups, groups):
        return NotImplemented
    if all(s == 1 for s in win.stride):
        return forward(xp, *input_as_forward(xp, gy, w, win, groups), groups, out=out)
    if not (handles(win) and available(xp, gy, w)):
        return NotImplemented
    with single_blas():
        return run_input_strided(xp, gy, w, win, groups, out)


def weight(xp, x, gy, win: Window, groups: int, cg: int):
    """``W = conv_weight(X, Y)``: (O, C/g, *K) summed over the batch, or ``NotImplemented``."""
    if depthwise(cg, gy.shape[1] // groups, groups) or not (handles(win) and available(xp, x, gy)):
        return NotImplemented
    with single_blas():
        return run_weight(xp, x, gy, win, groups, cg)


def run_forward(xp, x, w, win: Window, groups: int, out=None):
    """``forward`` on arrays it takes."""
    k, blas = _kernels(x.dtype.type)
    win2 = _plane(win)
    x4 = _planar(x, win2)
    n, o, cg = x4.shape[0], w.shape[0], w.shape[1]
    geo = _geometry(win2, cg, groups)
    wk = _tap_weights(w.reshape((o, cg) + tuple(win2.kernel)), geo)
    oh, ow = win2.out_size
    shape = (n, o) + tuple(win.out_size)
    y = out.reshape((n, o, oh, ow)) if fits(out, shape, x.dtype, x) else np.empty((n, o, oh, ow), dtype=x.dtype)
    macs = n * o * cg * math.prod(win2.kernel) * oh * ow
    threads = _threads(xp, n, macs, x4.nbytes + y.nbytes)
    nb = _block(win2, geo, cg, x.itemsize)
    parallel_for(lambda lo, hi: k.forward(x4, wk, y, lo, hi, geo, nb, blas), n, threads)
    return y.reshape(shape)


def run_weight(xp, x, gy, win: Window, groups: int, cg: int):
    """``weight`` on arrays it takes."""
    k, blas = _kernels(x.dtype.type)
    win2 = _plane(win)
    x4 = _planar(x, win2)
    n, o = gy.shape[:2]
    gy4 = np.ascontiguousarray(gy).reshape((n, o) + tuple(win2.out_size))
    geo = _geometry(win2, cg, groups)
    taps, depth = _taps(geo, cg)
    macs = n * o * cg * math.prod(win2.kernel) * math.prod(win2.out_size)
    threads = _threads(xp, n, macs, x4.nbytes + gy4.nbytes)
    nb = _block(win2, geo, cg, x.itemsize)

    def part(lo, hi):
        gwk = np.zeros((groups, taps, o // groups, depth), dtype=x.dtype)
        k.weight(x4, gy4, gwk, lo, hi, geo, win2.out_size[0], win2.out_size[1], nb, blas)
        return gwk

    return _untap_weights(parallel_sum(part, n, threads), o, cg, geo).reshape((o, cg) + tuple(win.kernel))


def run_input_strided(xp, gy, w, win: Window, groups: int, out=None):
    """``input`` for strided windows: one GEMM into columns and a compiled col2im per sample
    and group."""
    k, blas = _kernels(gy.dtype.type)
    n, o = gy.shape[:2]
    cg = w.shape[1]
    win2 = _plane(win)
    gy4 = np.ascontiguousarray(gy).reshape((n, o) + tuple(win2.out_size))
    geo = _geometry(win2, cg, groups)[:9] + (0,)  # every window copied: one matrix per group
    wk = _tap_weights(w.reshape((o, cg) + tuple(win2.kernel)), geo)
    h, wd = win2.in_size
    shape = (n, cg * groups) + tuple(win.in_size)
    gx = out.reshape((n, cg * groups, h, wd)) if fits(out, shape, gy.dtype, gy) else np.empty((n, cg * groups, h, wd),
                                                                                            dtype=gy.dtype)
    macs = n * o * cg * math.prod(win2.kernel) * math.prod(win2.out_size)
    threads = _threads(xp, n, macs, gy4.nbytes + gx.nbytes)
    oh, ow = win2.out_size
    nb = _block(win2, geo, cg, gy.itemsize)
    parallel_for(lambda lo, hi: k.input(gy4, wk, gx, lo, hi, geo, oh, ow, nb, blas), n, threads)
    return gx.reshape(shape)


# ---- the compiled side --------------------------------------------------------------------------


@functools.cache
def _kernels(dtype):
    """The compiled loops (``conv_loops``) and ``blas``, the (address, wide) of NumPy's
    ``?gemm`` for ``dtype`` they take, or None without numba or NumPy's BLAS. Imported on first
    use (numba costs about 0.3 s to import)."""
    pointers = None if numba_module() is None else gemm_pointers()
    if pointers is None:
        return None
    from . import conv_loops  # on use: importing the loops imports numba (heavy, optional)
    return conv_loops, pointers[dtype]
