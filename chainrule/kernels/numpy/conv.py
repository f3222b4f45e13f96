"""Convolution, the ``conv`` family of the reference backend: ``forward``, ``input`` (the adjoint
in the input, i.e. the transposed convolution) and ``weight`` (the adjoint in the weight).

Each is matrix products per group over a column array of windows (``_Plan``): one GEMM per
group with all windows copied, or, for unit strides and more than one spatial axis, only the
windows along the trailing axes copied and the first axis' kernel offsets turned into row shifts
of that array, one GEMM per offset (the copy is ``k0`` times smaller and the GEMMs read their
slabs in place). Depthwise convolutions (one input channel per group) have GEMMs too small to
pay off and run as one broadcast multiply-add per kernel tap instead.

The batch goes through in chunks of about ``tuning.CONV_CHUNK_BYTES`` of columns, so that the copy and the
GEMMs reading it stay in the L2 cache, and GEMMs are cut to stay within OpenBLAS's
small-matrix kernel where that is faster (``gemm``, ``_chunk``). This backend never declines;
the compiled one (``kernels/numba/conv.py``) runs 1-D and 2-D float32/float64 convolutions
before it when it can. Figures behind the constants: ``docs/perf-log.md``.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from .._out import fits
from .._parallel import blas_single_threaded, parallel_for, parallel_sum, threads_for
from ..windows import (
    Window,
    col2im,
    crop,
    flat_phases,
    flat_taps,
    from_flat,
    merge_phases,
    pad_input,
    phase_shape,
    phases,
    to_flat,
)
from . import tuning


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

    def __init__(self, win: Window, groups: int, cg: int, weight_og: int | None = None):
        """``weight_og``: output channels per group when the plan is for the weight gradient,
        whose GEMMs fold the batch for larger outputs (it sums over the batch)."""
        self.win, self.groups = win, groups
        self.shift = (win.nd >= 2 and win.kernel[0] > 1 and all(s == 1 for s in win.stride)
                      and cg * math.prod(win.kernel[1:]) >= tuning.CONV_SHIFT_MIN_DEPTH)
        if self.shift:
            self.lead, self.rows = win.padded[0], win.out_size[0]
            self.copied = 1  # first kernel axis copied into the columns
            self.starts = [i * win.dilation[0] for i in range(win.kernel[0])]
        else:
            self.lead, self.rows, self.copied = 1, 1, 0
            self.starts = [0]
        self.rest = math.prod(win.out_size[self.copied:])
        p = math.prod(win.out_size)
        if weight_og is None:
            self.fold = p < tuning.CONV_FOLD_BELOW
        else:
            depth = cg * math.prod(win.kernel[self.copied:])
            fold_below = tuning.CONV_FOLD_BELOW
            self.fold = p < 4 * fold_below or (p < 16 * fold_below and weight_og * depth >= tuning.CONV_WIDE_GEMM)
        self._buffers: dict = {}

    def buffer(self, xp, name: str, shape: tuple, dtype, zero: bool = False):
        """A work array that lives as long as the plan (one operator call), shared by the chunks
        of the batch instead of one allocation per chunk (with ``zero``, a padding border is
        written once, not once per chunk; measured 1-3% per convolution). One set per thread:
        chunks run in parallel (``_parallel``)."""
        key = (name, tuple(shape), dtype, threading.get_ident())
        buf = self._buffers.get(key)
        if buf is None:
            buf = (xp.zeros if zero else xp.empty)(shape, dtype=dtype)
            self._buffers[key] = buf
        return buf

    def columns(self, xp, x):
        """The column array (see the class doc), contiguous."""
        win, g, a0 = self.win, self.groups, self.copied
        n, c = x.shape[:2]
        cg = c // g
        kc = tuple(win.kernel[a0:])
        pc = tuple(win.out_size[a0:])
        # one copy of a strided view of the padded input, for any stride (measured 0.18 ms
        # against 1.35 ms for a phase split and a copy per kernel offset, 3x3 stride 2 on
        # (7, 16, 32, 32)); the padded chunk's zero border is written once per call
        xq = pad_input(xp, x, win, out=lambda shape: self.buffer(xp, "pad", shape, x.dtype, zero=True))
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
        cols = self.buffer(xp, "cols", shape, x.dtype)
        xp.copyto(cols, xp.lib.stride_tricks.as_strided(xq, shape, strides))
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




def gemm(xp, a, b, out=None):
    """``matmul(a, b)`` (batched), cut along the rows of ``a`` into blocks of a multiple of 8
    rows when that brings each product within the small-matrix limit (``tuning.SMALL_GEMM_MNK``):
    measured 109 against 85 GFLOP/s for 7 x (32 x 144) @ (144 x 256), 110 against 95 for
    4 x (64 x 192) @ (192 x 256); larger products cut this way got slower."""
    m, k = a.shape[-2:]
    n = b.shape[-1]
    limit = tuning.SMALL_GEMM_MNK
    step = limit // max(1, k * n) // 8 * 8
    if step < 8 or step >= m or m * k * n <= limit:
        return xp.matmul(a, b, out=out)
    if out is None:
        lead = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        out = xp.empty(lead + (m, n), dtype=xp.result_type(a, b))
    for r in range(0, m, step):
        xp.matmul(a[..., r:r + step, :], b, out=out[..., r:r + step, :])
    return out


def samples_per_chunk(per_sample: int, threads: int = 1) -> int:
    """Samples per chunk of the batch when one sample's columns take ``per_sample`` bytes: as
    many as keep a chunk under ``CONV_CHUNK_BYTES`` (``CONV_PARALLEL_CHUNK_BYTES`` when the chunks run on
    several threads), at least one."""
    limit = tuning.CONV_CHUNK_BYTES if threads == 1 else tuning.CONV_PARALLEL_CHUNK_BYTES
    return max(1, limit // max(1, per_sample))


def _split_batch(xp, n: int, per_sample: int, macs_per_sample: int) -> tuple:
    """(samples per chunk, threads) for a batch of ``n`` samples whose columns take
    ``per_sample`` bytes each and whose GEMMs do ``macs_per_sample`` multiply-adds each: the
    threads of ``_parallel.threads_for``, or 1 when the samples are too small to pay for the
    hand-offs (``tuning.CONV_PARALLEL_MIN_MACS``), and chunks small enough that each thread gets one."""
    threads = threads_for(xp, n * per_sample) if macs_per_sample >= tuning.CONV_PARALLEL_MIN_MACS else 1
    return min(samples_per_chunk(per_sample, threads), -(-n // threads)), threads


def _spans(lo: int, hi: int, nb: int):
    """(start, stop) of the chunks of ``nb`` samples that cover samples ``lo:hi``."""
    return ((s, min(hi, s + nb)) for s in range(lo, hi, nb))


def _chunks(xp, plan: _Plan, x, o: int) -> tuple:
    """``_split_batch`` for the column array of ``plan`` over ``x`` and ``o`` output channels.

    Folded GEMMs with few output channels are also kept within OpenBLAS's small-matrix kernel
    (``M*N*K <= tuning.SMALL_GEMM_MNK``): measured 95 GFLOP/s for (6 x 25) @ (25 x 6272) against 48
    for (6 x 25) @ (25 x 7000), which is past the limit and goes through the packing kernel.
    """
    win, cg = plan.win, x.shape[1] // plan.groups
    per_sample = x.shape[1] * math.prod(win.kernel[plan.copied:]) * plan.lead * plan.rest * x.dtype.itemsize
    nb, threads = _split_batch(xp, x.shape[0], per_sample, o * cg * math.prod(win.kernel) * math.prod(win.out_size))
    og = o // plan.groups
    if plan.fold and og < tuning.CONV_SMALL_GEMM_BELOW:
        depth = cg * math.prod(win.kernel[plan.copied:])
        nb = min(nb, max(1, tuning.SMALL_GEMM_MNK // (og * depth * plan.rows * plan.rest)))
    return nb, threads


@blas_single_threaded
def forward(xp, x, w, win: Window, groups: int, out=None):
    """``Y = conv(X, W)``: (N, C, *S), (O, C/g, *K) -> (N, O, *P); into ``out`` where it fits
    (``_out.py``) and the layout writes there directly.

    The batch goes through in chunks whose column array fits in the L2 cache, so the copy and
    the GEMMs reading it do not go to memory (LeNet's 1->6 5x5 forward at batch 256: 1.9 ms
    against 3.8 ms for the whole batch at once).
    """
    if depthwise(w.shape[1], w.shape[0] // groups, groups):
        return depthwise_forward(xp, x, w, win, groups)
    plan = _Plan(win, groups, w.shape[1])
    wk = plan.weights(xp, w)
    n = x.shape[0]
    nb, threads = _chunks(xp, plan, x, w.shape[0])
    shape = (n, w.shape[0]) + tuple(win.out_size)
    if not fits(out, shape, x.dtype, x):
        out = None
    if nb >= n:  # one chunk: into ``out`` only where its GEMMs write there (no copy added)
        return _forward_chunk(xp, plan, x, wk, None if plan.fold else out)
    y = xp.empty(shape, dtype=x.dtype) if out is None else out

    def part(lo, hi):  # samples lo:hi, one part per thread, in chunks
        for s, e in _spans(lo, hi, nb):
            _forward_chunk(xp, plan, x[s:e], wk, y[s:e])

    parallel_for(part, n, threads)
    return y


def _forward_chunk(xp, plan: _Plan, x, wk, out=None):
    """The convolution of a chunk of the batch, into ``out`` (N, O, *P) if given (the
    per-sample layout writes its GEMMs there directly, saving a copy of the output)."""
    cols = plan.columns(xp, x)
    direct = out is not None and not plan.fold
    # (N, G, Og, P): the per-sample GEMM layout of out, a view
    yt = out.reshape((x.shape[0],) + wk.shape[1:-1] + (-1,)) if direct else None
    tmp = None
    for i in range(len(plan.starts)):
        if i == 0:
            yt = gemm(xp, wk[i], plan.slab(cols, i), out=yt)
        else:
            tmp = gemm(xp, wk[i], plan.slab(cols, i), out=tmp)
            yt += tmp
    del cols, tmp
    if direct:
        return out
    y = plan.from_gemm(xp, yt, x.shape[0])
    if out is not None:
        out[...] = y
    return y


@blas_single_threaded
def input(xp, gy, w, win: Window, groups: int, out=None):
    """``X = conv_input(Y, W)``, the adjoint of ``conv`` in X: (N, O, *P), (O, C/g, *K) -> (N, C, *S).

    Unit strides: a convolution of ``Y`` with the kernel flipped (``input_as_forward``), whose
    GEMMs have the long inner dimension O*k (measured 14 ms against 25 ms for GEMM + col2im at
    the probe size). Other strides: one GEMM into columns, then ``col2im``.
    """
    n, o = gy.shape[:2]
    cg = w.shape[1]
    c = cg * groups
    k = tuple(win.kernel)
    if depthwise(cg, o // groups, groups):
        return depthwise_input(xp, gy, w, win, groups)
    if all(s == 1 for s in win.stride):
        return forward(xp, *input_as_forward(xp, gy, w, win, groups), groups, out=out)
    plan = _Plan(win, groups, cg)
    wkt = xp.ascontiguousarray(w.reshape(groups, o // groups, -1).swapaxes(-1, -2))
    per_sample = c * math.prod(k) * math.prod(win.out_size) * gy.dtype.itemsize
    nb, threads = _split_batch(xp, n, per_sample, o * cg * math.prod(k) * math.prod(win.out_size))
    if nb >= n:
        return _input_chunk(xp, plan, gy, wkt, c)
    shape = (n, c) + tuple(win.in_size)
    gx = out if fits(out, shape, gy.dtype, gy) else xp.empty(shape, dtype=gy.dtype)

    def part(lo, hi):  # chunks of the batch, as in forward
        for s, e in _spans(lo, hi, nb):
            gx[s:e] = _input_chunk(xp, plan, gy[s:e], wkt, c)

    parallel_for(part, n, threads)
    return gx


def input_as_forward(xp, gy, w, win: Window, groups: int) -> tuple[Any, Any, Window]:
    """``(Y', W', window)`` with ``conv_input(Y, W) = conv(Y', W')`` over ``window``, for unit
    strides: ``X[i] = sum_j W[j] Y[i + lo - j*d]`` is a convolution of ``Y`` with the kernel
    flipped and its channel axes swapped (front padding ``d(k-1) - lo``; a front padding below
    zero drops leading elements of Y instead)."""
    o, cg = w.shape[:2]
    k = tuple(win.kernel)
    og = o // groups
    flip = (slice(None),) * 3 + (slice(None, None, -1),) * win.nd
    wf = w.reshape((groups, og, cg) + k).transpose((0, 2, 1) + tuple(range(3, 3 + win.nd)))[flip]
    wf = xp.ascontiguousarray(wf).reshape((cg * groups, og) + k)
    front = tuple(d * (kk - 1) - lo for kk, d, lo in zip(k, win.dilation, win.pad))
    gy = gy[(Ellipsis,) + tuple(slice(max(0, -f), None) for f in front)]
    flipped = Window(tuple(gy.shape[2:]), tuple(win.in_size), k, win.stride, win.dilation,
                     tuple(max(0, f) for f in front))
    return gy, wf, flipped


def _input_chunk(xp, plan: _Plan, gy, wkt, c: int):
    """One GEMM into columns, then ``col2im``, for a chunk of the batch."""
    win, groups = plan.win, plan.groups
    n = gy.shape[0]
    k, nd, p = tuple(win.kernel), win.nd, tuple(win.out_size)
    cols = gemm(xp, wkt, plan.to_gemm(xp, gy))  # (G, Cg*K, N*P) or (N, G, Cg*K, P)
    if plan.fold:
        cols = cols.reshape((groups, c // groups) + k + (n,) + p)
        cols = cols.transpose((2 + nd, 0, 1) + tuple(range(2, 2 + nd)) + tuple(range(3 + nd, 3 + 2 * nd)))
    return col2im(xp, cols.reshape((n, c) + k + p), win,
                  work=lambda shape: plan.buffer(xp, "col2im", shape, gy.dtype))


@blas_single_threaded
def weight(xp, x, gy, win: Window, groups: int, cg: int):
    """``W = conv_weight(X, Y)``, the adjoint of ``conv`` in W: (N, C, *S), (N, O, *P) -> (O, C/g, *K)."""
    if depthwise(cg, gy.shape[1] // groups, groups):
        return depthwise_weight(xp, x, gy, win, groups)
    o = gy.shape[1]
    plan = _Plan(win, groups, cg, o // groups)
    n = x.shape[0]
    nb, threads = _chunks(xp, plan, x, o)

    def part(lo, hi):  # chunks of the batch, as in forward; a sum per part
        gwk = tmp = None
        for s, e in _spans(lo, hi, nb):
            chunk = _weight_chunk(xp, plan, x[s:e], gy[s:e], tmp)
            if gwk is None:
                gwk, tmp = chunk, None
            else:
                gwk += chunk
                tmp = chunk
        return gwk

    return plan.fold_weights(parallel_sum(part, n, threads), o, cg)


def _weight_chunk(xp, plan: _Plan, x, gy, out=None):
    """(shifts, G, Og, depth): one chunk's share of the weight gradient (into ``out`` if given)."""
    cols = plan.columns(xp, x)
    gyt = plan.to_gemm(xp, gy)
    o = gy.shape[1]
    if out is None:
        out = xp.empty((len(plan.starts), plan.groups, o // plan.groups, cols.shape[-3]), dtype=x.dtype)
    # measured: (cols @ gy^T)^T runs 10-20% faster than gy @ cols^T when both matrices of the
    # product are large ((8, 64, 56, 56) 3x3: 24.0 against 27.5 ms), slower for small ones
    small = tuning.CONV_SMALL_GEMM_BELOW
    swap = o // plan.groups >= small and cols.shape[-3] >= 2 * small
    for i in range(len(plan.starts)):
        # inner dimension: the output positions (of all samples when folded, else summed after)
        if swap:
            prod = gemm(xp, plan.slab(cols, i), gyt.swapaxes(-1, -2)).swapaxes(-1, -2)
        else:
            prod = gemm(xp, gyt, plan.slab(cols, i).swapaxes(-1, -2), out=None if not plan.fold else out[i])
        if not plan.fold:
            prod.sum(axis=0, out=out[i])
        elif swap:
            out[i] = prod
    return out


# ---- depthwise: one input channel per group ---------------------------------------------------


def depthwise(cg: int, og: int, groups: int) -> bool:
    """Whether the per-tap algorithms apply: one input and one output channel per group."""
    return tuning.CONV_DEPTHWISE_PER_TAP and cg == 1 and og == 1 and groups > 1




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
    gph = xp.zeros(phase_shape((n, c), win), dtype=gy.dtype)
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
