"""The compiled loops of 1-D and 2-D convolution (``conv.py`` says why, what they compute
and the layout of ``cols``): per part ``lo:hi`` of the batch, gathers of windows and NumPy's own
BLAS (``blas.gemm``, by an address passed in as ``blas``, so that this code can be cached)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._compile import jit
from .blas import NO_TRANS, ROW_MAJOR, TRANS
from .blas import gemm as _gemm_intrinsic

# the intrinsic as compiled callers call it, without numba's typing context (numba's stub keeps
# that argument in the signature and types the call as never returning)
gemm: Callable[..., None] = _gemm_intrinsic

# Inner loops run t from 0 over views that start where the copy starts (``dst[t] =
# src[t]``): numba checks every signed index for negative wrap-around unless it can prove
# it non-negative, and that check keeps the loop from vectorising (measured 0.55 against
# 3.2-4.0 ms for the gathers of the bench's 16-channel 32x32 convolution at batch 64).

@jit(nogil=True)
def gather(x, s, b, m, c0, cg, cols, geo, rows, ow_n):
    """Sample s, channels c0:c0+cg, into place b of a block of m samples:
    cols[(c, [i,] j), (row, b, ow)].

    Only the entries read from the input are written: which entries fall in the padding
    depends on the geometry alone, so ``cols`` comes zeroed and those stay zero."""
    kh, kw, sh, sw, dh, dw, ph, pw, groups, shift = geo
    h, wd = x.shape[2], x.shape[3]
    taps_h = 1 if shift else kh
    c3 = cols.reshape(cg * taps_h * kw, rows * m, ow_n)
    for c in range(cg):
        for i in range(taps_h):
            for j in range(kw):
                r = (c * taps_h + i) * kw + j
                base = j * dw - pw
                # output columns t with 0 <= t*sw + base < wd: first <= t < stop (written
                # out here: as a called function returning both, numba ran 10x slower)
                last = wd - 1 - base
                stop = 0 if last < 0 else min(ow_n, last // sw + 1)
                first = (sw - 1 - base) // sw if base < 0 else 0
                cnt = stop - first
                if cnt <= 0:
                    continue
                for q in range(rows):
                    ih = q - ph if shift else q * sh + i * dh - ph
                    if ih < 0 or ih >= h:
                        continue
                    dst = c3[r, q * m + b, first:stop]
                    if sw == 1:
                        src = x[s, c0 + c, ih, first + base:stop + base]
                        for t in range(cnt):
                            dst[t] = src[t]
                    else:
                        src = x[s, c0 + c, ih, first * sw + base:]
                        for t in range(cnt):
                            dst[t] = src[t * sw]

@jit(nogil=True)
def interleave(a, s0, m, o0, og, oh_n, ow_n, out):
    """out[o, (q, b, t)] = a[s0 + b, o0 + o, q, t]: a block of m samples of an
    output-shaped array (N, O, OH, OW) in the column order of the block's GEMMs."""
    o3 = out[:og * oh_n * m * ow_n].reshape(og, oh_n * m, ow_n)
    for o in range(og):
        for b in range(m):
            for q in range(oh_n):
                dst = o3[o, q * m + b]
                src = a[s0 + b, o0 + o, q]
                for t in range(ow_n):
                    dst[t] = src[t]

@jit(nogil=True)
def deinterleave(blk, s0, m, o0, og, oh_n, ow_n, y):
    """The inverse of ``interleave``: y[s0 + b, o0 + o, q, t] = blk[o, (q, b, t)]."""
    b3 = blk[:og * oh_n * m * ow_n].reshape(og, oh_n * m, ow_n)
    for o in range(og):
        for b in range(m):
            for q in range(oh_n):
                dst = y[s0 + b, o0 + o, q]
                src = b3[o, q * m + b]
                for t in range(ow_n):
                    dst[t] = src[t]

@jit(nogil=True)
def block(x, s0, m, c0, cg, cols_all, relayout, geo, depth, rows, ow_n):
    """The columns of samples s0:s0+m (channels c0:c0+cg), a view of ``cols_all``, zeroed
    first when the block size changed (the last, smaller block has another layout)."""
    if relayout:
        cols_all[:] = 0.0
    cols = cols_all[:depth * rows * m * ow_n]
    for b in range(m):
        gather(x, s0 + b, b, m, c0, cg, cols, geo, rows, ow_n)
    return cols

@jit(nogil=True)
def buffers(x, geo, depth, og, oh_n, ow_n, nb):
    """(rows, cols_all, blk_all) of ``forward`` and ``weight``: the padded rows a block's
    columns span, the zeroed columns of a block of nb samples, and a block of outputs."""
    kh, dh, shift = geo[0], geo[4], geo[9]
    rows = oh_n + dh * (kh - 1) if shift else oh_n
    cols_all = np.zeros(depth * rows * nb * ow_n, dtype=x.dtype)
    blk_all = np.empty(og * oh_n * nb * ow_n, dtype=x.dtype)
    return rows, cols_all, blk_all

