"""Raw-array algorithms of the three convolution operators (see ``conv.py``).

Each is matrix products per group over a column array of windows (``_Plan``): one GEMM per
group with all windows copied, or, for unit strides and more than one spatial axis, only the
windows along the trailing axes copied and the first axis' kernel offsets turned into row shifts
of that array, one GEMM per offset (the copy is ``k0`` times smaller and the GEMMs read their
slabs in place: 14 ms against 20 ms for a 3x3 conv of (8, 64, 56, 56) in float32). Depthwise
convolutions (one input channel per group) have GEMMs too small to pay off and run as one
broadcast multiply-add per kernel tap instead.
"""

from __future__ import annotations

import math

from ._windows import (
    Window,
    col2im,
    crop,
    flat_phases,
    flat_taps,
    from_flat,
    merge_phases,
    pad_input,
    phases,
    taps,
    to_flat,
)


class _Plan:
    """How a convolution is laid out for its GEMMs.

    The column array holds the windows along the copied kernel axes ``kc``: ``(N, G, Cg *
    prod(kc), lead, rest)``, or with the batch folded into the GEMMs' long dimension ``(G, Cg *
    prod(kc), lead, N * rest)`` when there are few output positions per sample (then one large GEMM
    per group beats N small ones; with many positions per sample the per-sample layout saves two
    transposes). With unit strides, more than one axis and GEMMs deep enough, the first axis is
    padded but not windowed (``lead`` = its padded length): its kernel offsets become shifts by
    whole rows of the column array, so the copy is ``k0`` times smaller and each GEMM reads its
    slab in place. Otherwise all axes are windowed and ``lead`` is 1.
    """

    def __init__(self, win: Window, groups: int, cg: int):
        self.win, self.groups = win, groups
        self.shift = (win.nd >= 2 and win.kernel[0] > 1 and all(s == 1 for s in win.stride)
                      and cg * math.prod(win.kernel[1:]) >= SHIFT_MIN_DEPTH)
        if self.shift:
            self.lead, self.rows = win.padded[0], win.out_size[0]
            self.copied = 1  # first kernel axis copied into the columns
            self.starts = [i * win.dilation[0] for i in range(win.kernel[0])]
        else:
            self.lead, self.rows, self.copied = 1, 1, 0
            self.starts = [0]
        self.rest = math.prod(win.out_size[self.copied:])
        self.fold = math.prod(win.out_size) < FOLD_BELOW

    def columns(self, xp, x):
        """The column array (see the class doc), contiguous."""
        win, g, a0 = self.win, self.groups, self.copied
        n, c = x.shape[:2]
        cg = c // g
        kc = tuple(win.kernel[a0:])
        pc = tuple(win.out_size[a0:])
        if any(s > 1 for s in win.stride):
            # strided windows: one unit-step copy per kernel offset from the phase split (the
            # strided view copied at once was measured ~30% slower)
            shape = ((g, cg) + kc + (n,) + pc) if self.fold else ((n, g, cg) + kc + pc)
            cols = xp.empty(shape, dtype=x.dtype)
            for off, v in taps(phases(xp, x, win), win):
                v = v.reshape((n, g, cg) + pc)
                if self.fold:
                    cols[(slice(None), slice(None)) + off] = v.transpose((1, 2, 0) + tuple(range(3, 3 + len(pc))))
                else:
                    cols[(slice(None),) * 3 + off] = v
        else:
            xq = pad_input(xp, x, win)
            st = xq.strides
            ax = range(a0, win.nd)
            kst = tuple(st[2 + a] * win.dilation[a] for a in ax)
            pst = tuple(st[2 + a] * win.stride[a] for a in ax)
            lead_st = st[2] if self.shift else 0
            if self.fold:
                shape = (g, cg) + kc + (self.lead, n) + pc
                strides = (cg * st[1], st[1]) + kst + (lead_st, st[0]) + pst
            else:
                shape = (n, g, cg) + kc + (self.lead,) + pc
                strides = (st[0], cg * st[1], st[1]) + kst + (lead_st,) + pst
            cols = xp.ascontiguousarray(xp.lib.stride_tricks.as_strided(xq, shape, strides))
        depth = cg * math.prod(kc)
        lead = (g, depth) if self.fold else (n, g, depth)
        return cols.reshape(lead + (self.lead, -1))

    def slab(self, cols, i: int):
        """What shift ``i`` multiplies: (G, Cg * prod(kc), rows * N * rest) or (N, G, ., rows * rest)."""
        a = self.starts[i]
        return cols[..., a:a + self.rows, :].reshape(cols.shape[:-2] + (-1,))

    def weights(self, xp, w):
        """(shifts, G, Og, Cg * prod(kc)): the weight matrix of each shift."""
        g = self.groups
        o, cg = w.shape[:2]
        if not self.shift:
            return w.reshape(1, g, o // g, -1)
        k0 = w.shape[2]
        w5 = w.reshape(g, o // g, cg, k0, -1).transpose(3, 0, 1, 2, 4)
        return xp.ascontiguousarray(w5).reshape(k0, g, o // g, -1)

    def fold_weights(self, gwk, o: int, cg: int):
        """Inverse of ``weights``: (shifts, G, Og, Cg * prod(kc)) -> (O, Cg, *K)."""
        g, k = self.groups, self.win.kernel
        if not self.shift:
            return gwk.reshape((o, cg) + tuple(k))
        k0 = gwk.shape[0]
        return gwk.reshape(k0, g, o // g, cg, -1).transpose(1, 2, 3, 0, 4).reshape((o, cg) + tuple(k))

    def to_gemm(self, xp, y):
        """(N, O, *P) -> the GEMM layout of an output-shaped array, (G, Og, P0 * N * rest) or
        (N, G, Og, P)."""
        n, o = y.shape[:2]
        g = self.groups
        if not self.fold:
            return y.reshape(n, g, o // g, -1)
        t = y.reshape(n, g, o // g, self.rows, self.rest).transpose(1, 2, 3, 0, 4)
        return xp.ascontiguousarray(t).reshape(g, o // g, -1)

    def from_gemm(self, xp, yt, n: int):
        """The inverse of ``to_gemm``."""
        g, og = yt.shape[-3], yt.shape[-2]
        if self.fold:
            yt = xp.ascontiguousarray(yt.reshape(g, og, self.rows, n, self.rest).transpose(3, 0, 1, 2, 4))
        return yt.reshape((n, g * og) + tuple(self.win.out_size))


# the shift layout needs GEMMs of depth Cg * prod(k[1:]) at least this
SHIFT_MIN_DEPTH = 8
# the batch is folded into the GEMMs below this many output positions per sample (measured:
# (8, 512, 7, 7) 3x3 is 23% faster folded; (32, 3, 32, 32) and (8, 64, 56, 56) are faster per sample)
FOLD_BELOW = 1024


def conv_forward(xp, x, w, win: Window, groups: int):
    """``Y = conv(X, W)``: (N, C, *S), (O, C/g, *K) -> (N, O, *P)."""
    if depthwise(w.shape[1], w.shape[0] // groups, groups):
        return depthwise_forward(xp, x, w, win, groups)
    plan = _Plan(win, groups, w.shape[1])
    cols = plan.columns(xp, x)
    wk = plan.weights(xp, w)
    yt = tmp = None
    for i in range(len(plan.starts)):
        if yt is None:
            yt = xp.matmul(wk[i], plan.slab(cols, i))
        else:
            tmp = xp.matmul(wk[i], plan.slab(cols, i), out=tmp)
            yt += tmp
    del cols, tmp
    return plan.from_gemm(xp, yt, x.shape[0])


def conv_input(xp, gy, w, win: Window, groups: int):
    """``X = conv_input(Y, W)``, the adjoint of ``conv`` in X: (N, O, *P), (O, C/g, *K) -> (N, C, *S).

    Unit strides: ``X[i] = sum_j W[j] Y[i + lo - j*d]`` is itself a convolution of ``Y`` with the
    kernel flipped and its channel axes swapped (front padding ``d(k-1) - lo``), whose GEMMs have
    the long inner dimension O*k (measured 14 ms against 25 ms for GEMM + col2im at the probe
    size). Other strides: one GEMM into columns, then ``col2im``.
    """
    n, o = gy.shape[:2]
    cg = w.shape[1]
    c = cg * groups
    k = tuple(win.kernel)
    if depthwise(cg, o // groups, groups):
        return depthwise_input(xp, gy, w, win, groups)
    if all(s == 1 for s in win.stride):
        og = o // groups
        flip = (slice(None),) * 3 + (slice(None, None, -1),) * win.nd
        wf = w.reshape((groups, og, cg) + k).transpose((0, 2, 1) + tuple(range(3, 3 + win.nd)))[flip]
        wf = xp.ascontiguousarray(wf).reshape((c, og) + k)
        front = tuple(d * (kk - 1) - lo for kk, d, lo in zip(k, win.dilation, win.pad))
        # a front padding below zero drops leading elements of Y instead
        gy = gy[(Ellipsis,) + tuple(slice(max(0, -f), None) for f in front)]
        flipped = Window(tuple(gy.shape[2:]), tuple(win.in_size), k, win.stride, win.dilation,
                         tuple(max(0, f) for f in front))
        return conv_forward(xp, gy, wf, flipped, groups)
    plan = _Plan(win, groups, cg)
    wkt = xp.ascontiguousarray(w.reshape(groups, o // groups, -1).swapaxes(-1, -2))
    cols = xp.matmul(wkt, plan.to_gemm(xp, gy))  # (G, Cg*K, N*P) or (N, G, Cg*K, P)
    nd, p = win.nd, tuple(win.out_size)
    if plan.fold:
        cols = cols.reshape((groups, cg) + k + (n,) + p)
        cols = cols.transpose((2 + nd, 0, 1) + tuple(range(2, 2 + nd)) + tuple(range(3 + nd, 3 + 2 * nd)))
    return col2im(xp, cols.reshape((n, c) + k + p), win)


def conv_weight(xp, x, gy, win: Window, groups: int, cg: int):
    """``W = conv_weight(X, Y)``, the adjoint of ``conv`` in W: (N, C, *S), (N, O, *P) -> (O, C/g, *K)."""
    if depthwise(cg, gy.shape[1] // groups, groups):
        return depthwise_weight(xp, x, gy, win, groups)
    plan = _Plan(win, groups, cg)
    o = gy.shape[1]
    cols = plan.columns(xp, x)
    gyt = plan.to_gemm(xp, gy)
    gwk = xp.empty((len(plan.starts), groups, o // groups, cols.shape[-3]), dtype=x.dtype)
    for i in range(len(plan.starts)):
        # inner dimension: the output positions (of all samples when folded, else summed after)
        prod = xp.matmul(gyt, plan.slab(cols, i).swapaxes(-1, -2), out=None if not plan.fold else gwk[i])
        if not plan.fold:
            prod.sum(axis=0, out=gwk[i])
    return plan.fold_weights(gwk, o, cg)


# ---- depthwise: one input channel per group ---------------------------------------------------


def depthwise(cg: int, og: int, groups: int) -> bool:
    """Whether the per-tap algorithms apply: one input and one output channel per group."""
    return DEPTHWISE and cg == 1 and og == 1 and groups > 1


# measured (8, 64, 56, 56) 3x3 depthwise, forward + backward: 31 ms per tap against 45 ms with
# GEMMs; with two output channels per group, or a single group, the GEMMs were faster
DEPTHWISE = True


def depthwise_forward(xp, x, w, win: Window, groups: int):
    """``y[n, c, p] = sum_j w[c, 0, j] * xpad[n, c, p*s + j*d]``, one multiply-add per tap over
    flat runs of the phase split."""
    n, c = x.shape[:2]
    wk = w.reshape(1, c, -1, 1)  # (1, C, K, 1)
    y = tmp = None
    for t, (_, v) in enumerate(flat_taps(flat_phases(phases(xp, x, win), win), win)):
        if y is None:
            y = v * wk[:, :, t]
        else:
            tmp = xp.multiply(v, wk[:, :, t], out=tmp)
            y += tmp
    return from_flat(xp, y, win)


def depthwise_input(xp, gy, w, win: Window, groups: int):
    """The adjoint of ``depthwise_forward`` in x: tap j adds ``w[c, 0, j] * gy[n, c, p]`` back onto
    the input position it read."""
    n, c = gy.shape[:2]
    gyf = to_flat(xp, gy, win)
    wk = w.reshape(1, c, -1, 1)
    gph = xp.zeros((n, c) + tuple(win.stride) + tuple(win.phased), dtype=gy.dtype)
    tmp = None
    for t, (_, v) in enumerate(flat_taps(flat_phases(gph, win), win)):
        tmp = xp.multiply(gyf, wk[:, :, t], out=tmp)
        v += tmp
    return crop(xp, merge_phases(xp, gph, win), win)


def depthwise_weight(xp, x, gy, win: Window, groups: int):
    """The adjoint of ``depthwise_forward`` in w: ``gw[c, 0, j] = sum_{n,p} gy[n, c, p] *
    xpad[n, c, p*s + j*d]`` (zeros in the flat runs' gaps keep the gaps out of the sums)."""
    n, c = gy.shape[:2]
    gyf = to_flat(xp, gy, win)
    gw = xp.empty((c, math.prod(win.kernel)), dtype=x.dtype)
    tmp = None
    for t, (_, v) in enumerate(flat_taps(flat_phases(phases(xp, x, win), win), win)):
        tmp = xp.multiply(gyf, v, out=tmp)
        gw[:, t] = tmp.sum(axis=2).sum(axis=0)
    return gw.reshape((c, 1) + tuple(win.kernel))
