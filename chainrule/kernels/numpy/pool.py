"""Pooling, the ``pool`` family of the reference backend: ``window_sum`` and its adjoint
``window_sum_transpose`` (average pooling; this backend only), ``adaptive_max_pool`` (this backend
only) and ``max_pool``, which return the maxima
and, when asked, a ``MaxRoute``: which input position holds each window's maximum, an object of
this backend that answers ``indices`` (for ``return_indices``) and ``route`` (the gradient: each
value added at its window's maximum). The compiled backend (``kernels/numba/pool.py``) returns a
route of its own with the same two methods; operators never look inside one.

Semantics are PyTorch's: the first maximum in row-major order over the kernel wins, except that
a NaN wins over everything, the last NaN if several; a window of -inf (all padding) reports its
first real tap.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .._out import fits
from ..tables import adaptive_taps
from ..windows import Window, crop, flat_phases, flat_taps, from_flat, merge_phases, phase_shape, phases, to_flat


def argmax_taps(xp, views, n_taps: int):
    """Running maximum over the arrays ``views()`` yields (equally shaped, in scan order).

    Returns (max, tap): ``tap`` is the position of the first maximum, or of the last NaN where a
    window holds NaN (PyTorch's ``val > max || isnan(val)`` scan); the max propagates NaN.
    """
    it = views()
    m = next(it).copy()
    arg = xp.zeros(m.shape, dtype=np.int8 if n_taps <= 127 else np.int32)  # small: written every tap
    for j, v in enumerate(it, start=1):
        # taps come in increasing j, so "arg = j where v > m" is max(arg, (v > m) * j); masked
        # copies are ~20x slower than this pair of int8 operations
        xp.maximum(arg, (v > m).view(np.int8) * arg.dtype.type(j), out=arg)
        xp.maximum(m, v, out=m)
    if m.dtype.kind == "f" and xp.isnan(m).any():  # rare: a second scan for the NaN rule
        for j, v in enumerate(views()):
            xp.copyto(arg, j, where=xp.isnan(v))
    return m, arg


def tap_table(pos: list, size: tuple) -> np.ndarray:
    """(prod P, prod k) table of flat input positions from per-axis positions ``pos[a]`` (P_a, k_a)."""
    nd = len(pos)
    flat = np.zeros((), dtype=np.int64)
    for a, pa in enumerate(pos):
        stride = math.prod(size[a + 1:])
        shape = [1] * (2 * nd)
        shape[a], shape[nd + a] = pa.shape
        flat = flat + pa.reshape(shape).astype(np.int64) * stride
    n_win = math.prod(p.shape[0] for p in pos)
    return flat.reshape(n_win, -1)


def scatter(xp, idx, g, in_shape: tuple, out=None):
    """Zeros of ``in_shape`` (N, C, *S) with ``g[n, c, p]`` added at the flat plane position
    ``idx[n, c, p]`` (repeated positions add up); into ``out`` where it fits (``_out.py``)."""
    n, c = idx.shape[:2]
    plane = math.prod(in_shape[2:])
    if fits(out, in_shape, g.dtype, g):
        out = out.reshape(-1)
        out.fill(0)
    else:
        out = xp.zeros(math.prod(in_shape), dtype=g.dtype)
    base = (xp.arange(n * c, dtype=idx.dtype) * plane).reshape((n, c) + (1,) * (idx.ndim - 2))
    flat = (idx + base).ravel()
    if xp is np:
        np.add.at(out, flat, g.ravel())
    else:  # CuPy spells NumPy's ufunc.at as cupyx.scatter_add
        import cupyx

        cupyx.scatter_add(out, flat, g.ravel())
    return out.reshape(in_shape)


class MaxRoute:
    """Where each window's maximum is: its tap number ``arg`` (N, C, *P) and a table of the flat
    input position of every tap of every window (``tap_table``), looked up only when needed."""

    def __init__(self, arg, table, in_shape: tuple):
        self.arg, self.table, self.in_shape = arg, table, tuple(in_shape)

    def indices(self, xp):
        """Flat per-plane input index of each window's maximum, (N, C, *P) int64."""
        arg = self.arg
        n_win, n_tap = self.table.shape
        table = xp.asarray(self.table.ravel())
        q = arg.reshape(arg.shape[:2] + (n_win,)).astype(np.intp)
        q += xp.arange(0, n_win * n_tap, n_tap, dtype=np.intp)
        return table.take(q).reshape(arg.shape)

    def route(self, xp, g, out=None):
        """The gradient of the max: zeros of the input's shape with each ``g`` added at its
        window's maximum (into ``out`` where it fits)."""
        return scatter(xp, self.indices(xp), g, self.in_shape, out)


def max_pool(xp, x, win: Window, with_route: bool):
    """(y, route): the maxima (N, C, *P) of the windows of ``x`` (N, C, *S) over ``win`` (padding
    reads -inf) and, when ``with_route``, a ``MaxRoute``, else None."""
    phf = flat_phases(phases(xp, x, win, fill=-np.inf), win)
    if not with_route:
        # measured on LeNet's first pool at batch 256: 1.65 against 2.55 ms with the tap index
        m = None
        for _, v in flat_taps(phf, win):
            m = v.copy() if m is None else xp.maximum(m, v, out=m)  # NaN propagates
        return from_flat(xp, m, win), None
    m, arg = argmax_taps(xp, lambda: (v for _, v in flat_taps(phf, win)), math.prod(win.kernel))
    y, arg = from_flat(xp, m, win), from_flat(xp, arg, win)
    pos = []
    for a in range(win.nd):
        p = np.arange(win.out_size[a])[:, None] * win.stride[a] - win.pad[a]
        pa = p + np.arange(win.kernel[a])[None, :] * win.dilation[a]
        valid = (pa >= 0) & (pa < win.in_size[a])
        # a padding tap wins only in a window of -inf; send it to the window's first real tap
        first = np.take_along_axis(pa, valid.argmax(axis=1)[:, None], axis=1)
        pos.append(np.clip(np.where(valid, pa, first), 0, win.in_size[a] - 1))
    return y, MaxRoute(arg, tap_table(pos, win.in_size), x.shape)


# ---- window sums (average pooling) --------------------------------------------------------------


def _tiles(win: Window) -> bool:
    """Whether the windows tile the input exactly (no padding, no gaps, no overlap) with more
    than 16 taps: then one reshaped reduction beats a pass per tap (global pooling)."""
    return math.prod(win.kernel) > 16 and all(
        p == 0 and s == k and (d == 1 or k == 1) and size == o * k
        for size, o, k, s, d, p in zip(win.in_size, win.out_size, win.kernel, win.stride, win.dilation, win.pad))


def _tile_shape(lead: tuple, win: Window) -> tuple:
    shape = lead
    for o, k in zip(win.out_size, win.kernel):
        shape += (o, k)
    return shape


def window_sum(xp, x, win: Window):
    """``y[n, c, p] = sum_j xpad[n, c, p*s + j*d]`` (zero padding)."""
    if _tiles(win):
        axes = tuple(3 + 2 * a for a in range(win.nd))
        return x.reshape(_tile_shape(x.shape[:2], win)).sum(axis=axes)
    phf = flat_phases(phases(xp, x, win), win)
    acc = None
    for _, v in flat_taps(phf, win):
        if acc is None:
            acc = v.copy()
        else:
            acc += v
    return from_flat(xp, acc, win)


def window_sum_transpose(xp, g, win: Window):
    """The adjoint of ``window_sum``: every ``g[n, c, p]`` added onto each element of window p."""
    n, c = g.shape[:2]
    if _tiles(win):
        shape = _tile_shape((n, c), win)
        expanded = g.reshape(tuple(s if i < 2 or i % 2 == 0 else 1 for i, s in enumerate(shape)))
        return xp.ascontiguousarray(xp.broadcast_to(expanded, shape)).reshape((n, c) + tuple(win.in_size))
    gf = to_flat(xp, g, win)
    gph = xp.zeros(phase_shape((n, c), win), dtype=g.dtype)
    for _, v in flat_taps(flat_phases(gph, win), win):
        v += gf
    return crop(xp, merge_phases(xp, gph, win), win)


def adaptive_max_pool(xp, x, out_size: tuple):
    """Adaptive max pooling of (N, C, *S) to (N, C, *out_size): the max over the windows
    ``[floor(i*S/P), ceil((i+1)*S/P))`` of each axis, and its ``MaxRoute``."""
    size = x.shape[2:]
    nd = len(size)
    index, pos, kmax = [], [], []
    for a, (s, p) in enumerate(zip(size, out_size)):
        ii = adaptive_taps(s, p)  # (P, k): shorter windows repeat their last position
        k = ii.shape[1]
        shape = [1] * (2 * nd)
        shape[2 * a], shape[2 * a + 1] = p, k
        index.append(xp.asarray(ii.reshape(shape)))
        pos.append(ii)
        kmax.append(k)
    g = x[(slice(None), slice(None)) + tuple(index)]  # (N, C, P0, k0, P1, k1, ...)

    def views():
        for off in itertools.product(*map(range, kmax)):
            sel: tuple[slice | int, ...] = (slice(None), slice(None))
            for j in off:
                sel += (slice(None), j)
            yield g[sel]

    y, arg = argmax_taps(xp, views, math.prod(kmax))
    return y, MaxRoute(arg, tap_table(pos, size), x.shape)
