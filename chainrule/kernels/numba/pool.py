"""Max pooling, the ``pool`` family of the compiled backend (numba): ``max_pool`` with the
reference's signature (``kernels/numpy/pool.py``) for 1-D and 2-D windows without padding that
lie inside the input; it declines otherwise (padding, ``ceil_mode`` windows past the input, 3-D
pools, no numba). Its route, ``TapRoute``, keeps each window's tap number and answers
``indices`` and ``route`` with compiled loops too.

Why: the NumPy code makes a pass over the input per kernel tap, tracking which tap holds the
maximum, and its gradient is an unbuffered ``np.add.at``. Measured on LeNet-5's first pool at
batch 64 (2x2, stride 2, on 64x6x28x28 float32, one thread): 430-740 us for the NumPy forward.
A compiled scan that updates the maximum and its position together stays scalar (330-960 us:
the position is a second chain of dependent branches); with the kernel's size, stride and
dilation compiled in as constants, the maximum alone takes 50 us, and a second, branch-free
scan backwards over the taps (the first tap equal to the maximum) 40 us more. So forward keeps
that tap number (int16), and backward adds each gradient at its tap without searching.

Semantics are the reference's and PyTorch's: the first maximum in row-major order over the kernel
wins, except that a NaN wins over everything, the last NaN if several (a rare second scan).

Kernels are compiled per (kernel, stride, dilation), and per dtype on first call; the loops
are in ``pool_loops`` (importing it imports numba: done on first use).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import numba_module, takes
from .._out import fits
from .._parallel import parallel_for, threads_for
from ..numpy.pool import scatter
from ..windows import Window


def handles(win: Window) -> bool:
    """1-D and 2-D windows without padding, every one inside the input, at most 32767 taps
    (the tap numbers are int16)."""
    return win.nd in (1, 2) and not any(win.pad) and math.prod(win.kernel) <= 32767 and all(
        o > 0 and (o - 1) * s + (k - 1) * d < n
        for o, s, k, d, n in zip(win.out_size, win.stride, win.kernel, win.dilation, win.in_size))


def available(xp, *arrays) -> bool:
    """Whether the compiled kernels take these arrays (``_jit.takes``, numba importable)."""
    return takes(xp, *arrays) and numba_module() is not None


def _planes(a, size: tuple):
    """``a`` (N, C, *S) as contiguous (N*C, H, W) planes (a 1-D size gets height 1)."""
    hw = (1,) + tuple(size) if len(size) == 1 else tuple(size)
    return np.ascontiguousarray(a).reshape((-1,) + hw)


class TapRoute:
    """Where each window's maximum is, as its tap number (int16, row-major over the kernel)."""

    def __init__(self, taps, win: Window, in_shape: tuple):
        self.taps, self.win, self.in_shape = taps, win, tuple(in_shape)

    def indices(self, xp):
        """Flat per-plane input index of each window's maximum, (N, C, *P) int64."""
        return tap_indices(xp, self.taps, self.win)

    def route(self, xp, g, out=None):
        """Zeros of the input's shape with each ``g`` added at its window's maximum (a gradient
        the compiled loops do not take goes through the reference's scatter); into ``out`` where
        it fits (``_out.py``)."""
        if not available(xp, g):
            return scatter(xp, self.indices(xp), g, self.in_shape, out)
        return tap_route(xp, self.taps, g, self.in_shape, self.win, out)


def max_pool(xp, x, win: Window, with_route: bool):
    """(y, route): the reference's ``max_pool`` for the windows and arrays this backend takes,
    else ``NotImplemented``."""
    if not (handles(win) and available(xp, x)):
        return NotImplemented
    y, taps = run_max_pool(xp, x, win, with_route)
    return y, (TapRoute(taps, win, x.shape) if with_route else None)


def run_max_pool(xp, x, win: Window, with_taps: bool):
    """(y, taps): the maxima (N, C, *P) of the windows of contiguous ``x`` (N, C, *S) and, when
    ``with_taps``, which tap of each window holds its maximum (int16, row-major over the
    kernel: the first equal one, the last NaN), else None."""
    k = _kernels(*_geometry(win))
    shape = x.shape[:2] + tuple(win.out_size)
    y = np.empty(shape, dtype=x.dtype)
    taps = np.empty(shape if with_taps else (1,) * len(shape), dtype=np.int16)
    planes = [_planes(x, win.in_size), _planes(y, win.out_size)]
    t3 = _planes(taps, win.out_size) if with_taps else taps.reshape(1, 1, 1)
    threads = threads_for(xp, x.nbytes)
    parallel_for(lambda lo, hi: k.maxima(*planes, t3, with_taps, lo, hi), planes[0].shape[0], threads)
    return y, (taps if with_taps else None)


def tap_indices(xp, taps, win: Window):
    """Flat position in its (n, c) input plane of each window's maximum (int64), from ``taps``."""
    k = _kernels(*_geometry(win))
    idx = np.empty(taps.shape, dtype=np.int64)
    t3, i3 = _planes(taps, win.out_size), _planes(idx, win.out_size)
    width = win.in_size[-1]
    threads = threads_for(xp, idx.nbytes)
    parallel_for(lambda lo, hi: k.positions(t3, width, i3, lo, hi), t3.shape[0], threads)
    return idx


def tap_route(xp, taps, g, in_shape: tuple, win: Window, out=None):
    """The gradient of max pooling: zeros of ``in_shape`` with each ``g`` added at its window's
    maximum (first order; ``g`` shaped like the output); into ``out`` where it fits."""
    k = _kernels(*_geometry(win))
    if fits(out, in_shape, g.dtype, g):
        gx = out
        gx.fill(0)
    else:
        gx = np.zeros(in_shape, dtype=g.dtype)
    t3, g3, gx3 = _planes(taps, win.out_size), _planes(g, win.out_size), _planes(gx, win.in_size)
    threads = threads_for(xp, gx.nbytes)
    parallel_for(lambda lo, hi: k.route(t3, g3, gx3, lo, hi), t3.shape[0], threads)
    return gx


def _geometry(win: Window) -> tuple:
    """(kh, kw, sh, sw, dh, dw), a 1-D window as a plane of height 1."""
    if win.nd == 1:
        return (1, win.kernel[0], 1, win.stride[0], 1, win.dilation[0])
    return tuple(win.kernel) + tuple(win.stride) + tuple(win.dilation)


def _kernels(kh, kw, sh, sw, dh, dw):
    """The kernels of one geometry (``pool_loops``: its numbers are compile-time
    constants; numba specialises them per dtype on first call and keeps them on disk), or None
    without numba. Imported on first use (numba costs about 0.3 s to import)."""
    if numba_module() is None:
        return None
    from . import pool_loops  # on use: importing the loops imports numba (heavy, optional)
    return pool_loops.kernels(kh, kw, sh, sw, dh, dw)
