"""Naive loop implementations of the textbook formulas, used as an independent reference.

Every function loops over output (or input) positions explicitly and works in float64 NumPy;
they are slow and only meant for the small shapes of the tests. Spatial axes are N-d
throughout; arrays are (N, C, *spatial).
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def _tup(v, nd):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd


def conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, p] = b[o] + sum_{c, j} w[o, c, j] * x[n, g*Cg + c, p*s + j*d - lo] (zero outside x).

    ``padding`` is an int, a tuple or a pair ``(lo, hi)`` of tuples.
    """
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    nd = x.ndim - 2
    s, d = _tup(stride, nd), _tup(dilation, nd)
    if isinstance(padding, tuple) and len(padding) == 2 and isinstance(padding[0], tuple):
        lo, hi = padding
    else:
        lo = hi = _tup(padding, nd)
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    k = w.shape[2:]
    size = x.shape[2:]
    out = tuple((size[a] + lo[a] + hi[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in range(nd))
    og = o // groups
    y = np.zeros((n, o) + out)
    for nn, oo in itertools.product(range(n), range(o)):
        g = oo // og
        for p in itertools.product(*(range(v) for v in out)):
            acc = 0.0 if b is None else float(b[oo])
            for cc in range(cg):
                for j in itertools.product(*(range(v) for v in k)):
                    pos = tuple(p[a] * s[a] + j[a] * d[a] - lo[a] for a in range(nd))
                    if all(0 <= pos[a] < size[a] for a in range(nd)):
                        acc += w[(oo, cc) + j] * x[(nn, g * cg + cc) + pos]
            y[(nn, oo) + p] = acc
    return y


def conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Each input element scatters x[n, c, p] * w[c, o, j] onto output p*s + j*d - padding."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    nd = x.ndim - 2
    s, d, pad, op = _tup(stride, nd), _tup(dilation, nd), _tup(padding, nd), _tup(output_padding, nd)
    n, cin = x.shape[:2]
    cog = w.shape[1]
    k = w.shape[2:]
    out = tuple((x.shape[2 + a] - 1) * s[a] - 2 * pad[a] + d[a] * (k[a] - 1) + op[a] + 1 for a in range(nd))
    cig = cin // groups
    y = np.zeros((n, cog * groups) + out)
    for nn, cc in itertools.product(range(n), range(cin)):
        g = cc // cig
        for p in itertools.product(*(range(v) for v in x.shape[2:])):
            for oo in range(cog):
                for j in itertools.product(*(range(v) for v in k)):
                    pos = tuple(p[a] * s[a] + j[a] * d[a] - pad[a] for a in range(nd))
                    if all(0 <= pos[a] < out[a] for a in range(nd)):
                        y[(nn, g * cog + oo) + pos] += x[(nn, cc) + p] * w[(cc, oo) + j]
    if b is not None:
        y += np.asarray(b, np.float64).reshape((1, -1) + (1,) * nd)
    return y


def _pool_out(size, k, s, d, p, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """(values, flat indices): per window, the first maximum in row-major scan of the real
    (non-padding) elements; NaN wins."""
    x = np.asarray(x, np.float64)
    nd = x.ndim - 2
    k = _tup(kernel_size, nd)
    s = k if stride is None else _tup(stride, nd)
    p, d = _tup(padding, nd), _tup(dilation, nd)
    size = x.shape[2:]
    out = tuple(_pool_out(size[a], k[a], s[a], d[a], p[a], ceil_mode) for a in range(nd))
    y = np.zeros(x.shape[:2] + out)
    idx = np.zeros(x.shape[:2] + out, dtype=np.int64)
    for nc in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for q in itertools.product(*(range(v) for v in out)):
            best, where = -np.inf, None
            for j in itertools.product(*(range(v) for v in k)):
                pos = tuple(q[a] * s[a] + j[a] * d[a] - p[a] for a in range(nd))
                if not all(0 <= pos[a] < size[a] for a in range(nd)):
                    continue
                v = x[nc + pos]
                if where is None or v > best or np.isnan(v):
                    best, where = v, pos
            y[nc + q] = best
            idx[nc + q] = np.ravel_multi_index(where, size)
    return y, idx


def avg_pool(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
    """Mean over each window; the divisor counts the padding (but not the part of a ceil-mode
    window past the padded input) unless count_include_pad is False."""
    x = np.asarray(x, np.float64)
    nd = x.ndim - 2
    k = _tup(kernel_size, nd)
    s = k if stride is None else _tup(stride, nd)
    p = _tup(padding, nd)
    size = x.shape[2:]
    out = tuple(_pool_out(size[a], k[a], s[a], 1, p[a], ceil_mode) for a in range(nd))
    y = np.zeros(x.shape[:2] + out)
    for nc in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for q in itertools.product(*(range(v) for v in out)):
            total, real, padded = 0.0, 0, 0
            for j in itertools.product(*(range(v) for v in k)):
                pos = tuple(q[a] * s[a] + j[a] - p[a] for a in range(nd))
                if all(-p[a] <= pos[a] < size[a] + p[a] for a in range(nd)):
                    padded += 1
                if all(0 <= pos[a] < size[a] for a in range(nd)):
                    total += x[nc + pos]
                    real += 1
            div = divisor_override or (padded if count_include_pad else real)
            y[nc + q] = total / div
    return y


def _adaptive_windows(size, out):
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_pool(x, output_size, reduce: str):
    """Adaptive average ('avg') or max ('max', returning values and flat indices) pooling over
    the windows [floor(i*S/P), ceil((i+1)*S/P)) of each axis."""
    x = np.asarray(x, np.float64)
    nd = x.ndim - 2
    out = _tup(output_size, nd)
    size = x.shape[2:]
    wins = [_adaptive_windows(size[a], out[a]) for a in range(nd)]
    y = np.zeros(x.shape[:2] + out)
    idx = np.zeros(x.shape[:2] + out, dtype=np.int64)
    for nc in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for q in itertools.product(*(range(v) for v in out)):
            ranges = [range(*wins[a][q[a]]) for a in range(nd)]
            vals = [(x[nc + pos], pos) for pos in itertools.product(*ranges)]
            if reduce == "avg":
                y[nc + q] = sum(v for v, _ in vals) / len(vals)
            else:
                best, where = vals[0]
                for v, pos in vals[1:]:
                    if v > best or np.isnan(v):
                        best, where = v, pos
                y[nc + q] = best
                idx[nc + q] = np.ravel_multi_index(where, size)
    return y if reduce == "avg" else (y, idx)


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """out[n, (c, i, j), l] = x_pad[n, c, ph*s + i*d, pw*s + j*d] with l = ph*Lw + pw."""
    x = np.asarray(x, np.float64)
    k, d, p, s = (_tup(v, 2) for v in (kernel_size, dilation, padding, stride))
    n, c, h, w = x.shape
    lh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    lw = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], lh * lw))
    for nn, cc, i, j, ph, pw in itertools.product(range(n), range(c), range(k[0]), range(k[1]), range(lh), range(lw)):
        r, q = ph * s[0] + i * d[0] - p[0], pw * s[1] + j * d[1] - p[1]
        if 0 <= r < h and 0 <= q < w:
            out[nn, (cc * k[0] + i) * k[1] + j, ph * lw + pw] = x[nn, cc, r, q]
    return out


def conv_matrix_2d(w, in_size, stride=1, padding=0):
    """The (doubly block-)Toeplitz matrix M of a single-channel 2-d convolution, built entry by
    entry from the kernel: conv(x).ravel() == M @ x.ravel()."""
    w = np.asarray(w, np.float64)
    kh, kw = w.shape
    h, wd = in_size
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (wd + 2 * padding - kw) // stride + 1
    m = np.zeros((oh * ow, h * wd))
    for ph, pw, r, q in itertools.product(range(oh), range(ow), range(h), range(wd)):
        i, j = r - ph * stride + padding, q - pw * stride + padding
        if 0 <= i < kh and 0 <= j < kw:
            m[ph * ow + pw, r * wd + q] = w[i, j]
    return m
