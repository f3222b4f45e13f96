"""Max pooling's compiled loops over (N*C, H, W) planes ``lo:hi`` (``pool.py`` says why and
what they compute).

The kernel's size, stride and dilation are compile-time constants: the loops are built per
geometry by ``kernels(kh, kw, sh, sw, dh, dw)``. Passed as arguments instead, the loops measured
7-12x slower (forward) and about 2x (backward) on LeNet's and ResNet's pools (docs/perf-log.md).
Each geometry is still compiled once per machine: numba keys the on-disk entry of a closure by
its cell contents, here six integers.
"""

from __future__ import annotations

import functools

from ._compile import jit


@functools.cache
def kernels(kh: int, kw: int, sh: int, sw: int, dh: int, dw: int) -> _Kernels:
    """The loops of one geometry (numba specialises them per dtype on first call)."""
    # the input position of tap t of window (oh, ow), (oh sh + (t // kw) dh, ow sw + (t % kw) dw),
    # is written out where it is used: as a helper returning the pair, the kernels measured up
    # to 1.4x slower (LeNet pool 1, 2 threads: taps 129-166 against 121-145 us, indices 97-156
    # against 96-109 us)

    @jit(nogil=True)
    def maxima(x, y, arg, with_arg, lo, hi):
        oh_n, ow_n = y.shape[1], y.shape[2]
        for p in range(lo, hi):
            xp_, yp, ap = x[p], y[p], arg[p if with_arg else 0]
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
                if not with_arg:
                    continue
                taps = ap[oh]
                for ow in range(ow_n):
                    # the first tap equal to the maximum: a scan backwards, without branches
                    m, a = out[ow], 0
                    for t in range(kh * kw - 1, -1, -1):
                        a = t if xp_[oh * sh + (t // kw) * dh, ow * sw + (t % kw) * dw] == m else a
                    taps[ow] = a
                for ow in range(ow_n):
                    if out[ow] != out[ow]:  # rare: the last NaN instead
                        for t in range(kh * kw):
                            v = xp_[oh * sh + (t // kw) * dh, ow * sw + (t % kw) * dw]
                            if v != v:
                                taps[ow] = t
        return 0

    @jit(nogil=True)
    def positions(arg, w, idx, lo, hi):
        oh_n, ow_n = arg.shape[1], arg.shape[2]
        for p in range(lo, hi):
            for oh in range(oh_n):
                for ow in range(ow_n):
                    t = arg[p, oh, ow]
                    idx[p, oh, ow] = (oh * sh + (t // kw) * dh) * w + ow * sw + (t % kw) * dw
        return 0

    @jit(nogil=True)
    def route(arg, g, gx, lo, hi):
        oh_n, ow_n = arg.shape[1], arg.shape[2]
        for p in range(lo, hi):
            for oh in range(oh_n):
                for ow in range(ow_n):
                    t = arg[p, oh, ow]
                    gx[p, oh * sh + (t // kw) * dh, ow * sw + (t % kw) * dw] += g[p, oh, ow]
        return 0

    return _Kernels(maxima, positions, route)


class _Kernels:
    def __init__(self, maxima, positions, route):
        self.maxima, self.positions, self.route = maxima, positions, route