@jit(nogil=True)
def forward(x, wk, y, lo, hi, geo, nb, blas):
    kh, kw, sh, sw, dh, dw, ph, pw, groups, shift = geo
    itemsize = x.itemsize
    cg = x.shape[1] // groups
    og, oh_n, ow_n = y.shape[1] // groups, y.shape[2], y.shape[3]
    taps, depth = wk.shape[1], wk.shape[3]
    rows, cols_all, blk_all = buffers(x, geo, depth, og, oh_n, ow_n, nb)
    m_prev = nb
    for s0 in range(lo, hi, nb):
        m = min(nb, hi - s0)
        n_cols = oh_n * m * ow_n
        for g in range(groups):
            cols = block(x, s0, m, g * cg, cg, cols_all, m != m_prev and g == 0, geo, depth, rows, ow_n)
            out = y[s0, g * og].ctypes.data if m == 1 else blk_all.ctypes.data
            for i in range(taps):
                gemm(blas, ROW_MAJOR, NO_TRANS, NO_TRANS, og, n_cols, depth, 1.0, wk[g, i].ctypes.data, depth,
                     cols.ctypes.data + i * dh * m * ow_n * itemsize, rows * m * ow_n,
                     0.0 if i == 0 else 1.0, out, n_cols, y)
            if m > 1:
                deinterleave(blk_all, s0, m, g * og, og, oh_n, ow_n, y)
        m_prev = m
    return 0

@jit(nogil=True)
def weight(x, gy, gwk, lo, hi, geo, oh_n, ow_n, nb, blas):
    kh, kw, sh, sw, dh, dw, ph, pw, groups, shift = geo
    itemsize = x.itemsize
    cg = x.shape[1] // groups
    og = gy.shape[1] // groups
    taps, depth = gwk.shape[1], gwk.shape[3]
    rows, cols_all, blk_all = buffers(x, geo, depth, og, oh_n, ow_n, nb)
    m_prev = nb
    for s0 in range(lo, hi, nb):
        m = min(nb, hi - s0)
        n_cols = oh_n * m * ow_n
        for g in range(groups):
            cols = block(x, s0, m, g * cg, cg, cols_all, m != m_prev and g == 0, geo, depth, rows, ow_n)
            if m == 1:
                a = gy[s0, g * og].ctypes.data
            else:
                interleave(gy, s0, m, g * og, og, oh_n, ow_n, blk_all)
                a = blk_all.ctypes.data
            for i in range(taps):
                gemm(blas, ROW_MAJOR, NO_TRANS, TRANS, og, depth, n_cols, 1.0, a, n_cols,
                     cols.ctypes.data + i * dh * m * ow_n * itemsize, rows * m * ow_n,
                     1.0, gwk[g, i].ctypes.data, depth, gwk)
        m_prev = m
    return 0

@jit(nogil=True)
def input(gy, wk, gx, lo, hi, geo, oh_n, ow_n, nb, blas):
    kh, kw, sh, sw, dh, dw, ph, pw, groups, shift = geo
    og = gy.shape[1] // groups
    cg, h, wd = gx.shape[1] // groups, gx.shape[2], gx.shape[3]
    depth = wk.shape[3]
    cols_all = np.empty(depth * oh_n * nb * ow_n, dtype=gy.dtype)
    blk_all = np.empty(og * oh_n * nb * ow_n, dtype=gy.dtype)
    for s0 in range(lo, hi, nb):
        m = min(nb, hi - s0)
        n_cols = oh_n * m * ow_n
        for b in range(m):
            gx[s0 + b] = 0.0
        for g in range(groups):
            if m == 1:
                a = gy[s0, g * og].ctypes.data
            else:
                interleave(gy, s0, m, g * og, og, oh_n, ow_n, blk_all)
                a = blk_all.ctypes.data
            gemm(blas, ROW_MAJOR, TRANS, NO_TRANS, depth, n_cols, og, 1.0, wk[g, 0].ctypes.data, depth,
                 a, n_cols, 0.0, cols_all.ctypes.data, n_cols, gx)
            c3 = cols_all[:depth * n_cols].reshape(depth, oh_n * m, ow_n)
            for b in range(m):
                for c in range(cg):
                    for i in range(kh):
                        for j in range(kw):
                            r = (c * kh + i) * kw + j
                            base = j * dw - pw
                            last = wd - 1 - base  # as in gather
                            stop = 0 if last < 0 else min(ow_n, last // sw + 1)
                            first = (sw - 1 - base) // sw if base < 0 else 0
                            cnt = stop - first
                            if cnt <= 0:
                                continue
                            for q in range(oh_n):
                                ih = q * sh + i * dh - ph
                                if ih < 0 or ih >= h:
                                    continue
                                dst = gx[s0 + b, g * cg + c, ih, first * sw + base:]
                                src = c3[r, q * m + b, first:stop]
                                for t in range(cnt):
                                    dst[t * sw] += src[t]
    return 0
