"""Batch norm's compiled loops over channels ``lo:hi`` in the (N, C, L) layout
(``norm.py`` says why and what they compute; ``kernels/numpy/norm.py`` is the
reference). Sums are accumulated in float64 whatever the dtype."""

from __future__ import annotations

import numpy as np

from ._compile import jit

# reassociation lets LLVM vectorise the float64 sums; no other fast-math flag, so NaN and
# infinities propagate as in NumPy
_jit = jit(nogil=True, fastmath={"reassoc", "contract"})


@_jit
def forward(x, w, b, eps, step, y, stats, lo, hi):
    n, _, length = x.shape
    inv = 1.0 / (n * length)
    co = np.empty(2, dtype=x.dtype)  # the output's scale and offset, rounded to x's dtype
    for c in range(lo, hi):
        s0 = 0.0
        m = 0
        for i in range(0, n, step):
            m += 1
            row = x[i, c]
            for t in range(length):
                s0 += row[t]
        stats[0, c] = s0 / (m * length)
        shift = stats[0, c]  # rounded to x's dtype
        s1 = 0.0
        s2 = 0.0
        for i in range(n):
            row = x[i, c]
            for t in range(length):
                v = np.float64(row[t] - shift)  # centred in x's dtype, as the reference
                s1 += v
                s2 += v * v
        delta = s1 * inv
        var = max(s2 * inv - delta * delta, 0.0)
        rstd = 1.0 / np.sqrt(var + eps)
        co[0] = rstd * w[c]
        co[1] = b[c] - delta * rstd * w[c]
        scale, offset = co[0], co[1]
        for i in range(n):
            row = x[i, c]
            out = y[i, c]
            for t in range(length):
                out[t] = (row[t] - shift) * scale + offset
        stats[1, c] = delta
        stats[2, c] = var
        stats[3, c] = rstd
    return 0

@_jit
def backward(g, x, shift, delta, rstd, w, need_input, gx, sums, lo, hi):
    n, _, length = x.shape
    inv = 1.0 / (n * length)
    co = np.empty(3, dtype=x.dtype)  # gx's coefficients, rounded to x's dtype
    for c in range(lo, hi):
        sh = shift[c]
        s1 = 0.0
        s2 = 0.0
        for i in range(n):
            gr = g[i, c]
            xr = x[i, c]
            for t in range(length):
                gv = np.float64(gr[t])
                s1 += gv
                s2 += gv * np.float64(xr[t] - sh)
        de = np.float64(delta[c])
        rs = np.float64(rstd[c])
        dw = (s2 - de * s1) * rs  # sum(g * x_hat)
        sums[0, c] = dw
        sums[1, c] = s1
        if not need_input:
            continue
        wc = np.float64(w[c])
        a = rs * wc
        b1 = -(rs * rs) * dw * wc * inv
        c0 = -a * s1 * inv - de * b1
        co[0] = a
        co[1] = b1
        co[2] = c0
        a_t, b1_t, c0_t = co[0], co[1], co[2]
        for i in range(n):
            gr = g[i, c]
            xr = x[i, c]
            out = gx[i, c]
            for t in range(length):
                out[t] = a_t * gr[t] + b1_t * (xr[t] - sh) + c0_t
    return 0
