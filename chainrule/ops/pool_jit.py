"""Compiled 1-D and 2-D max pooling without padding (numba), used by ``pooling.MaxPool`` when
``_jit.takes`` the input and every window lies inside it.

Why: the NumPy code makes a pass over the input per kernel tap, tracking which tap holds the
maximum, and its gradient is an unbuffered ``np.add.at``. Measured on LeNet-5's first pool at
batch 64 (2x2, stride 2, on 64x6x28x28 float32): 430-740 us for the NumPy forward. A compiled
scan that also tracks the winning position is no better (330-960 us: the position is a second
dependency chain that keeps the loop scalar), but the maximum alone, with the kernel's size,
stride and dilation compiled in as constants, takes about 50 us. So forward computes only the
maxima; the positions are found again, from the input and the maxima, when backward or
``return_indices`` needs them: the first tap equal to the maximum in PyTorch's scan order
(row-major over the kernel), or the last NaN when the maximum is NaN.

Kernels are compiled per (kernel, stride, dilation) and dtype, about 0.3 s each on first use.
Windows with padding, or that reach past the input (``ceil_mode``), and 3-D pools stay on the
NumPy code.
"""

from __future__ import annotations

import functools

import numpy as np

from .._jit import numba_module, takes
from .._parallel import parallel_for, threads_for
from ._windows import Window


def handles(win: Window) -> bool:
    """1-D and 2-D windows without padding, every one inside the input."""
    return win.nd in (1, 2) and not any(win.pad) and all(
        o > 0 and (o - 1) * s + (k - 1) * d < n
        for o, s, k, d, n in zip(win.out_size, win.stride, win.kernel, win.dilation, win.in_size))


def available(xp, *arrays) -> bool:
    """Whether the compiled kernels take these arrays (``_jit.takes``, numba importable)."""
    return takes(xp, *arrays) and numba_module() is not None


def _planes(a, size: tuple):
    """``a`` (N, C, *S) as contiguous (N*C, H, W) planes (a 1-D size gets height 1)."""
    hw = (1,) + tuple(size) if len(size) == 1 else tuple(size)
    return np.ascontiguousarray(a).reshape((-1,) + hw)


def _run(xp, kernel, win: Window, x, *arrays):
    """``kernel(x3, *arrays3, lo, hi)`` over the (N, C) planes, split over the threads."""
    planes = [_planes(a, s) for a, s in zip((x,) + arrays, (win.in_size,) + (win.out_size,) * len(arrays))]
    threads = threads_for(xp, x.nbytes)
    parallel_for(lambda lo, hi: kernel(*planes, lo, hi), planes[0].shape[0], threads)
    return planes


def max_pool(xp, x, win: Window):
    """The maxima (N, C, *P) of the windows of contiguous ``x`` (N, C, *S)."""
    k = _kernels(x.dtype.type, *_geometry(win))
    y = np.empty(x.shape[:2] + tuple(win.out_size), dtype=x.dtype)
    _run(xp, lambda x3, y3, lo, hi: k.maxima(x3, y3, lo, hi), win, x, y)
    return y


def indices(xp, x, y, win: Window):
    """Flat position in its (n, c) input plane of each window's maximum (int64, (N, C, *P))."""
    k = _kernels(x.dtype.type, *_geometry(win))
    idx = np.empty(y.shape, dtype=np.int64)
    _run(xp, lambda x3, y3, i3, lo, hi: k.positions(x3, y3, i3, lo, hi), win, x, y, idx)
    return idx


def route(xp, x, y, g, win: Window):
    """The gradient of max pooling: zeros shaped like ``x`` with each ``g`` added at its
    window's maximum (first order; ``g`` shaped like ``y``)."""
    k = _kernels(x.dtype.type, *_geometry(win))
    gx = np.zeros(x.shape, dtype=x.dtype)
    gx3 = _planes(gx, win.in_size)  # a view: the kernel writes into gx
    _run(xp, lambda x3, y3, g3, lo, hi: k.route(x3, y3, g3, gx3, lo, hi), win, x, y, g)
    return gx


def _geometry(win: Window) -> tuple:
    """(kh, kw, sh, sw, dh, dw), a 1-D window as a plane of height 1."""
    if win.nd == 1:
        return (1, win.kernel[0], 1, win.stride[0], 1, win.dilation[0])
    return tuple(win.kernel) + tuple(win.stride) + tuple(win.dilation)


@functools.cache
def _kernels(dtype, kh, kw, sh, sw, dh, dw):
    """The kernels for one geometry (its numbers are compile-time constants; ``dtype`` keys the
    cache, numba specialising per dtype on first call), or None without numba."""
    numba = numba_module()
    if numba is None:
        return None
    jit = numba.njit(nogil=True, cache=False)

    @jit
    def maxima(x, y, lo, hi):
        oh_n, ow_n = y.shape[1], y.shape[2]
        for p in range(lo, hi):
            xp_, yp = x[p], y[p]
            for oh in range(oh_n):
                out = yp[oh]
                for ow in range(ow_n):
                    m = xp_[oh * sh, ow * sw]
                    for i in range(kh):
                        for j in range(kw):
                            v = xp_[oh * sh + i * dh, ow * sw + j * dw]
                            if v > m or v != v:  # NaN propagates
                                m = v
                    out[ow] = m
        return 0

    # no array views inside the per-window loops below: numba reference-counts each view it
    # makes (measured for the positions of LeNet's first pool at batch 64, 2 threads: 420-530 us
    # with a view per window, 380 us without; the scan's branches on tied maxima cost the rest)

    @jit
    def winner(x, p, m, oh, ow):
        """(row, column) of the maximum ``m`` of window (oh, ow) of plane p: the first equal
        tap, or the last NaN."""
        r0, c0 = oh * sh, ow * sw
        if m != m:
            r, c = r0, c0
            for i in range(kh):
                for j in range(kw):
                    if x[p, r0 + i * dh, c0 + j * dw] != x[p, r0 + i * dh, c0 + j * dw]:
                        r, c = r0 + i * dh, c0 + j * dw
            return r, c
        for i in range(kh):
            for j in range(kw):
                if x[p, r0 + i * dh, c0 + j * dw] == m:
                    return r0 + i * dh, c0 + j * dw
        return r0, c0

    @jit
    def positions(x, y, idx, lo, hi):
        w = x.shape[2]
        oh_n, ow_n = y.shape[1], y.shape[2]
        for p in range(lo, hi):
            for oh in range(oh_n):
                for ow in range(ow_n):
                    r, c = winner(x, p, y[p, oh, ow], oh, ow)
                    idx[p, oh, ow] = r * w + c
        return 0

    @jit
    def route(x, y, g, gx, lo, hi):
        oh_n, ow_n = y.shape[1], y.shape[2]
        for p in range(lo, hi):
            for oh in range(oh_n):
                for ow in range(ow_n):
                    r, c = winner(x, p, y[p, oh, ow], oh, ow)
                    gx[p, r, c] += g[p, oh, ow]
        return 0

    return _Kernels(maxima, positions, route)


class _Kernels:
    def __init__(self, maxima, positions, route):
        self.maxima, self.positions, self.route = maxima, positions, route
